// The Docker target's engine under Pulumi runtime mocks, from the local stack file: where the
// docker provider's host comes from (config, DOCKER_HOST, a docker context, the socket), a
// tcp:// engine's TLS material as Pulumi secrets (provider and release switch), and the
// refusal of a tcp:// engine without TLS.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config/issues";
import { readStackFile } from "../config/stack-file";
import { runProgram } from "../../stacks/program";
import { dockerConfigWith } from "../../test/support/docker-context-store";
import { noDockerEnvironment, repoRoot } from "../../test/support/paths";
import { type Captured, installMocks, isSecretInput, plain, valueOf } from "../../test/support/pulumi-mocks";
import { dockerEngineTls } from "../../test/support/tls-fixture";

const mocks = installMocks();
const { ca, client, secrets: tlsSecrets } = dockerEngineTls();

let runs = 0;
/** Runs the local stack file's program as its own stack; its provider and release switch. */
function deploy(options: { docker?: object; secrets?: Record<string, string>; env?: NodeJS.ProcessEnv }) {
  const stack = `engine${++runs}`;
  const source = readStackFile(repoRoot, "local", options.secrets);
  const result = runProgram({
    stack,
    config: {
      ...source.config,
      ...(options.docker ? { "chatapi:docker": JSON.stringify(options.docker) } : {}),
    },
    secretKeys: source.secretKeys,
    projectDir: repoRoot,
    env: options.env ?? noDockerEnvironment,
  });
  const find = (type: string) => async (): Promise<Captured> => {
    await valueOf(result.docker!.releaseSwitch!.urn);
    for (let tries = 0; tries < 100; tries++) {
      const found = mocks.captured.find((r) => r.type === type && r.name.startsWith(`chatapi-${stack}-`));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no ${type} registered for ${stack}`);
  };
  return {
    result,
    provider: find("pulumi:providers:docker"),
    releaseSwitch: find("pulumi-nodejs:dynamic/chatapi:ReleaseSwitch"),
  };
}

const inputs = (r: Captured) => plain(r.inputs) as Record<string, unknown>;

/** Every string in a captured value outside secret wrappers: what would be plain in state. */
function plainStrings(value: unknown): string[] {
  if (isSecretInput(value)) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(plainStrings);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(plainStrings);
  return [];
}

/** The provider reaches `host` with the fixture's CA, certificate and key, each a Pulumi secret. */
function expectTlsSecrets(provider: Captured, host: string) {
  expect(inputs(provider)).toMatchObject({
    host,
    caMaterial: ca.certificate,
    certMaterial: client.certificate,
    keyMaterial: client.privateKey,
  });
  for (const input of ["caMaterial", "certMaterial", "keyMaterial"])
    expect(isSecretInput(provider.inputs[input]), input).toBe(true);
}

const keyLine = client.privateKey.split("\n")[1]!;

describe("Docker target: where the engine's host comes from", () => {
  it("is chatapi:docker.host when set, before DOCKER_HOST", async () => {
    const run = deploy({
      docker: { host: "ssh://deploy@203.0.113.5" },
      env: { ...noDockerEnvironment, DOCKER_HOST: "unix:///elsewhere.sock" },
    });
    expect(inputs(await run.provider()).host).toBe("ssh://deploy@203.0.113.5");
    expect(run.result.engine?.source).toBe("chatapi:docker.host");
  });

  it("is DOCKER_HOST when the config names none, for the provider and the release switch", async () => {
    const run = deploy({ env: { ...noDockerEnvironment, DOCKER_HOST: "unix:///run/user/1000/docker.sock" } });
    expect(inputs(await run.provider()).host).toBe("unix:///run/user/1000/docker.sock");
    expect(inputs(await run.releaseSwitch()).engine).toEqual({ host: "unix:///run/user/1000/docker.sock" });
    expect(run.result.outputs.backups.location).toContain("on unix:///run/user/1000/docker.sock");
  });

  it("is the current docker context's, with its TLS files as secrets", async () => {
    const config = dockerConfigWith(
      [
        {
          name: "remote",
          host: "tcp://203.0.113.7:2376",
          tls: { ca: ca.certificate, cert: client.certificate, key: client.privateKey },
        },
      ],
      "remote",
    );
    const run = deploy({ env: { DOCKER_CONFIG: config } });
    const provider = await run.provider();
    expectTlsSecrets(provider, "tcp://203.0.113.7:2376");
    expect(run.result.engine?.source).toBe(
      `the docker context "remote" (currentContext in ${config}/config.json)`,
    );
  });

  it("is the local socket with no DOCKER_HOST and no context", async () => {
    const run = deploy({});
    expect(inputs(await run.provider()).host).toBe("unix:///var/run/docker.sock");
    expect((await run.provider()).inputs.caMaterial).toBeUndefined();
  });
});

describe("Docker target: a tcp:// engine", () => {
  it("takes the CA, client certificate and key from the config secrets, never in plain text", async () => {
    const run = deploy({ docker: { host: "tcp://203.0.113.7:2376" }, secrets: tlsSecrets });
    const provider = await run.provider();
    expectTlsSecrets(provider, "tcp://203.0.113.7:2376");
    // The release switch drives the same engine with the docker CLI: its engine input is a secret.
    const releaseSwitch = await run.releaseSwitch();
    expect(isSecretInput(releaseSwitch.inputs.engine)).toBe(true);
    expect(inputs(releaseSwitch).engine).toEqual({
      host: "tcp://203.0.113.7:2376",
      tls: { ca: ca.certificate, cert: client.certificate, key: client.privateKey },
    });
    const everywhere = mocks.captured.filter((r) => r.name.startsWith(`chatapi-engine${runs}-`));
    expect(everywhere.flatMap((r) => plainStrings(r.inputs)).filter((s) => s.includes(keyLine))).toEqual([]);
  });

  it("goes without TLS only with chatapi:docker.insecureTcp", async () => {
    const run = deploy({ docker: { host: "tcp://127.0.0.1:2375", insecureTcp: true } });
    const provider = inputs(await run.provider());
    expect(provider.host).toBe("tcp://127.0.0.1:2375");
    expect(provider.caMaterial).toBeUndefined();
    expect(provider.keyMaterial).toBeUndefined();
  });

  const refusal = (problem: string, host: string) =>
    `chatapi:docker.host: ${problem} without TLS (anyone who reaches its port controls the host); ` +
    "expected the engine's CA, a client certificate and its key as secrets (" +
    "pulumi config set --secret chatapi:dockerCaCertificate < ca.pem; " +
    "pulumi config set --secret chatapi:dockerClientCertificate < cert.pem; " +
    "pulumi config set --secret chatapi:dockerClientKey < key.pem), " +
    `or chatapi:docker.insecureTcp true for an engine on loopback or a private CI network; got "${host}"`;

  it("is refused without TLS when the config names it", () => {
    expect(() => deploy({ docker: { host: "tcp://203.0.113.7:2375" } })).toThrow(
      refusal("is a tcp:// engine", "tcp://203.0.113.7:2375"),
    );
  });

  it("is refused without TLS when DOCKER_HOST names it", () => {
    const env = { ...noDockerEnvironment, DOCKER_HOST: "tcp://203.0.113.7:2375" };
    let error: unknown;
    try {
      deploy({ env });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      refusal("is unset, and DOCKER_HOST names a tcp:// engine", "tcp://203.0.113.7:2375"),
    );
  });

  it("is refused when its context has only some of the TLS files", () => {
    const config = dockerConfigWith(
      [{ name: "half", host: "tcp://203.0.113.7:2376", tls: { ca: ca.certificate } }],
      "half",
    );
    expect(() => deploy({ env: { DOCKER_CONFIG: config } })).toThrow(
      `is unset, and the docker context "half" (currentContext in ${config}/config.json) names a tcp:// engine with incomplete TLS files (ca.pem, cert.pem and key.pem are all needed) without TLS`,
    );
  });
});

describe("Docker target: an ssh:// engine", () => {
  it("is driven as before: its host and ssh options, no TLS", async () => {
    const run = deploy({
      docker: { host: "ssh://deploy@chat.example.com", sshOpts: ["-o", "StrictHostKeyChecking=yes"] },
    });
    const provider = inputs(await run.provider());
    expect(provider.host).toBe("ssh://deploy@chat.example.com");
    expect(JSON.parse(String(provider.sshOpts))).toEqual(["-o", "StrictHostKeyChecking=yes"]);
    expect(provider.caMaterial).toBeUndefined();
  });
});
