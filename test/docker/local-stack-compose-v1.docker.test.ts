// The local stack with Compose v1 (`docker-compose`, end of life), the fallback scripts/local keeps
// for machines without the Compose plugin: CHATAPI_COMPOSE=v1 insists on it here, where v2 is
// installed too. Up from nothing with the smoke check, a second up that changes nothing, down.
// The whole scenario runs with Compose v2 in local-stack.docker.test.ts.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../../toolbox/exec";
import { runLocal } from "../support/local-stack";
import { freePort } from "../../toolbox/processes";

const stack = `v1${randomUUID().slice(0, 6)}`;
let ports: { http: number; https: number };
let firstUp: { exitCode: number; all: string };

const local = (command: "up" | "down", ...extra: string[]) =>
  runLocal(stack, ports, command, extra, { CHATAPI_COMPOSE: "v1" });

const containers = async () =>
  (await docker("ps", "-a", "--filter", `label=chatapi.stack=${stack}`, "--format", "{{.Names}} {{.ID}}"))
    .split("\n")
    .filter(Boolean)
    .sort();

beforeAll(async () => {
  ports = { http: await freePort(), https: await freePort() };
  firstUp = await local("up");
}, 900_000);

afterAll(async () => {
  if (!ports) return;
  const down = await local("down", "--volumes");
  if (down.exitCode !== 0) console.error(down.all);
}, 300_000);

describe("npm run local with Compose v1 (CHATAPI_COMPOSE=v1)", () => {
  it("says it uses docker-compose v1, brings the stack up and passes the smoke check", () => {
    expect(firstUp.exitCode, firstUp.all.slice(-6000)).toBe(0);
    expect(firstUp.all).toMatch(
      /compose: docker-compose \(Compose v1 \(docker-compose 1\.\d+\.\d+\), as CHATAPI_COMPOSE=v1 asks\)/,
    );
    expect(firstUp.all).toMatch(/docker-compose -p chatapi-v1\w+ up -d/);
    expect(firstUp.all).toContain("smoke check passed (9 checks)");
  });

  it("changes nothing on a second up, and down removes every container", async () => {
    const before = await containers();
    expect(before).toHaveLength(10);
    const again = await local("up");
    expect(again.exitCode, again.all.slice(-3000)).toBe(0);
    expect(await containers()).toEqual(before);
    const down = await local("down");
    expect(down.exitCode, down.all).toBe(0);
    expect(down.all).toMatch(/docker-compose -p chatapi-v1\w+ down/);
    expect(await containers()).toEqual([]);
  }, 600_000);
});
