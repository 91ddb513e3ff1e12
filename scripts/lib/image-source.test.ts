// Upstream images by default; the offline preset when the images are not on the engine and their
// registry does not answer. The probe itself against a closed port and a server that never answers.
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { buildPlan } from "../../components/plan/build-plan";
import { loadStackConfig } from "../../components/config/load";
import { readAppVersion, readStackFile } from "../../components/config/stack-file";
import { repoRoot } from "../../test/support/paths";
import { freePort } from "../../toolbox/processes";
import { chooseImageSource, probeRegistry, registryHost, upstreamImages } from "./image-source";

const appVersion = readAppVersion(repoRoot);
const plan = buildPlan({
  config: loadStackConfig({ stack: "local", ...readStackFile(repoRoot, "local"), appVersion }),
  appVersion,
});

describe("where the local stack's images come from", () => {
  it("names the official images the stack pulls and the app image's base", () => {
    expect(upstreamImages(plan)).toEqual([
      "nginxinc/nginx-unprivileged:1.28",
      "node:24-bookworm-slim",
      "postgres:15-bookworm",
      "rabbitmq:3.13",
      "redis:7-bookworm",
    ]);
    expect(registryHost("postgres:15-bookworm")).toBe("registry-1.docker.io");
    expect(registryHost("docker.io/library/redis:7")).toBe("registry-1.docker.io");
    expect(registryHost("registry.example.com:5000/chat/node:24")).toBe("registry.example.com:5000");
  });

  it("takes upstream images when they are on the engine (no probe) or their registry answers", async () => {
    const probed: string[] = [];
    const probe = async (host: string) => (probed.push(host), undefined);
    expect(await chooseImageSource(plan, { probe, present: async () => true })).toEqual({
      offline: false,
      reason: "upstream images, all on the engine already",
    });
    expect(probed).toEqual([]);
    const answer = await chooseImageSource(plan, {
      probe,
      present: async (ref) => ref !== "node:24-bookworm-slim",
    });
    expect(answer).toEqual({ offline: false, reason: "upstream images (1 to pull from their registry)" });
    expect(probed).toEqual(["registry-1.docker.io"]);
  });

  it("takes the offline images when a missing image's registry cannot be reached, saying why", async () => {
    const choice = await chooseImageSource(plan, {
      probe: async () => "ENOTFOUND",
      present: async (ref) => ref.startsWith("postgres"),
    });
    expect(choice.offline).toBe(true);
    expect(choice.reason).toBe(
      "registry-1.docker.io cannot be reached (ENOTFOUND) and nginxinc/nginx-unprivileged:1.28, node:24-bookworm-slim, rabbitmq:3.13, redis:7-bookworm are not on the engine: using the offline images (chatapi-local/*, built by scripts/images); --offline skips this check",
    );
  });

  it("probes with a bound: a refused connection and a silent server are both 'cannot be reached'", async () => {
    expect(await probeRegistry(`127.0.0.1:${await freePort()}`)).toBe("ECONNREFUSED");
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    const started = Date.now();
    expect(await probeRegistry(`127.0.0.1:${port}`, 300)).toBe("no answer within 0.3 s");
    expect(Date.now() - started).toBeLessThan(10_000); // bounded (a hang guard, not a speed target)
    silent.close();
  });
});
