// The release switch's dynamic provider, serialized as `pulumi up` carries it and loaded as
// Pulumi's provider host loads it (test/support/serialized-release-switch.ts), pointed at a tcp://
// engine with TLS: a stand-in docker on PATH records the engine and TLS files each command got.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serializedReleaseSwitch } from "../../test/support/serialized-release-switch";

const bin = mkdtempSync(join(tmpdir(), "chatapi-fake-docker-"));
const log = join(bin, "calls.log");
// Each call: its first argument, DOCKER_HOST, DOCKER_TLS_VERIFY, the key file's content; "inspect" says nginx is not running.
writeFileSync(
  join(bin, "docker"),
  `#!/bin/sh
echo "$1|$DOCKER_HOST|$DOCKER_TLS_VERIFY|$(cat "$DOCKER_CERT_PATH/key.pem")|$DOCKER_CERT_PATH" >> ${log}
[ "$1" = inspect ] && echo false
cat > /dev/null
exit 0
`,
);
chmodSync(join(bin, "docker"), 0o755);
const savedPath = process.env.PATH;
afterAll(() => {
  process.env.PATH = savedPath;
});

describe("the serialized release switch on a tcp:// engine with TLS", () => {
  it("runs every docker command against the engine with its TLS files, removed afterwards", async () => {
    const provider = await serializedReleaseSwitch();
    process.env.PATH = `${bin}:${savedPath}`;
    const { outs } = await provider.create({
      engine: { host: "tcp://203.0.113.7:2376", tls: { ca: "CA", cert: "CERT", key: "KEY PEM" } },
      volume: "chatapi-t-nginx-release",
      helperImage: "nginxinc/nginx-unprivileged:1.28",
      file: { path: "/etc/nginx/chatapi/release/servers.conf", content: "server api-1:8000;\n" },
      nginx: { container: "chatapi-t-nginx", config: "/etc/nginx/nginx.conf" },
      release: "r1",
    });
    expect(outs?.reloaded).toBe(false);
    const calls = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split("|"));
    expect(calls.map(([command, host, verify, key]) => [command, host, verify, key])).toEqual([
      ["run", "tcp://203.0.113.7:2376", "1", "KEY PEM"],
      ["inspect", "tcp://203.0.113.7:2376", "1", "KEY PEM"],
    ]);
    for (const call of calls) expect(existsSync(call[4]!)).toBe(false);
  });
});
