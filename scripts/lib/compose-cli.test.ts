// Which Compose scripts/local runs: `docker compose` (v2+) first, `docker-compose` (v1) only as a
// fallback, CHATAPI_COMPOSE to insist. The machine has both (scripts/setup --for test); a docker
// CLI without the plugin is a stand-in script on PATH that refuses `compose`, as a CLI without it
// does, and passes everything else to the real one.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findCompose } from "./compose-cli";
import { run } from "../../toolbox/exec";

const realPath = process.env.PATH;
const dirs: string[] = [];
afterEach(() => {
  process.env.PATH = realPath;
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function withoutComposePlugin(): Promise<void> {
  const docker = (await run("sh", ["-c", "command -v docker"])).stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), "docker-without-compose-"));
  dirs.push(dir);
  writeFileSync(
    join(dir, "docker"),
    `#!/bin/sh\nif [ "$1" = compose ]; then echo "docker: unknown command: docker compose" >&2; exit 1; fi\nexec ${docker} "$@"\n`,
  );
  chmodSync(join(dir, "docker"), 0o755);
  process.env.PATH = `${dir}:${realPath}`;
}

describe("findCompose", () => {
  it("prefers docker compose (v2+) when the docker CLI has it", async () => {
    const { compose, reason } = await findCompose("auto");
    expect(compose).toMatchObject({ file: "docker", prefix: ["compose"], generation: "v2" });
    expect(reason).toMatch(/^Compose v2\+ \(docker compose version \d+\.\d+\.\d+\)$/);
  });

  it("falls back to docker-compose v1, saying so and how to get v2", async () => {
    await withoutComposePlugin();
    const { compose, reason } = await findCompose("auto");
    expect(compose).toMatchObject({ file: "docker-compose", prefix: [], generation: "v1" });
    expect(reason).toMatch(
      /^Compose v1 \(docker-compose 1\.\d+\.\d+\) as a fallback: `docker compose` \(v2\+\) is missing; v1 is end of life: install the Docker Compose plugin/,
    );
  });

  it("CHATAPI_COMPOSE insists: v1 even where v2 is installed; v2 fails loudly where it is not", async () => {
    expect((await findCompose("v1")).compose.command).toBe("docker-compose");
    await withoutComposePlugin();
    await expect(findCompose("v2")).rejects.toThrow(
      /CHATAPI_COMPOSE=v2, but `docker compose` does not answer: install/,
    );
    await expect(findCompose("v3")).rejects.toThrow(
      'CHATAPI_COMPOSE must be v2, v1 or unset (auto), not "v3"',
    );
  });
});
