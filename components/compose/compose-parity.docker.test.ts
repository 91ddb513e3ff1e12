// The compose file and the Pulumi Docker target describe the same containers: both are
// mappings of the same ContainerSpecs (components/containers/container-spec.ts), and this
// checks the two mappings. The Pulumi program runs under runtime mocks, the compose file is
// rendered (with its secrets and files, as `npm run local` writes them) and read back by the
// real docker-compose (`docker-compose config`). Every container is compared field by field
// (test/support/container-view.ts says what is normalised and why); a deliberate difference
// fails with its path.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { writeComposeStack } from "../../scripts/lib/compose-files";
import { run } from "../../toolbox/exec";
import { applyOverrides, loadStackPlan } from "../../scripts/lib/stack-plan";
import { readStackFile } from "../config/stack-file";
import { runProgram } from "../../stacks/program";
import {
  type ComposeConfig,
  type ContainerView,
  diffSpecs,
  fromCompose,
  fromPulumiMocks,
} from "../../test/support/container-view";
import { repoRoot } from "../../test/support/paths";
import { type Captured, installMocks, plain, valueOf } from "../../test/support/pulumi-mocks";
import { makeCertificate } from "../../test/support/tls-fixture";
import { type ContainerSpec, containerSpecs } from "../containers/container-spec";

const mocks = installMocks();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Sides {
  stack: string;
  dir: string;
  specs: ContainerSpec[];
  pulumi: Map<string, ContainerView>;
  pulumiResources: Captured[];
  compose: ComposeConfig;
  composeSpecs: Map<string, ContainerView>;
  composeFile: string;
  pidsLimits: Record<string, number>;
}

async function composeConfig(file: string, project: string): Promise<ComposeConfig> {
  const result = await run("docker-compose", ["-p", project, "-f", file, "config"]);
  return parse(result.stdout) as ComposeConfig;
}

async function bothSides(
  stackFile: string,
  stack: string,
  secrets: Record<string, string> = {},
  set: string[] = [],
): Promise<Sides> {
  // Pulumi, under mocks.
  const source = { ...secrets };
  const file = readStackFile(
    repoRoot,
    stackFile,
    Object.fromEntries(Object.entries(source).map(([k, v]) => [`chatapi:${k}`, v])),
  );
  const result = runProgram({
    stack,
    config: applyOverrides(file.config, set),
    secretKeys: file.secretKeys,
    projectDir: repoRoot,
  });
  const groups = Object.values(result.docker?.groups ?? {});
  const adminClientId = await valueOf(
    pulumi
      .all([...groups.flatMap((g) => g!.containers.map((c) => c.id)), result.outputs.adminClientId])
      .apply((values) => values.at(-1) as string),
  );
  const prefix = `chatapi-${stack}-`;
  const all = mocks.captured.filter((r) => r.name.startsWith(prefix));
  const pulumiSpecs = fromPulumiMocks(all);

  // Compose, rendered from the same plan (same admin client id) and read by docker-compose.
  const dir = mkdtempSync(join(tmpdir(), `chatapi-parity-${stack}-`));
  dirs.push(dir);
  writeFileSync(join(dir, "state.json"), JSON.stringify({ admin_client_id: adminClientId }));
  const { plan, config } = loadStackPlan({ root: repoRoot, stack, stackFile, secrets, set });
  const written = await writeComposeStack(plan, config, dir, { appImage: plan.images.app.ref });
  // Each engine computes the release id from what it knows before creating anything (compose:
  // also a keyed digest of the files; Pulumi: the image reference): read the compose file with
  // Pulumi's id in place of its own, so the names compare.
  const release = result.docker!.release;
  const composeFile = join(dir, "docker-compose.yml");
  writeFileSync(composeFile, readFileSync(written.composeFile, "utf8").replaceAll(written.release, release));
  const compose = await composeConfig(composeFile, written.projectName);
  const composeSpecs = new Map(
    Object.keys(compose.services).map((key) => {
      const spec = fromCompose(compose, key, dir);
      return [spec.name, spec];
    }),
  );
  const pidsLimits = Object.fromEntries(
    Object.values(compose.services).map((s) => [String(s.container_name), Number(s.pids_limit)]),
  );
  return {
    stack,
    dir,
    specs: containerSpecs(plan, release),
    pulumi: pulumiSpecs,
    pulumiResources: all,
    compose,
    composeSpecs,
    composeFile,
    pidsLimits,
  };
}

/** Start order is compose's alone (Pulumi's is the components' dependsOn): compared with the specs. */
function differences(
  pulumiSide: Map<string, ContainerView>,
  composeSide: Map<string, ContainerView>,
): string[] {
  const out: string[] = [];
  for (const name of [...new Set([...pulumiSide.keys(), ...composeSide.keys()])].sort()) {
    const p = pulumiSide.get(name);
    const c = composeSide.get(name);
    if (!p || !c) out.push(`${name}: only in ${p ? "Pulumi" : "compose"}`);
    else out.push(...diffSpecs(p, { ...c, dependsOn: {} }, name, ["pulumi", "compose"]));
  }
  return out;
}

/** Network and volume definitions of both sides, by Docker name. */
function definitions(sides: Sides) {
  const inputs = (r: Captured) => plain(r.inputs) as Record<string, unknown>;
  const pulumiNetworks = Object.fromEntries(
    sides.pulumiResources
      .filter((r) => r.type === "docker:index/network:Network")
      .map((r) => [
        String(inputs(r).name),
        { internal: Boolean(inputs(r).internal), options: inputs(r).options ?? {} },
      ]),
  );
  const composeNetworks = Object.fromEntries(
    Object.values(sides.compose.networks ?? {}).map((n) => [
      String(n.name),
      { internal: Boolean(n.internal), options: n.driver_opts ?? {} },
    ]),
  );
  // Pulumi's files volumes (<container>-<folder>) are its way of delivering files: not data.
  const pulumiVolumes = sides.pulumiResources
    .filter((r) => r.type === "docker:index/volume:Volume")
    .map((r) => String(inputs(r).name))
    .filter(
      (name) =>
        ![...sides.pulumi.keys()].some(
          (c) => name.startsWith(`${c}-`) && /-(run-secrets|etc-.*)$/.test(name),
        ),
    )
    .sort();
  const composeVolumes = Object.values(sides.compose.volumes ?? {})
    .map((v) => String(v.name))
    .sort();
  return { pulumiNetworks, composeNetworks, pulumiVolumes, composeVolumes };
}

describe.each([
  { stackFile: "local", stack: "local", tls: false, set: [] },
  { stackFile: "dockerhost", stack: "dockerhost", tls: true, set: [] },
  // The monitoring part: Prometheus on loopback, the exporters, their files and networks.
  { stackFile: "local", stack: "localmon", tls: false, set: ["monitoring.enabled=true"] },
])("compose file vs Pulumi Docker resources: the $stack stack", ({ stackFile, stack, tls, set }) => {
  let sides: Sides;
  beforeAll(async () => {
    const secrets: Record<string, string> = {};
    if (tls) {
      const cert = makeCertificate("chat.example.com", 90);
      secrets.tlsCertificate = cert.certificate;
      secrets.tlsPrivateKey = cert.privateKey;
    }
    sides = await bothSides(stackFile, stack, secrets, set);
  }, 120_000);

  it("has the same containers, equal in every compared field", () => {
    expect([...sides.composeSpecs.keys()].sort()).toEqual([...sides.pulumi.keys()].sort());
    expect([...sides.pulumi.keys()].sort()).toEqual(sides.specs.map((s) => s.name).sort());
    expect(sides.pulumi.size).toBeGreaterThanOrEqual(10);
    expect(differences(sides.pulumi, sides.composeSpecs)).toEqual([]);
  });

  it("starts each compose service after what its spec depends on", () => {
    for (const spec of sides.specs)
      expect(sides.composeSpecs.get(spec.name)!.dependsOn, spec.name).toEqual(
        Object.fromEntries(spec.dependsOn.map((d) => [d.container, d.condition])),
      );
  });

  it("has the same networks (internal, isolated from the host) and data volumes", () => {
    const d = definitions(sides);
    expect(d.composeNetworks).toEqual(d.pulumiNetworks);
    expect(d.pulumiNetworks[`chatapi-${stack}-backend`]).toEqual({
      internal: true,
      options: { "com.docker.network.bridge.inhibit_ipv4": "true" },
    });
    expect(d.composeVolumes).toEqual(d.pulumiVolumes);
  });

  it("compares what matters: files with owner and mode, start order, secrets only as files", () => {
    const release = sides.specs.find((s) => s.release)!.release!;
    const api = sides.composeSpecs.get(`chatapi-${stack}-api-${release}-1`)!;
    expect(api.files["/run/secrets/database_url"]).toEqual({
      mode: "0400",
      owner: "10001:10001",
      content: "secret",
    });
    expect(api.dependsOn).toMatchObject({
      [`chatapi-${stack}-postgres`]: "healthy",
      [`chatapi-${stack}-migrate-${release}`]: "completed",
      [`chatapi-${stack}-bootstrap-admin-${release}`]: "completed",
    });
    // nginx waits for no release: the release switch starts or reloads it.
    const nginx = sides.composeSpecs.get(`chatapi-${stack}-nginx`)!;
    expect(nginx.dependsOn).toEqual({});
    expect(nginx.volumes["/etc/nginx/chatapi/release"]).toEqual({
      source: `chatapi-${stack}-nginx-release`,
      readOnly: true,
    });
    expect(nginx.files["/etc/nginx/chatapi/nginx.conf"]?.mode).toBe("0444");
    // No secret value in the compose file.
    const text = readFileSync(sides.composeFile, "utf8");
    for (const name of ["postgres_password", "secret_key", "admin_api_key", "tls_private_key"]) {
      const value = readFileSync(join(sides.dir, "secrets", name), "utf8");
      const longest = value.split("\n").reduce((a, b) => (b.length > a.length ? b : a), "");
      expect(longest.length).toBeGreaterThanOrEqual(20);
      expect(text).not.toContain(longest);
    }
  });

  it("sets the pids limit in compose (the docker provider has no such setting)", () => {
    for (const [name, limit] of Object.entries(sides.pidsLimits))
      expect(limit, name).toBeGreaterThanOrEqual(32);
    const release = sides.specs.find((s) => s.release)!.release!;
    expect(sides.pidsLimits[`chatapi-${stack}-api-${release}-1`]).toBe(512);
  });

  it("fails with the field path when one side differs", async () => {
    // Edit the rendered file itself and let docker-compose read it again.
    const release = sides.specs.find((s) => s.release)!.release!;
    const original = readFileSync(sides.composeFile, "utf8");
    const edited = original
      .replace(new RegExp(`(\\n {2}api-${release}-2:\\n(?:.*\\n)*? {4}mem_limit: )\\d+`), "$1123456789")
      .replace(new RegExp(`(\\n {2}worker-${release}-1:\\n(?:.*\\n)*? {6}LOG_LEVEL: )\\S+`), "$1WARNING");
    expect(edited).not.toBe(original);
    const path = join(sides.dir, "edited.yml");
    writeFileSync(path, edited);
    const config = await composeConfig(path, `chatapi-${stack}`);
    const specs = new Map(
      Object.keys(config.services).map((key) => {
        const spec = fromCompose(config, key, sides.dir);
        return [spec.name, spec];
      }),
    );
    const found = differences(sides.pulumi, specs);
    expect(found).toEqual([
      expect.stringMatching(
        new RegExp(`^chatapi-${stack}-api-${release}-2\\.memory\\.limit: pulumi \\d+ != compose 123456789$`),
      ),
      expect.stringMatching(
        new RegExp(
          `^chatapi-${stack}-worker-${release}-1\\.env\\.LOG_LEVEL: pulumi "\\w+" != compose "WARNING"$`,
        ),
      ),
    ]);
    // And on the Pulumi side: one alias less is named too.
    const pulumiEdited = new Map(sides.pulumi);
    const api1 = structuredClone(pulumiEdited.get(`chatapi-${stack}-api-${release}-1`)!);
    const frontend = `chatapi-${stack}-frontend`;
    api1.networks[frontend] = api1.networks[frontend]!.filter((alias) => alias !== `api-${release}-1`);
    pulumiEdited.set(api1.name, api1);
    expect(differences(pulumiEdited, sides.composeSpecs)).toEqual([
      expect.stringContaining(`chatapi-${stack}-api-${release}-1.networks.${frontend}: pulumi`),
    ]);
  });
});
