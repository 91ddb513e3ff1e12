// The rendered nginx.conf of each shipped Docker stack passes `nginx -t` in the real nginx; and
// run in the real nginx, its logs never hold a /ws token, it limits upgrades per address, and it
// answers /health/ready only to private networks.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../config/load";
import { readStackFile } from "../config/stack-file";
import { writeLoopbackConfig, nginxTest, startNginx, stop } from "../../test/support/nginx";
import { repoRoot } from "../../test/support/paths";
import { freePort } from "../../toolbox/processes";
import { makeCertificate } from "../../test/support/tls-fixture";
import { buildPlan } from "../plan/build-plan";

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe("rendered nginx config in the real nginx", () => {
  const tls = makeCertificate("chat.example.com");
  const secrets = { "chatapi:tlsCertificate": tls.certificate, "chatapi:tlsPrivateKey": tls.privateKey };

  it.each(["local", "dockerhost", "prod"])("%s: nginx -t accepts it", async (stack) => {
    const file = readStackFile(repoRoot, stack, stack === "dockerhost" ? secrets : {});
    const plan = buildPlan({
      config: loadStackConfig({ stack, ...file, appVersion: "1.0.0" }),
      appVersion: "1.0.0",
    });
    const dir = mkdtempSync(join(tmpdir(), `chatapi-nginx-${stack}-`));
    dirs.push(dir);
    const upstreams = [1, 2, 3].map((n) => ({ host: `127.0.0.${n}`, port: 8000 }));
    const nginx = await writeLoopbackConfig(plan.loadBalancer, dir, {
      http: await freePort(),
      https: await freePort(),
      upstreams,
      tls,
    });
    const report = await nginxTest(nginx);
    expect(report).toContain("syntax is ok");
    expect(report).toContain("test is successful");
  });

  it("nginx -t really checks: a config with a typo is refused", async () => {
    const file = readStackFile(repoRoot, "local");
    const plan = buildPlan({
      config: loadStackConfig({ stack: "local", ...file, appVersion: "1.0.0" }),
      appVersion: "1.0.0",
    });
    const dir = mkdtempSync(join(tmpdir(), "chatapi-nginx-bad-"));
    dirs.push(dir);
    const nginx = await writeLoopbackConfig({ ...plan.loadBalancer, clientMaxBodySize: "1 megabyte" }, dir, {
      http: await freePort(),
      https: await freePort(),
      upstreams: [{ host: "127.0.0.1", port: 8000 }],
      tls,
    });
    await expect(nginxTest(nginx)).rejects.toThrow(/nginx -t failed/);
  });
});

/** One HTTPS request through the test nginx; resolves with the status. */
function get(port: number, path: string, ca: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, servername: "localhost", ca, agent: false, headers },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("the rendered nginx config, running (upstream down)", () => {
  const tls = makeCertificate("localhost");
  let child: ChildProcess | undefined;
  let stderr = "";
  let https = 0;
  let dir = "";

  afterAll(() => stop(child));

  it("starts, with the API instance unreachable and its own client address taken from a trusted proxy", async () => {
    const file = readStackFile(repoRoot, "local");
    const plan = buildPlan({
      config: loadStackConfig({ stack: "local", ...file, appVersion: "1.0.0" }),
      appVersion: "1.0.0",
    });
    dir = mkdtempSync(join(tmpdir(), "chatapi-nginx-run-"));
    dirs.push(dir);
    // Loopback as a trusted proxy: the tests below speak for any client address.
    const lb = { ...plan.loadBalancer, trustedProxies: ["127.0.0.0/8"] };
    const nginx = await writeLoopbackConfig(lb, dir, {
      http: await freePort(),
      https: await freePort(),
      upstreams: [{ host: "127.0.0.1", port: await freePort() }], // nothing listens there
      tls,
    });
    https = nginx.https;
    child = await startNginx(nginx);
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  });

  it("keeps a /ws access token out of the access log and the error log, even when the upstream fails", async () => {
    const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb2dnZWQifQ.c2lnbmF0dXJlLW5vdC1mb3ItbG9ncw";
    const status = await get(https, `/ws?token=${token}&after=1`, tls.certificate, from("198.51.100.60"));
    expect(status).toBe(502);
    await new Promise((resolve) => setTimeout(resolve, 300)); // log lines are written after the answer
    const access = readFileSync(join(dir, "access.log"), "utf8");
    expect(access).toContain('"request":"GET /ws HTTP/1.1","status":502');
    expect(access).not.toContain("token=");
    expect(access + stderr).not.toContain(token.split(".")[2]!);
  });

  it("limits WebSocket upgrades per client address (burst, then 429), other addresses unaffected", async () => {
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 300 }, () => get(https, "/ws", tls.certificate, from("198.51.100.61"))),
    );
    const seconds = (Date.now() - started) / 1000;
    const limited = statuses.filter((s) => s === 429).length;
    // 100 at once, then 20 a second, however long the 300 took on a busy machine.
    expect(300 - limited).toBeLessThanOrEqual(100 + Math.ceil(20 * seconds) + 1);
    expect(limited).toBeGreaterThan(0);
    expect(await get(https, "/ws", tls.certificate, from("198.51.100.62"))).toBe(502);
  });

  it("answers /health/ready only to private addresses; /health to anyone; nothing else under /health", async () => {
    expect(await get(https, "/health/ready", tls.certificate, from("203.0.113.70"))).toBe(403);
    expect(await get(https, "/health/ready", tls.certificate, from("10.1.2.3"))).toBe(502); // proxied
    expect(await get(https, "/health", tls.certificate, from("203.0.113.70"))).toBe(502); // proxied
    expect(await get(https, "/health/anything", tls.certificate, from("10.1.2.3"))).toBe(404);
    expect(await get(https, "/metrics", tls.certificate, from("10.1.2.3"))).toBe(404);
  });
});

const from = (address: string) => ({ "x-forwarded-for": address });
