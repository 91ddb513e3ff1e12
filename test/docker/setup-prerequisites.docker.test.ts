// scripts/setup --for local as a normal user (chatapi-dev, in the docker group) on a machine that
// lacks something: it installs nothing and names what is missing with the command that installs
// it (Debian), or with what to install (not Debian); without the docker group it says how to
// join. The missing tool (setfacl) is hidden by a PATH that links every other program.
import { chmodSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../toolbox/exec";
import { repoRoot } from "../support/paths";

const USER = "chatapi-dev"; // = DOCKER_TEST_USER in scripts/lib/setup-common.sh
let bin: string;

beforeAll(async () => {
  if ((await run("id", [USER], { reject: false })).exitCode !== 0)
    throw new Error(`user ${USER} is missing: run scripts/setup --for test`);
  bin = mkdtempSync(join(tmpdir(), "path-without-setfacl-"));
  chmodSync(bin, 0o755); // the user walks it
  for (const dir of ["/usr/local/bin", "/usr/bin", "/bin"])
    for (const name of readdirSync(dir))
      if (name !== "setfacl")
        try {
          symlinkSync(join(dir, name), join(bin, name));
        } catch {
          // the same name earlier on PATH
        }
});
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/**
 * ensure_local_prerequisites / ensure_docker of scripts/setup as the user; `debian` false pretends
 * another system; `noEngine` hides the Docker engine (dockerd and its socket, each covered by
 * /dev/null in a mount namespace of this command only) and leaves the docker client.
 */
const check = (step: string, options: { debian?: boolean; groups?: string; noEngine?: boolean } = {}) =>
  run(
    options.noEngine ? "unshare" : "runuser",
    [
      ...(options.noEngine
        ? [
            "-m",
            "sh",
            "-c",
            'for f in /usr/sbin/dockerd /usr/bin/dockerd /run/docker.sock; do [ ! -e "$f" ] || mount --bind /dev/null "$f"; done; exec runuser "$@"',
            "sh",
          ]
        : []),
      "-u",
      USER,
      ...(options.groups ? ["-g", options.groups] : []),
      "--",
      "env",
      "-i",
      `PATH=${bin}`,
      "HOME=/tmp",
      "bash",
      "-c",
      `source scripts/lib/setup-common.sh; ${options.debian === false ? "is_debian() { false; };" : ""} ${step}`,
    ],
    { reject: false, cwd: repoRoot },
  );

describe("scripts/setup --for local as a normal user", () => {
  it("on Debian, names what is missing and the apt-get command, and installs nothing", async () => {
    const result = await check("ensure_local_prerequisites");
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe(
      "setup: error: missing: setfacl. Install with: sudo apt-get install acl",
    );
  });

  it("with a docker client but no engine (a fresh machine of this kind), names the engine and docker.io", async () => {
    const result = await check("ensure_local_prerequisites", { noEngine: true });
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain(
      "setup: error: missing: the Docker engine (dockerd: only a docker client is installed), setfacl. Install with: sudo apt-get install docker.io acl (or Docker CE:",
    );
  });

  it("elsewhere, names what is missing and calls no package manager", async () => {
    const result = await check("ensure_local_prerequisites", { debian: false });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^setup: error: missing: setfacl\. This is .+, not Debian, so setup installs nothing: install them with your system's packages/,
    );
    expect(result.stderr).not.toContain("apt-get");
  });

  it("outside the docker group, says how to join it", async () => {
    const result = await check("ensure_docker", { groups: USER });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      `setup: error: ${USER} may not use the Docker engine (permission denied on its socket): add the user to the docker group (sudo usermod -aG docker ${USER}), then log in again`,
    );
  });
});
