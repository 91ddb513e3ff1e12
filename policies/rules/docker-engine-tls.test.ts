import { describe, expect, it } from "vitest";
import type { Subject } from "../core/types";
import { check } from "../test/check";
import { container } from "../test/docker-fixtures";
import { DOCKER_PROVIDER, dockerEngineTls as rule } from "./docker-engine-tls";

const provider = (props: Record<string, unknown>): Subject => ({
  type: DOCKER_PROVIDER,
  name: "chatapi-local-engine",
  props,
});
const tls = { caMaterial: "CA", certMaterial: "CERT", keyMaterial: "KEY" };

describe(rule.name, () => {
  it("accepts a tcp:// engine with mutual TLS (material or a cert path), and ssh:// or unix:// engines", () => {
    expect(check(rule, provider({ host: "tcp://203.0.113.7:2376", ...tls }))).toEqual([]);
    expect(check(rule, provider({ host: "tcp://203.0.113.7:2376", certPath: "/home/me/.docker" }))).toEqual(
      [],
    );
    expect(check(rule, provider({ host: "ssh://deploy@203.0.113.7" }))).toEqual([]);
    expect(check(rule, provider({ host: "unix:///var/run/docker.sock" }))).toEqual([]);
    expect(check(rule, container("api"))).toEqual([]);
  });

  it("reports a plain tcp:// engine (chatapi:docker.insecureTcp) and names the missing parts", () => {
    expect(check(rule, provider({ host: "tcp://127.0.0.1:2375" }))).toEqual([
      "the engine tcp://127.0.0.1:2375 is reached over tcp:// without caMaterial, certMaterial, keyMaterial (no mutual TLS)",
    ]);
    expect(check(rule, provider({ host: "tcp://203.0.113.7:2376", caMaterial: "CA" }))).toEqual([
      "the engine tcp://203.0.113.7:2376 is reached over tcp:// without certMaterial, keyMaterial (no mutual TLS)",
    ]);
  });

  it("is advisory: the opt-in is deliberate (an engine on loopback or a private CI network)", () =>
    expect(rule.enforcementLevel).toBe("advisory"));
});
