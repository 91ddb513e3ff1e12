// The certbot container's script as rendered from the plan: valid bash (shellcheck too), the
// values it was given, quoted; the private ACME server's CA only when there is one.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { CertbotPlan } from "../plan/types";
import { renderCertbotScript } from "./certbot-script";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "chatapi-certbot-script-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const plan: CertbotPlan = {
  email: "o'brien@example.com",
  server: "https://acme.example.com/directory",
  renewCheckSeconds: 43200,
  nginx: { webroot: "/w", certificate: "/c", privateKey: "/k" },
};

describe("renderCertbotScript", () => {
  it("is valid bash that shellcheck accepts", async () => {
    const path = join(work, "acme.sh");
    writeFileSync(path, renderCertbotScript("chat.example.com", plan));
    await run("bash", ["-n", path]);
    await run("shellcheck", ["-s", "bash", path]);
  });

  it("carries the domain, account, server and schedule, quoted; retries a failed run within 5 minutes", () => {
    const script = renderCertbotScript("chat.example.com", plan);
    expect(script).toContain("domain='chat.example.com'");
    expect(script).toContain("email='o'\\''brien@example.com'");
    expect(script).toContain("server='https://acme.example.com/directory'");
    expect(script).toContain("interval=43200");
    expect(script).toContain("retry=300");
    expect(renderCertbotScript("chat.example.com", { ...plan, renewCheckSeconds: 20 })).toContain("retry=20");
  });

  it("renews without certbot's random delay (the loop is not tied to the clock; the delay held every run back)", () => {
    expect(renderCertbotScript("x.example.com", plan)).toContain(
      'attempt renew renew --cert-name "$domain" --no-random-sleep-on-renew',
    );
  });

  it("trusts a private ACME server's CA only when the plan has one", () => {
    expect(renderCertbotScript("x.example.com", plan)).not.toContain("REQUESTS_CA_BUNDLE");
    expect(renderCertbotScript("x.example.com", { ...plan, serverCa: "PEM" })).toContain(
      "export REQUESTS_CA_BUNDLE=/etc/chatapi/acme-server-ca.pem",
    );
  });

  it("refuses an interval that is not a whole number of seconds", () => {
    expect(() => renderCertbotScript("x.example.com", { ...plan, renewCheckSeconds: 1.5 })).toThrow(
      "the renewal check interval must be a whole number of seconds, not 1.5",
    );
  });
});
