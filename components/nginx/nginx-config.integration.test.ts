// The rendered nginx.conf of each shipped Docker stack passes `nginx -t` in the real nginx.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../config/load";
import { readStackFile } from "../config/stack-file";
import { writeLoopbackConfig, nginxTest } from "../../test/support/nginx";
import { repoRoot } from "../../test/support/paths";
import { freePort } from "../../test/support/ports";
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
