// Validation of the Docker engine keys: a tcp:// chatapi:docker.host needs all three TLS
// secrets (or docker.insecureTcp), and the TLS secrets fit only a tcp:// engine on the docker target.
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/support/paths";
import { dockerEngineTls } from "../../test/support/tls-fixture";
import { ConfigError } from "./issues";
import { loadStackConfig } from "./load";
import { readAppVersion, readStackFile } from "./stack-file";

const appVersion = readAppVersion(repoRoot);
const { client, secrets: allTls } = dockerEngineTls();

function load(stack: string, docker: object | undefined, secrets: Record<string, string> = {}) {
  const file = readStackFile(repoRoot, stack, secrets);
  const config = { ...file.config, ...(docker ? { "chatapi:docker": JSON.stringify(docker) } : {}) };
  return loadStackConfig({ stack, config, secretKeys: file.secretKeys, appVersion });
}

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues
      .filter((issue) => issue.key.startsWith("chatapi:docker"))
      .map((issue) => `${issue.key}: ${issue.problem}`);
  }
  throw new Error("the config was accepted");
}

describe("config: the Docker engine", () => {
  it("accepts a tcp:// engine with the CA, client certificate and key as secrets", () => {
    const { settings, secrets } = load("local", { host: "tcp://203.0.113.7:2376" }, allTls);
    expect(settings.docker.host).toBe("tcp://203.0.113.7:2376");
    expect(Object.keys(secrets).sort()).toEqual([
      "dockerCaCertificate",
      "dockerClientCertificate",
      "dockerClientKey",
    ]);
  });

  it("leaves the host unset by default (DOCKER_HOST or the docker context decide) and insecureTcp off", () => {
    const { settings } = load("local", undefined);
    expect(settings.docker.host).toBeUndefined();
    expect(settings.docker.insecureTcp).toBe(false);
  });

  it("refuses a tcp:// engine without TLS, naming the keys that would fix it", () => {
    let message = "";
    try {
      load("local", { host: "tcp://203.0.113.7:2375" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(
      'chatapi:docker.host: is a tcp:// engine without TLS (anyone who reaches its port controls the host); expected the engine\'s CA, a client certificate and its key as secrets (pulumi config set --secret chatapi:dockerCaCertificate < ca.pem; pulumi config set --secret chatapi:dockerClientCertificate < cert.pem; pulumi config set --secret chatapi:dockerClientKey < key.pem), or chatapi:docker.insecureTcp true for an engine on loopback or a private CI network; got "tcp://203.0.113.7:2375"',
    );
  });

  it("accepts a tcp:// engine without TLS when docker.insecureTcp allows it", () => {
    expect(
      load("local", { host: "tcp://127.0.0.1:2375", insecureTcp: true }).settings.docker.insecureTcp,
    ).toBe(true);
  });

  it("names the TLS secrets that are missing when only some are set", () => {
    const { "chatapi:dockerClientKey": _key, ...two } = allTls;
    expect(problems(() => load("local", { host: "tcp://203.0.113.7:2376" }, two))).toEqual([
      "chatapi:dockerClientKey: is missing: the Docker engine's CA, client certificate and key go together (chatapi:dockerCaCertificate, chatapi:dockerClientCertificate are set)",
    ]);
  });

  it("refuses the TLS secrets with an engine that would ignore them", () => {
    expect(problems(() => load("local", { host: "ssh://deploy@203.0.113.7" }, allTls))).toEqual([
      "chatapi:docker.host: is not a tcp:// engine, so chatapi:dockerCaCertificate, chatapi:dockerClientCertificate, chatapi:dockerClientKey would be ignored",
    ]);
    expect(problems(() => load("localcluster", undefined, allTls))).toEqual(
      Object.keys(allTls).map((key) => `${key}: only applies to the docker target`),
    );
  });

  it("never shows the key material in an error", () => {
    const { "chatapi:dockerCaCertificate": _ca, ...two } = allTls;
    let message = "";
    try {
      load("local", { host: "ssh://deploy@203.0.113.7" }, two);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("chatapi:dockerCaCertificate: is missing");
    expect(message).not.toContain(client.privateKey.split("\n")[1]!);
  });

  it("refuses key material that is not PEM", () => {
    expect(
      problems(() =>
        load(
          "local",
          { host: "tcp://203.0.113.7:2376" },
          { ...allTls, "chatapi:dockerClientKey": "not a key" },
        ),
      ),
    ).toEqual([expect.stringMatching(/^chatapi:dockerClientKey: /)]);
  });
});
