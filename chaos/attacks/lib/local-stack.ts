// The local Docker stack (scripts/local) for the runtime-hardening attack: a running stack is
// reused (CHATAPI_CHAOS_STACK names one, else the developer's `local` stack when it is up);
// otherwise a private stack `chaos<random>` is brought up on free loopback ports and removed
// (with its volumes) afterwards.
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { join } from "node:path";
import { docker, run } from "../../../toolbox/exec";
import { stackContainers, type ContainerState } from "../../../scripts/lib/stack-health";
import { stackDir } from "../../../scripts/lib/stack-dir";
import { repoRoot } from "./instance";

export interface LocalStack {
  name: string;
  prefix: string;
  dir: string;
  /** True when this run brought it up (and will take it down). */
  owned: boolean;
  containers(): Promise<ContainerState[]>;
  release(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => done(port));
    });
  });
}

const running = async (stack: string) =>
  (await stackContainers(stack)).some((c) => c.role === "api" && c.status === "running");

export async function acquireStack(): Promise<LocalStack> {
  for (const candidate of [process.env.CHATAPI_CHAOS_STACK, "local"].filter((s): s is string => !!s)) {
    if (await running(candidate)) return stack(candidate, false);
  }
  const name = `chaos${randomBytes(3).toString("hex")}`;
  const [http, https] = [await freePort(), await freePort()];
  const up = await run(
    "bash",
    [
      join(repoRoot, "scripts", "local"),
      "up",
      "--stack",
      name,
      "--skip-setup",
      "--stack-file",
      "local",
      "--no-smoke",
      "--set",
      `nginx.httpPort=${http}`,
      "--set",
      `nginx.httpsPort=${https}`,
    ],
    { reject: false, timeout: 900_000 },
  );
  const owned = stack(name, true);
  if (up.exitCode !== 0) {
    await owned.release();
    throw new Error(
      `scripts/local up failed (scripts/setup --for test builds the images it needs):\n${up.all.slice(-4000)}`,
    );
  }
  return owned;
}

function stack(name: string, owned: boolean): LocalStack {
  return {
    name,
    prefix: `chatapi-${name}`,
    dir: stackDir(name),
    owned,
    containers: () => stackContainers(name),
    release: async () => {
      if (!owned) return;
      await run("bash", [join(repoRoot, "scripts", "local"), "down", "--stack", name, "--volumes"], {
        reject: false,
        timeout: 300_000,
      });
    },
  };
}

export { docker, run };
