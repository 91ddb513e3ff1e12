// Which engine the environment names (DOCKER_HOST, DOCKER_CONTEXT, the current context), read
// from a docker config folder in the CLI's own file format (test/support/docker-context-store.ts).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerConfigWith } from "../../test/support/docker-context-store";
import { DEFAULT_DOCKER_HOST, environmentEngine } from "./docker-context";

const remoteTls = { ca: "CA PEM", cert: "CERT PEM", key: "KEY PEM" };
const config = dockerConfigWith(
  [
    { name: "remote", host: "tcp://203.0.113.7:2376", tls: remoteTls },
    { name: "rootless", host: "unix:///run/user/1000/docker.sock" },
    { name: "lax", host: "tcp://203.0.113.8:2376", skipTlsVerify: true, tls: remoteTls },
  ],
  "remote",
);

describe("the environment's Docker engine", () => {
  it("is the current context of config.json, with its TLS files", () => {
    expect(environmentEngine({ DOCKER_CONFIG: config })).toEqual({
      host: "tcp://203.0.113.7:2376",
      source: `the docker context "remote" (currentContext in ${join(config, "config.json")})`,
      tls: remoteTls,
    });
  });

  it("is DOCKER_CONTEXT's context before the current one", () => {
    const engine = environmentEngine({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "rootless" });
    expect(engine).toEqual({
      host: "unix:///run/user/1000/docker.sock",
      source: 'the docker context "rootless" (DOCKER_CONTEXT)',
    });
  });

  it("is DOCKER_HOST before any context (as the docker CLI does)", () => {
    const engine = environmentEngine({
      DOCKER_CONFIG: config,
      DOCKER_CONTEXT: "rootless",
      DOCKER_HOST: "ssh://deploy@203.0.113.9",
    });
    expect(engine).toEqual({ host: "ssh://deploy@203.0.113.9", source: "DOCKER_HOST" });
  });

  it("takes a TLS DOCKER_HOST's files from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set", () => {
    const certs = mkdtempSync(join(tmpdir(), "chatapi-certs-"));
    for (const part of ["ca", "cert", "key"]) writeFileSync(join(certs, `${part}.pem`), `${part} from path`);
    const env = { DOCKER_CONFIG: config, DOCKER_HOST: "tcp://198.51.100.4:2376", DOCKER_CERT_PATH: certs };
    expect(environmentEngine(env).tls).toBeUndefined();
    expect(environmentEngine({ ...env, DOCKER_TLS_VERIFY: "1" }).tls).toEqual({
      ca: "ca from path",
      cert: "cert from path",
      key: "key from path",
    });
  });

  it("leaves out the TLS files of a context that skips TLS verification", () => {
    const engine = environmentEngine({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "lax" });
    expect(engine.host).toBe("tcp://203.0.113.8:2376");
    expect(engine.tls).toBeUndefined();
  });

  it("is the local socket with no DOCKER_HOST and no context, or the context named default", () => {
    const empty = mkdtempSync(join(tmpdir(), "chatapi-docker-config-"));
    expect(environmentEngine({ DOCKER_CONFIG: empty }).host).toBe(DEFAULT_DOCKER_HOST);
    expect(environmentEngine({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "default" }).host).toBe(
      DEFAULT_DOCKER_HOST,
    );
    // HOME/.docker when DOCKER_CONFIG is unset.
    const home = mkdtempSync(join(tmpdir(), "chatapi-home-"));
    mkdirSync(join(home, ".docker"));
    writeFileSync(join(home, ".docker", "config.json"), "{}");
    expect(environmentEngine({ HOME: home }).host).toBe(DEFAULT_DOCKER_HOST);
  });

  it("names a context that does not exist, and where it was asked for", () => {
    expect(() => environmentEngine({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "gone" })).toThrow(
      /^the docker context "gone" \(DOCKER_CONTEXT\) does not exist: .*meta\.json is missing \(docker context ls lists the contexts\)$/,
    );
  });

  it("names an unreadable config.json", () => {
    const broken = mkdtempSync(join(tmpdir(), "chatapi-docker-config-"));
    writeFileSync(join(broken, "config.json"), "{ not json");
    expect(() => environmentEngine({ DOCKER_CONFIG: broken })).toThrow(
      `cannot read ${join(broken, "config.json")}`,
    );
  });
});
