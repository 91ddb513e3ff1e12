// The Pulumi Docker target's release switch for real: its dynamic provider serialized the way a
// `pulumi up` serializes it (the program under ts-node, Pulumi's closure serializer), loaded the
// way Pulumi's dynamic provider host loads it (require-from-string, `.handler()`), and run
// against the real Docker engine and a real nginx in front of two "releases" (tiny HTTP
// servers answering their release's name): create before nginx runs, an update that moves the
// traffic by a graceful reload, and an update naming an instance that does not exist, refused
// while nginx keeps serving the live release.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, run } from "../../toolbox/exec";
import { freePort } from "../../toolbox/processes";
import { serializedReleaseSwitch } from "../../test/support/serialized-release-switch";
import { renderReleaseServers } from "../nginx/render-nginx-config";
import { nginxWorkers } from "./nginx-reload";
import type { ReleaseSwitchInputs, releaseSwitchProvider } from "./release-switch-resource";

const IMAGE = "chatapi-local/nginx-unprivileged:1";
const id = randomUUID().slice(0, 6);
const network = `chatapi-rs${id}`;
const volume = `chatapi-rs${id}-release`;
const nginx = `chatapi-rs${id}-nginx`;
const backends = { aaaaaaaa: `chatapi-rs${id}-api-a`, bbbbbbbb: `chatapi-rs${id}-api-b` };
const dir = mkdtempSync(join(tmpdir(), "chatapi-release-switch-"));
let port: number;
let provider: typeof releaseSwitchProvider;

const conf = (body: string) =>
  [
    "pid /tmp/nginx.pid;",
    "error_log stderr warn;",
    "daemon off;",
    "worker_shutdown_timeout 10s;",
    "events { worker_connections 64; }",
    "http {",
    "  client_body_temp_path /tmp/c; proxy_temp_path /tmp/p; fastcgi_temp_path /tmp/f; uwsgi_temp_path /tmp/u; scgi_temp_path /tmp/s;",
    body,
    "}",
  ].join("\n");

const inputs = (release: string, host = `api-${release}-1`): ReleaseSwitchInputs => ({
  engine: {},
  volume,
  helperImage: IMAGE,
  file: {
    path: "/etc/nginx/chatapi/release/servers.conf",
    content: renderReleaseServers(release, [{ host, port: 8000 }]),
  },
  nginx: { container: nginx, config: "/etc/nginx/chatapi/nginx.conf" },
  release,
});

const answer = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();

beforeAll(async () => {
  provider = await serializedReleaseSwitch();

  port = await freePort();
  await docker("network", "create", "--label", `chatapi.stack=rs${id}`, network);
  await docker("volume", "create", "--label", `chatapi.stack=rs${id}`, volume);
  for (const [release, name] of Object.entries(backends)) {
    const file = join(dir, `${release}.conf`);
    writeFileSync(file, conf(`  server { listen 8000; location / { return 200 "release ${release}\\n"; } }`));
    await docker(
      "run",
      "-d",
      "--name",
      name,
      "--label",
      `chatapi.stack=rs${id}`,
      "--network",
      network,
      "--network-alias",
      `api-${release}-1`,
      "--read-only",
      "--tmpfs",
      "/tmp",
      "-v",
      `${file}:/etc/nginx/n.conf:ro`,
      "--entrypoint",
      "nginx",
      IMAGE,
      "-c",
      "/etc/nginx/n.conf",
    );
  }
  writeFileSync(
    join(dir, "nginx.conf"),
    conf(
      [
        "  upstream chatapi_backend { include /etc/nginx/chatapi/release/servers.conf; }",
        "  server { listen 8080; location / { proxy_pass http://chatapi_backend; } }",
      ].join("\n"),
    ),
  );
}, 180_000);

afterAll(async () => {
  await run("docker", ["rm", "-f", nginx, ...Object.values(backends)], { reject: false });
  await run("docker", ["volume", "rm", volume], { reject: false });
  await run("docker", ["network", "rm", network], { reject: false });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("the release switch's dynamic provider, serialized as Pulumi carries it, on the real engine", () => {
  it("creates: writes the servers file before nginx exists; nginx then starts with it", async () => {
    const created = await provider.create(inputs("aaaaaaaa"));
    expect(created.outs).toMatchObject({ release: "aaaaaaaa", reloaded: false });
    await docker(
      "run",
      "-d",
      "--name",
      nginx,
      "--label",
      `chatapi.stack=rs${id}`,
      "--network",
      network,
      "-p",
      `127.0.0.1:${port}:8080`,
      "--read-only",
      "--tmpfs",
      "/tmp",
      "--user",
      "101:101",
      "-v",
      `${join(dir, "nginx.conf")}:/etc/nginx/chatapi/nginx.conf:ro`,
      "-v",
      `${volume}:/etc/nginx/chatapi/release:ro`,
      "--entrypoint",
      "nginx",
      IMAGE,
      "-c",
      "/etc/nginx/chatapi/nginx.conf",
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = await answer().catch(() => "");
      if (text) break;
      if (Date.now() > deadline) throw new Error("nginx did not answer");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await answer()).toBe("release aaaaaaaa\n");
  });

  it("updates: moves the traffic to the new release by a reload (new workers, same nginx process)", async () => {
    const started = await docker("inspect", "--format", "{{.State.StartedAt}}", nginx);
    const [before] = await nginxWorkers({}, nginx);
    const diff = await provider.diff!("x", inputs("aaaaaaaa") as never, inputs("bbbbbbbb") as never);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update!("x", inputs("aaaaaaaa") as never, inputs("bbbbbbbb") as never);
    expect(updated.outs).toMatchObject({ release: "bbbbbbbb", reloaded: true });
    expect(await answer()).toBe("release bbbbbbbb\n");
    const [after] = await nginxWorkers({}, nginx);
    expect(after.some((pid) => before.includes(pid))).toBe(false);
    expect(await docker("inspect", "--format", "{{.State.StartedAt}}", nginx)).toBe(started);
  });

  it("refuses an instance that does not resolve: nginx keeps serving the live release, whose file is put back", async () => {
    const failed = await provider.update!("x", inputs("bbbbbbbb") as never, inputs("cccccccc") as never).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failed?.message).toMatch(
      /nginx in .* refused the new configuration .*host not found in upstream "api-cccccccc-1/s,
    );
    expect(await answer()).toBe("release bbbbbbbb\n");
    expect(await docker("exec", nginx, "cat", "/etc/nginx/chatapi/release/servers.conf")).toContain(
      "api-bbbbbbbb-1",
    );
  });
});
