// The rendered host firewall against the real iptables/ip6tables parsers: `--test` parses and
// checks every rule (matches, targets, chain) without committing anything to the kernel.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadStackConfig } from "../config/load";
import { readStackFile } from "../config/stack-file";
import { repoRoot } from "../../test/support/paths";
import { makeCertificate } from "../../test/support/tls-fixture";
import { buildPlan } from "../plan/build-plan";
import { renderFirewall } from "./render-firewall";

const run = promisify(execFile);

function restoreTest(
  tool: "iptables-restore" | "ip6tables-restore",
  rules: string,
): Promise<{ stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(tool, ["--test", "--noflush"], (error, _stdout, stderr) =>
      error
        ? reject(new Error(`${tool} rejected the rules: ${stderr || error.message}`))
        : resolve({ stderr }),
    );
    child.stdin!.end(rules);
  });
}

function firewallOf(stack: string, secrets: Record<string, string> = {}) {
  const file = readStackFile(repoRoot, stack, secrets);
  const config = loadStackConfig({ stack, ...file, appVersion: "1.0.0" });
  return renderFirewall(buildPlan({ config, appVersion: "1.0.0" }).firewall);
}

describe("rendered firewall rules on the real iptables", () => {
  const tls = makeCertificate("chat.example.com");
  const stacks = {
    local: () => firewallOf("local"),
    dockerhost: () =>
      firewallOf("dockerhost", {
        "chatapi:tlsCertificate": tls.certificate,
        "chatapi:tlsPrivateKey": tls.privateKey,
      }),
  };

  it.each(Object.keys(stacks))(
    "%s: iptables-restore --test accepts the IPv4 DOCKER-USER rules",
    async (stack) => {
      await restoreTest("iptables-restore", stacks[stack as keyof typeof stacks]().dockerUserIpv4);
    },
  );

  it.each(Object.keys(stacks))(
    "%s: ip6tables-restore --test accepts the IPv6 DOCKER-USER rules",
    async (stack) => {
      await restoreTest("ip6tables-restore", stacks[stack as keyof typeof stacks]().dockerUserIpv6);
    },
  );

  it("iptables-restore --test really checks: a broken rule is refused", async () => {
    const broken = stacks
      .dockerhost()
      .dockerUserIpv4.replace("--ctorigdstport 443", "--ctorigdstport https-port");
    await expect(restoreTest("iptables-restore", broken)).rejects.toThrow(/rejected the rules/);
  });

  it("the ufw script is valid shell and opens only SSH, HTTP and HTTPS", async () => {
    const { ufw } = stacks.dockerhost();
    await run("sh", ["-n", "-c", ufw]);
    const allows = ufw.split("\n").filter((line) => line.startsWith("ufw allow"));
    expect(allows).toEqual([
      "ufw allow from 203.0.113.0/24 to any port 22 proto tcp comment 'SSH'",
      "ufw allow 80/tcp comment 'HTTP (redirects to HTTPS)'",
      "ufw allow 443/tcp comment 'HTTPS and WebSocket'",
    ]);
    expect(ufw).toContain("ufw default deny incoming");
  });
});
