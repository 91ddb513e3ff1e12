// `scripts/local up` (= npm run local) as a developer runs it: a normal user in the docker group
// (chatapi-dev, made by scripts/setup --for test), in a copy of this checkout of their own with a
// clean environment, no root anywhere. Its first run sets the checkout up (npm ci, the app build)
// without apt, says which Compose it uses (v2, the docker CLI plugin), finds that the registry
// cannot be reached and takes the offline images, and brings the stack up, smoke-checked; its
// containers read the files it mounts through ACLs, the files stay the user's.
import { randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, run } from "../../toolbox/exec";
import { repoRoot } from "../support/paths";
import { instanceContainer, stackFileArgs } from "../support/local-stack";
import { freePort } from "../../toolbox/processes";

const USER = "chatapi-dev"; // = DOCKER_TEST_USER in scripts/lib/setup-common.sh
const stack = `nr${randomUUID().slice(0, 6)}`;
let home: string;
let checkout: string;
let ports: { http: number; https: number };
let up: { exitCode: number; all: string };

/** A command as the developer: their uid, groups and home; nothing of root's environment. */
const asDeveloper = (command: string[], timeoutMs = 1_200_000) =>
  run(
    "runuser",
    [
      "-u",
      USER,
      "--",
      "env",
      "-i",
      `HOME=${home}`,
      `USER=${USER}`,
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "LANG=C.UTF-8",
      ...command,
    ],
    { reject: false, timeout: timeoutMs },
  );

beforeAll(async () => {
  const id = await run("id", ["-nG", USER], { reject: false });
  if (id.exitCode !== 0)
    throw new Error(
      `user ${USER} is missing: run scripts/setup --for test (it creates it in the docker group)`,
    );
  expect(id.stdout.split(/\s+/)).toContain("docker");
  home = (await run("sh", ["-c", `getent passwd ${USER} | cut -d: -f6`])).stdout.trim();
  // The developer's own checkout: this working tree's files (tracked and new, not ignored).
  checkout = mkdtempSync(join(home, "chatapi-"));
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
  });
  execFileSync("sh", ["-c", `tar -C "${repoRoot}" --null -T - -cf - | tar -C "${checkout}" -xf -`], {
    input: files,
  });
  execFileSync("chown", ["-R", `${USER}:${USER}`, checkout]);
  ports = { http: await freePort(), https: await freePort() };
  up = await asDeveloper([
    "bash",
    join(checkout, "scripts", "local"),
    "up",
    "--stack",
    stack,
    ...stackFileArgs(ports),
  ]);
}, 1_500_000);

afterAll(async () => {
  if (!checkout) return;
  const down = await asDeveloper([
    "bash",
    join(checkout, "scripts", "local"),
    "down",
    "--stack",
    stack,
    "--volumes",
  ]);
  if (down.exitCode !== 0) console.error(down.all);
  rmSync(checkout, { recursive: true, force: true });
}, 600_000);

describe(`npm run local as ${USER} (docker group, not root)`, () => {
  it("sets the fresh checkout up without root or apt, and brings the stack up with Compose v2 and the offline images", () => {
    const out = up.all;
    expect(up.exitCode, out.slice(-6000)).toBe(0);
    // Setup's own lines: nothing installed on the host (the image build's apt-get runs in the image).
    expect(out).not.toMatch(/\[setup\] installing Debian packages|needs root|run as root/);
    expect(out).toMatch(/^tools +\/usr\/local\/bin\/docker +ready /m);
    expect(out).toContain("installing npm dependencies (npm ci)");
    expect(out).toMatch(/compose: docker compose \(Compose v2\+ \(docker compose version \d+\.\d+\.\d+\)\)/);
    expect(out).toMatch(/images: offline \(registry-1\.docker\.io cannot be reached/);
    expect(out).toContain("smoke check passed (9 checks)");
    expect(out).toContain(`HTTPS       https://localhost:${ports.https}/`);
  });

  it("keeps what it wrote the developer's, with the containers reading their files through ACLs", async () => {
    const stackDir = join(home, ".cache", "chatapi", "stacks", stack);
    const owners = (await run("find", [stackDir, "-not", "-user", USER])).stdout.trim();
    expect(owners, "files not owned by the developer").toBe("");
    // Each mounted file: the developer's, readable by its container's user (the API's: 10001).
    const acls = (await run("getfacl", ["-pR", join(stackDir, "files", "api")])).stdout;
    expect(acls).toMatch(new RegExp(`^# owner: ${USER}$`, "m"));
    expect(acls).toMatch(/^user:10001:r--$/m);
    expect(acls).not.toMatch(/^# owner: (?!chatapi-dev)/m);
    // The API instances read their secret files: healthy, as their own user.
    expect(
      await docker(
        "inspect",
        "--format",
        "{{.State.Health.Status}} {{.Config.User}}",
        await instanceContainer(stack, "api", 1),
      ),
    ).toBe("healthy 10001:10001");
  });
});
