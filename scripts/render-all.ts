// Renders every shipped stack (Pulumi.*.yaml) of a checkout into one folder, so two checkouts
// can be compared with `diff -r` (a refactoring that must not change behaviour):
//   <out>/kubernetes/<stack>/...   scripts/render (manifests, nginx.conf in its ConfigMap, create-secrets.sh)
//   <out>/compose/<stack>/...      scripts/render-compose (compose file, mounted files incl. nginx.conf)
//   <out>/helm/<values>.yaml       helm template of charts/chatapi with each charts/chatapi/ci/*.yaml
//   <out>/graph/<stack>.json       the Pulumi program under runtime mocks: every resource's URN,
//                                  aliases, dependencies and inputs (what `pulumi up` would diff)
// Each checkout renders with its own scripts and modules (--root), so the folder of an older
// commit is made by that commit's code. Generated secrets differ per run: --secrets-from reuses
// another output's (and its TLS certificate) so the two renders can be equal byte for byte.
//   scripts/render-all --root DIR --out DIR [--secrets-from DIR]
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseCommandLine, usageError } from "./lib/cli-args";

const usage = "usage: scripts/render-all --root CHECKOUT --out DIR [--secrets-from DIR] [--helm PATH]";
const { values } = parseCommandLine("render-all", usage, {
  options: {
    root: { type: "string", default: resolve(__dirname, "..") },
    out: { type: "string" },
    "secrets-from": { type: "string" },
    /** Default: the helm that scripts/pulumi-toolchain builds into the tool cache. */
    helm: { type: "string" },
  },
});
if (!values.out) usageError("render-all", "--out is required", usage);
const root = resolve(values.root);
const out = resolve(values.out);
const from = values["secrets-from"] ? resolve(values["secrets-from"]) : undefined;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const stacks = readdirSync(root)
  .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
  .filter((stack): stack is string => stack !== undefined)
  .sort();
const targetOf = (stack: string) =>
  /chatapi:target:\s*(\w+)/.exec(readFileSync(join(root, `Pulumi.${stack}.yaml`), "utf8"))?.[1];
const run = (command: string, args: string[]) =>
  execFileSync(command, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });

// One TLS certificate for stacks whose config provides it (kept with the output for --secrets-from).
const tls = join(out, "tls");
if (from) cpSync(join(from, "tls"), tls, { recursive: true });
else {
  mkdirSync(tls);
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=chat.example.com"],
      ...[
        "-addext",
        "subjectAltName=DNS:chat.example.com,DNS:chat.ci.example.com,DNS:chatapi.kind.test,DNS:chatapi.localcluster.test",
        "-keyout",
        join(tls, "key.pem"),
      ],
      ...["-out", join(tls, "cert.pem")],
    ],
    { stdio: "ignore" },
  );
}
const tlsSecrets = { tlsCertificate: join(tls, "cert.pem"), tlsPrivateKey: join(tls, "key.pem") };
// The same as config secrets, for the helpers (a file: never on a command line).
const tlsJson = join(tls, "secrets.json");
writeFileSync(
  tlsJson,
  JSON.stringify(
    Object.fromEntries(Object.entries(tlsSecrets).map(([key, path]) => [key, readFileSync(path, "utf8")])),
  ),
  { mode: 0o600 },
);
const tsx = join(root, "node_modules", ".bin", "tsx");
/** Stacks whose certificate comes from config (tls.mode provided, the production default on Docker). */
const providesTls = (stack: string) =>
  /mode:\s*provided|target:\s*docker[\s\S]*environment:\s*production/.test(
    readFileSync(join(root, `Pulumi.${stack}.yaml`), "utf8"),
  );

for (const stack of stacks) {
  if (targetOf(stack) === "kubernetes") {
    if (providesTls(stack)) {
      // scripts/render cannot read config secrets: the same builders, given the certificate.
      const dir = join(out, "kubernetes", stack, "kubernetes");
      run(tsx, [join(__dirname, "lib", "render-kubernetes-of.ts"), root, stack, tlsJson, dir]);
    } else run(join(root, "scripts", "render"), ["--stack", stack, "--out", join(out, "kubernetes")]);
    continue;
  }
  // The compose file names its own path: render in one fixed folder, then copy it out.
  const dir = join(tmpdir(), "chatapi-render-all", stack);
  rmSync(dir, { recursive: true, force: true });
  if (from) {
    // Only what a render generates once and keeps: the files it writes must come from this render.
    mkdirSync(dir, { recursive: true });
    for (const kept of ["secrets", "state.json", "ca.pem"])
      if (existsSync(join(from, "compose", stack, kept)))
        cpSync(join(from, "compose", stack, kept), join(dir, kept), { recursive: true });
  }
  const secretFiles = providesTls(stack)
    ? Object.entries(tlsSecrets).flatMap(([key, path]) => ["--secret-file", `${key}=${path}`])
    : [];
  run(join(root, "scripts", "render-compose"), ["--stack", stack, "--out", dir, ...secretFiles]);
  cpSync(dir, join(out, "compose", stack), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
}

// The mock graph of each stack, by a child process that loads the checkout's own modules.
mkdirSync(join(out, "graph"));
for (const stack of stacks) {
  const graph = run(tsx, [
    join(__dirname, "lib", "mock-graph.ts"),
    root,
    stack,
    ...(providesTls(stack) ? [tlsJson] : []),
  ]);
  writeFileSync(join(out, "graph", `${stack}.json`), graph);
}
const cache = process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");
const helmVersion = /^HELM_VERSION=(\S+)$/m.exec(
  readFileSync(join(root, "scripts", "toolchain-versions"), "utf8"),
)?.[1];
const helm = values.helm ?? join(cache, `helm-${helmVersion}`, "bin", "helm");
if (values.helm === "none") {
  console.log("helm template: skipped (--helm none)");
  process.exit(0);
}
if (!existsSync(helm))
  throw new Error(`${helm} is missing: scripts/pulumi-toolchain build --only helm builds it`);
const chartValues = join(root, "charts", "chatapi", "ci");
mkdirSync(join(out, "helm"));
for (const file of readdirSync(chartValues).sort()) {
  const rendered = run(helm, [
    ...["template", "chatapi", join(root, "charts", "chatapi"), "--namespace", "chatapi"],
    ...["-f", join(chartValues, file)],
  ]);
  writeFileSync(join(out, "helm", file), rendered);
}

console.log(`${out}: ${stacks.length} stacks (${stacks.join(", ")})`);
