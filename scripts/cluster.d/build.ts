// `scripts/cluster build`: the cluster's Debian packages, its binaries built from the Go module
// proxy (never downloaded as binaries) into <cache>/<tool>-<version>/, and its own small images
// in the local Docker engine (there is no registry).
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { type ClusterConfig, KUBE_BINARIES } from "./config";
import { output, run, succeeds } from "../../toolbox/exec";
import { die, say, seconds, step, stepEnd } from "./log";

/** Debian packages the node needs (installed with apt-get when one is missing). */
export const DEBIAN_PACKAGES = [
  "containerd",
  "runc",
  "containernetworking-plugins",
  "iptables",
  "conntrack",
  "iproute2",
  "util-linux",
  "mount",
  "openssl",
  "busybox-static",
  "gcc",
  "libc6-dev",
  "ethtool",
  "kmod",
  "curl",
];

export async function installDebianPackages(config: ClusterConfig): Promise<void> {
  const missing: string[] = [];
  for (const p of DEBIAN_PACKAGES) {
    const status = await output("dpkg-query", ["-W", "-f=${Status}", p], { reject: false });
    if (status !== "install ok installed") missing.push(p);
  }
  if (missing.length === 0) return;
  const log = join(config.cache, "log", "apt-cluster.log");
  mkdirSync(join(config.cache, "log"), { recursive: true });
  step(`installing Debian packages: ${missing.join(" ")}`);
  const result = await run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], {
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: { file: log },
    stderr: { file: log, append: true },
    reject: false,
  });
  if (result.exitCode !== 0)
    die(`apt-get install ${missing.join(" ")} failed (see ${log}; run apt-get update?)`);
  stepEnd();
}

/** A build is done when its folder holds .complete (written last, then the folder is moved into place). */
export const built = (dir: string) => existsSync(join(dir, ".complete"));

/** The go.mod and tools.go of a module that requires `module@version` and imports the given main packages. */
export function wrapperModule(dir: string, module: string, version: string, packages: string[]) {
  return {
    "go.mod": `module chatapi.local/build/${basename(dir)}\n\ngo 1.24\n\nrequire ${module} ${version}\n`,
    "tools.go": `//go:build tools\n\npackage tools\n\nimport (\n${packages.map((p) => `\t_ "${p}"\n`).join("")})\n`,
  };
}

/**
 * k8s.io/kubernetes replaces its staging modules with ./staging/...; the wrapper module mirrors
 * that with the published k8s.io/<name> v0.<minor>.<patch> modules.
 */
export function stagingReplaces(kubernetesGoMod: string, kubernetesVersion: string): string {
  const staging = [...kubernetesGoMod.matchAll(/^\s*(k8s\.io\/[a-z0-9-]*) => \.\/staging\/.*$/gm)].map(
    (m) => m[1]!,
  );
  if (staging.length === 0) throw new Error("no staging replace lines in k8s.io/kubernetes's go.mod");
  const version = `v0.${kubernetesVersion.replace(/^v1\./, "")}`;
  return `\nreplace (\n${staging.map((m) => `\t${m} => ${m} ${version}\n`).join("")})\n`;
}

interface BuildContext {
  config: ClusterConfig;
  /** Appends to the build's log. */
  go: (args: string[], cwd: string, env?: Record<string, string>) => Promise<void>;
  log: (line: string) => void;
  tmp: (name: string) => string;
  /** Runs a built binary (its output to the log); throws when it fails. */
  check: (binary: string, args: string[]) => Promise<void>;
}

function writeWrapper(dir: string, module: string, version: string, packages: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(wrapperModule(dir, module, version, packages)))
    writeFileSync(join(dir, file), text);
}

/** go mod download -json: the module's folder and go.mod in the module cache. */
async function goFetch(config: ClusterConfig, module: string): Promise<{ Dir: string; GoMod: string }> {
  const result = await run("go", ["mod", "download", "-json", module], {
    cwd: config.cache,
    env: { GOFLAGS: "-mod=mod" },
    reject: false,
  });
  if (result.exitCode !== 0) {
    const proxy = await output("go", ["env", "GOPROXY"], { reject: false });
    const why =
      `${String(result.stdout)}\n${String(result.stderr)}`.split("\n").find((l) => /error/i.test(l)) ?? "";
    die(`cannot fetch ${module} from the Go module proxy (${proxy}): ${why}`);
  }
  return JSON.parse(String(result.stdout)) as { Dir: string; GoMod: string };
}

/** Puts a finished build into place atomically. */
function installDir(tmp: string, final: string): void {
  chmodSync(tmp, 0o755);
  writeFileSync(join(tmp, ".complete"), `${new Date().toISOString()}\n`);
  if (existsSync(final)) {
    rmSync(`${final}.old`, { recursive: true, force: true });
    renameSync(final, `${final}.old`);
  }
  renameSync(tmp, final);
  rmSync(`${final}.old`, { recursive: true, force: true });
}

type Builder = (ctx: BuildContext) => Promise<void>;

interface GoBuild {
  module: string;
  version: string;
  pkg: string;
  out: string;
  ldflags: string;
  final: string;
  /** The built binary's version flag: a binary that cannot print its version fails the build. */
  versionFlag: string;
}

/** A plain `go build` of one main package of a module, through a wrapper module. */
const goBuild =
  (b: GoBuild): Builder =>
  async ({ config, go, tmp, check }) => {
    const name = basename(b.final);
    const mw = join(config.cache, "build", name);
    writeWrapper(mw, b.module, b.version, [b.pkg]);
    await go(["mod", "tidy"], mw);
    const dir = tmp(name);
    await go(["build", "-trimpath", "-ldflags", b.ldflags, "-o", join(dir, b.out), b.pkg], mw, {
      CGO_ENABLED: "0",
    });
    await check(join(dir, b.out), [b.versionFlag]);
    installDir(dir, b.final);
  };

function builders(config: ClusterConfig): { name: string; dir: string; build: Builder }[] {
  const v = config.versions;
  const b = config.builds;
  return [
    {
      name: `pause-${config.pauseTag}`,
      dir: b.pause,
      build: async ({ tmp }) => {
        const src = await goFetch(config, `k8s.io/kubernetes@${v.kubernetes}`);
        const dir = tmp("pause");
        const pause = join(dir, "pause");
        await run("gcc", [
          "-Os",
          "-static",
          "-Wall",
          "-Werror",
          `-DVERSION=${config.pauseTag}`,
          "-o",
          pause,
          join(src.Dir, "build/pause/linux/pause.c"),
        ]);
        await run("strip", [pause]);
        installDir(dir, b.pause);
      },
    },
    {
      name: `etcd-${v.etcd}`,
      dir: b.etcd,
      build: goBuild({
        module: "go.etcd.io/etcd/server/v3",
        version: v.etcd,
        pkg: "go.etcd.io/etcd/server/v3",
        out: "etcd",
        ldflags: "-s -w",
        final: b.etcd,
        versionFlag: "--version",
      }),
    },
    {
      name: `cri-tools-${v.criTools}`,
      dir: b.criTools,
      build: goBuild({
        module: "sigs.k8s.io/cri-tools",
        version: v.criTools,
        pkg: "sigs.k8s.io/cri-tools/cmd/crictl",
        out: "crictl",
        ldflags: `-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${v.criTools}`,
        final: b.criTools,
        versionFlag: "--version",
      }),
    },
    {
      name: `coredns-${v.coredns}`,
      dir: b.coredns,
      build: async ({ go, tmp, check }) => {
        const dir = tmp("coredns");
        await go(
          ["install", "-trimpath", "-ldflags", "-s -w", `github.com/coredns/coredns@${v.coredns}`],
          config.cache,
          {
            CGO_ENABLED: "0",
            GOBIN: dir,
          },
        );
        await check(join(dir, "coredns"), ["-version"]);
        installDir(dir, b.coredns);
      },
    },
    {
      name: `local-path-provisioner-${v.localPathProvisioner}`,
      dir: b.localPathProvisioner,
      build: goBuild({
        module: "github.com/rancher/local-path-provisioner",
        version: v.localPathProvisioner,
        pkg: "github.com/rancher/local-path-provisioner",
        out: "local-path-provisioner",
        ldflags: `-s -w -X main.VERSION=${v.localPathProvisioner}`,
        final: b.localPathProvisioner,
        versionFlag: "--version",
      }),
    },
    {
      name: `metrics-server-${v.metricsServer}`,
      dir: b.metricsServer,
      build: goBuild({
        module: "sigs.k8s.io/metrics-server",
        version: v.metricsServer,
        pkg: "sigs.k8s.io/metrics-server/cmd/metrics-server",
        out: "metrics-server",
        ldflags: `-s -w -X k8s.io/client-go/pkg/version.gitVersion=${v.metricsServer} -X k8s.io/client-go/pkg/version.gitTreeState=clean`,
        final: b.metricsServer,
        versionFlag: "--version",
      }),
    },
    { name: `kubernetes-${v.kubernetes}`, dir: b.kubernetes, build: buildKubernetes },
  ];
}

async function buildKubernetes({ config, go, log, tmp, check }: BuildContext): Promise<void> {
  const v = config.versions.kubernetes;
  const src = await goFetch(config, `k8s.io/kubernetes@${v}`);
  const mw = join(config.cache, "build", `kubernetes-${v}`);
  const packages = KUBE_BINARIES.map((b) => `k8s.io/kubernetes/cmd/${b}`);
  writeWrapper(mw, "k8s.io/kubernetes", v, packages);
  appendFileSync(join(mw, "go.mod"), stagingReplaces(readFileSync(src.GoMod, "utf8"), v));
  log("== go mod tidy (staging modules at their published versions)");
  await go(["mod", "tidy"], mw);
  const dir = tmp("kubernetes");
  const minor = v.replace(/^v1\./, "").split(".")[0]!;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const ldflags = ["-s", "-w"];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"])
    ldflags.push(
      ...[`gitVersion=${v}`, "gitMajor=1", `gitMinor=${minor}`, "gitTreeState=clean", `buildDate=${now}`].map(
        (x) => `-X ${pkg}.${x}`,
      ),
    );
  log(`== go build ${KUBE_BINARIES.join(" ")}`);
  await go(
    [
      "build",
      "-trimpath",
      "-tags=selinux,notest,grpcnotrace",
      "-ldflags",
      ldflags.join(" "),
      "-o",
      `${dir}/`,
      ...packages,
    ],
    mw,
  );
  for (const b of KUBE_BINARIES) if (!existsSync(join(dir, b))) throw new Error(`missing ${b}`);
  await check(join(dir, "kubectl"), ["version", "--client"]);
  installDir(dir, config.builds.kubernetes);
}

async function checkGo(): Promise<void> {
  if (!(await succeeds("go", ["version"])))
    die("Go is not installed (need Go >= 1.24 on PATH) — the cluster is built from Go modules");
  const proxy = (await output("go", ["env", "GOPROXY"])).trim();
  if (!proxy || proxy === "off")
    die(`GOPROXY is '${proxy}': the Go module proxy is needed to build the cluster`);
}

/** Builds every missing binary, each with its log (<cache>/log/build-<name>.log) and its time in <cache>/log/build-times. */
export async function buildAll(config: ClusterConfig): Promise<void> {
  const logDir = join(config.cache, "log");
  mkdirSync(logDir, { recursive: true });
  mkdirSync(join(config.cache, "build"), { recursive: true });
  const missing = builders(config).filter((b) => !built(b.dir));
  if (missing.length === 0) {
    say(`binaries cached in ${config.cache}`);
    return;
  }
  await checkGo();
  say(
    `building from Go modules into ${config.cache}: ${missing.map((b) => b.name).join(" ")} (cold: about 25-45 min on 2 busy cores, kubernetes alone 15-25 min)`,
  );
  for (const builder of missing) {
    const log = join(logDir, `build-${builder.name}.log`);
    step(`building ${builder.name} (log: ${log})`);
    const started = performance.now();
    writeFileSync(log, "");
    const toLog = { stdout: { file: log, append: true }, stderr: { file: log, append: true } } as const;
    const temporary: string[] = [];
    const ctx: BuildContext = {
      config,
      log: (line) => appendFileSync(log, `${line}\n`),
      go: async (args, cwd, env = {}) => {
        await run("go", args, { cwd, env, ...toLog });
      },
      check: async (binary, args) => {
        await run(binary, args, toLog);
      },
      tmp: (name) => {
        const dir = mkdtempSync(join(config.cache, `.cluster-tmp-${name}.`));
        temporary.push(dir);
        return dir;
      },
    };
    try {
      await builder.build(ctx);
    } catch (error) {
      const tail = readFileSync(log, "utf8").split("\n").slice(-30).join("\n");
      process.stderr.write(`${tail}\n${(error as Error).message.split("\n")[0]}\n`);
      for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
      die(`building ${builder.name} failed (full log: ${log})`);
    }
    appendFileSync(
      join(logDir, "build-times"),
      `${new Date().toISOString().replace(/\.\d+Z$/, "Z")} ${builder.name} ${seconds(started)}\n`,
    );
    stepEnd();
  }
}

// ---------------------------------------------------------------- the cluster's own images

/** The folder tree of a FROM-scratch image: files to copy, empty folders, symlinks. */
export interface ImageTree {
  files: { from: string; to: string }[];
  /** folders made world-writable with the sticky bit (like /tmp) */
  tmpDirs: string[];
  text?: { to: string; content: string }[];
  links?: { to: string; target: string }[];
  /** docker import --change lines */
  changes: string[];
}

export function ownImageTrees(config: ClusterConfig, busyboxApplets: string[]): Record<string, ImageTree> {
  const b = config.builds;
  const nonRoot = "USER 65532:65532";
  return {
    [config.images.pause]: {
      files: [{ from: join(b.pause, "pause"), to: "pause" }],
      tmpDirs: [],
      changes: ['ENTRYPOINT ["/pause"]', "USER 65535:65535"],
    },
    [config.images.coredns]: {
      files: [{ from: join(b.coredns, "coredns"), to: "coredns" }],
      tmpDirs: [],
      changes: ['ENTRYPOINT ["/coredns"]', nonRoot],
    },
    [config.images.localPathProvisioner]: {
      files: [
        {
          from: join(b.localPathProvisioner, "local-path-provisioner"),
          to: "usr/bin/local-path-provisioner",
        },
      ],
      tmpDirs: ["tmp"],
      changes: ['ENTRYPOINT ["/usr/bin/local-path-provisioner"]', nonRoot],
    },
    [config.images.metricsServer]: {
      files: [{ from: join(b.metricsServer, "metrics-server"), to: "metrics-server" }],
      tmpDirs: ["tmp"],
      changes: ['ENTRYPOINT ["/metrics-server"]', nonRoot],
    },
    // Debian's busybox-static: the local-path helper pod and the DNS check
    [config.images.helper]: {
      files: [{ from: "/bin/busybox", to: "bin/busybox" }],
      tmpDirs: ["tmp"],
      links: busyboxApplets
        .filter((a) => a !== "busybox")
        .map((a) => ({ to: `bin/${a}`, target: "busybox" })),
      text: [
        {
          to: "etc/passwd",
          content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        },
        { to: "etc/group", content: "root:x:0:\nnogroup:x:65534:\n" },
      ],
      changes: ["ENV PATH=/bin", 'CMD ["/bin/sh"]'],
    },
  };
}

/** Makes a FROM-scratch Docker image from a folder tree (tar | docker import). */
export async function importImageTree(tag: string, tree: ImageTree): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-cluster-image."));
  try {
    const place = (to: string) => {
      mkdirSync(join(dir, to, ".."), { recursive: true });
      return join(dir, to);
    };
    for (const f of tree.files) copyFileSync(f.from, place(f.to));
    for (const f of tree.files) chmodSync(join(dir, f.to), 0o755);
    for (const t of tree.tmpDirs) {
      mkdirSync(join(dir, t), { recursive: true });
      chmodSync(join(dir, t), 0o1777);
    }
    for (const t of tree.text ?? []) writeFileSync(place(t.to), t.content);
    for (const l of tree.links ?? []) symlinkSync(l.target, place(l.to));
    const { execa } = await import("execa");
    await execa("tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", dir, "-c", "."], {
      buffer: false,
    }).pipe("docker", [
      "import",
      ...tree.changes.flatMap((c) => ["--change", c]),
      "--message",
      "built by scripts/cluster",
      "-",
      tag,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function buildOwnImages(config: ClusterConfig): Promise<void> {
  if (!(await succeeds("docker", ["info"]))) die("the Docker engine is not reachable (docker info failed)");
  if (!existsSync("/bin/busybox")) die("/bin/busybox missing (Debian package busybox-static)");
  const applets = (await output("/bin/busybox", ["--list"])).split("\n").filter(Boolean);
  for (const [tag, tree] of Object.entries(ownImageTrees(config, applets))) {
    if (await succeeds("docker", ["image", "inspect", tag])) continue;
    step(`making image ${tag}`);
    await importImageTree(tag, tree);
  }
  stepEnd();
}
