// How the docker CLI steps (the release switch) are pointed at the engine: DOCKER_HOST, and a
// tcp:// engine's TLS material as files in a private folder that is gone after the command.
import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { dockerCli, engineEnvironment } from "./docker-cli";

const tls = { ca: "CA PEM\n", cert: "CERT PEM\n", key: "KEY PEM\n" };
const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

describe("the docker CLI's engine environment", () => {
  it("writes a tcp:// engine's TLS material as DOCKER_CERT_PATH, private, and removes it", () => {
    const { env, cleanup } = engineEnvironment({ host: "tcp://203.0.113.7:2376", tls });
    const dir = env.DOCKER_CERT_PATH!;
    expect(env.DOCKER_HOST).toBe("tcp://203.0.113.7:2376");
    expect(env.DOCKER_TLS_VERIFY).toBe("1");
    for (const [part, file] of [
      ["ca", "ca.pem"],
      ["cert", "cert.pem"],
      ["key", "key.pem"],
    ] as const) {
      expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, file)).size).toBe(tls[part].length);
    }
    expect(statSync(dir).mode & 0o077).toBe(0);
    cleanup();
    expect(existsSync(dir)).toBe(false);
  });

  it("drops inherited TLS settings for an engine without TLS, and leaves the CLI's choice alone without a host", () => {
    process.env.DOCKER_TLS_VERIFY = "1";
    try {
      const { env } = engineEnvironment({ host: "unix:///var/run/docker.sock" });
      expect(env.DOCKER_HOST).toBe("unix:///var/run/docker.sock");
      expect(env.DOCKER_TLS_VERIFY).toBeUndefined();
      expect(engineEnvironment({}).env.DOCKER_TLS_VERIFY).toBe("1");
    } finally {
      delete process.env.DOCKER_TLS_VERIFY;
    }
  });

  it("runs docker with them (a stand-in docker on PATH reports what it got)", async () => {
    const bin = mkdtempSync(join(tmpdir(), "chatapi-fake-docker-"));
    writeFileSync(
      join(bin, "docker"),
      '#!/bin/sh\nprintf "%s %s %s " "$DOCKER_HOST" "$DOCKER_TLS_VERIFY" "$DOCKER_CERT_PATH"\ncat "$DOCKER_CERT_PATH/key.pem"\n',
    );
    chmodSync(join(bin, "docker"), 0o755);
    process.env.PATH = `${bin}:${savedPath}`;
    const { stdout } = await dockerCli({ host: "tcp://203.0.113.7:2376", tls }, ["version"]);
    const dir = stdout.split(" ")[2]!;
    expect(stdout).toBe(`tcp://203.0.113.7:2376 1 ${dir} KEY PEM\n`);
    expect(dir).toContain("chatapi-docker-tls-");
    expect(existsSync(dir)).toBe(false);
  });
});
