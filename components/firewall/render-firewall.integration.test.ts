// The rendered host firewall against the real iptables, in a network namespace of the test's own
// (nothing of this machine's rules is touched): the parsers accept the rules (`--test`), and the
// firewall container's script applies them beside a host's own rules (a DOCKER-USER chain as
// Docker makes it, and an INPUT rule of the host's), a second apply changes nothing, `remove`
// leaves exactly the host's rules, another stack's firewall is refused. The traffic it lets
// through is proven on a real stack in test/docker/firewall.docker.test.ts.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../config/load";
import { readStackFile } from "../config/stack-file";
import { repoRoot } from "../../test/support/paths";
import { makeCertificate } from "../../test/support/tls-fixture";
import { buildPlan } from "../plan/build-plan";
import { FORWARD_CHAIN, INPUT_CHAIN, renderFirewall } from "./render-firewall";

const run = promisify(execFile);
const namespace = `chatapi-fw${process.pid}`;
const work = mkdtempSync(join(tmpdir(), "chatapi-firewall-"));

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

function firewallOf(
  stack: string,
  secrets: Record<string, string> = {},
  changes: Record<string, string> = {},
) {
  const file = readStackFile(repoRoot, stack, secrets);
  const config = loadStackConfig({
    stack,
    ...file,
    config: { ...file.config, ...changes },
    appVersion: "1.0.0",
  });
  return buildPlan({ config, appVersion: "1.0.0" }).firewall;
}

const tls = makeCertificate("chat.example.com");
const dockerhost = (changes: Record<string, string> = {}) =>
  firewallOf(
    "dockerhost",
    { "chatapi:tlsCertificate": tls.certificate, "chatapi:tlsPrivateKey": tls.privateKey },
    changes,
  );

/** The rendered script of a stack, with its rules, in a folder of its own; runs it in the namespace. */
function install(name: string, plan = dockerhost()) {
  const rendered = renderFirewall({ ...plan, externalInterface: "fw-ext", owner: name });
  const dir = join(work, name);
  execFileSync("mkdir", ["-p", dir]);
  writeFileSync(join(dir, "firewall.sh"), rendered.script);
  writeFileSync(join(dir, "rules.v4"), rendered.rulesIpv4);
  writeFileSync(join(dir, "rules.v6"), rendered.rulesIpv6);
  return async (command: string) => {
    try {
      const { stdout, stderr } = await run(
        "ip",
        ["netns", "exec", namespace, "bash", join(dir, "firewall.sh"), command],
        {
          env: { ...process.env, FIREWALL_DIR: dir },
        },
      );
      return { code: 0, out: stdout + stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
    }
  };
}

/** The namespace's filter tables as iptables-save prints them, counters and comments about time left out. */
async function tables(): Promise<string> {
  const out: string[] = [];
  for (const tool of ["iptables-save", "ip6tables-save"]) {
    const { stdout } = await run("ip", ["netns", "exec", namespace, tool, "-t", "filter"]);
    out.push(
      stdout
        .split("\n")
        .filter((l) => !l.startsWith("#"))
        .map((l) => l.replace(/\[\d+:\d+\]/, ""))
        .join("\n"),
    );
  }
  return out.join("\n");
}

beforeAll(async () => {
  await run("ip", ["netns", "add", namespace]);
  // What a Docker host has before the stack: Docker's DOCKER-USER chain (with its RETURN) in
  // FORWARD, and a rule of the host's own in INPUT.
  for (const tool of ["iptables", "ip6tables"]) {
    const ns = (...args: string[]) => run("ip", ["netns", "exec", namespace, tool, ...args]);
    await ns("-N", "DOCKER-USER");
    await ns("-A", "DOCKER-USER", "-j", "RETURN");
    await ns("-A", "FORWARD", "-j", "DOCKER-USER");
    await ns("-A", "INPUT", "-i", "lo", "-m", "comment", "--comment", "the host rule", "-j", "ACCEPT");
  }
});

afterAll(async () => {
  await run("ip", ["netns", "del", namespace]).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

describe("the host firewall on the real iptables (in a network namespace of its own)", () => {
  it.each(["iptables-restore", "ip6tables-restore"] as const)(
    "%s --test accepts the rendered rules",
    async (tool) => {
      const rendered = renderFirewall(dockerhost());
      await restoreTest(tool, tool === "iptables-restore" ? rendered.rulesIpv4 : rendered.rulesIpv6);
    },
  );

  it("iptables-restore --test really checks: a broken rule is refused", async () => {
    const broken = renderFirewall(dockerhost()).rulesIpv4.replace(
      "--ctorigdstport 443",
      "--ctorigdstport https-port",
    );
    await expect(restoreTest("iptables-restore", broken)).rejects.toThrow(/rejected the rules/);
  });

  it("the script is valid bash that shellcheck accepts", async () => {
    const path = join(work, "check.sh");
    writeFileSync(path, renderFirewall(dockerhost()).script);
    await run("bash", ["-n", path]);
    await run("shellcheck", ["-s", "bash", path]);
  });

  it("allows only SSH from its sources, HTTP and HTTPS from outside, in chains of its own", () => {
    const rules = renderFirewall(dockerhost())
      .rulesIpv4.split("\n")
      .filter((l) => l.startsWith("-A"));
    expect(rules.filter((l) => l.includes("--dport") || l.includes("--ctorigdstport"))).toEqual(
      [
        `-A ${INPUT_CHAIN} -s 203.0.113.0/24 -p tcp --dport 22 -j RETURN`,
        `-A ${INPUT_CHAIN} -p tcp --dport 80 -j RETURN`,
        `-A ${INPUT_CHAIN} -p tcp --dport 443 -j RETURN`,
        `-A ${INPUT_CHAIN} -p udp --sport 67 --dport 68 -j RETURN`,
        `-A ${FORWARD_CHAIN} -p tcp -m conntrack --ctorigdstport 80 --ctdir ORIGINAL -j RETURN`,
        `-A ${FORWARD_CHAIN} -p tcp -m conntrack --ctorigdstport 443 --ctdir ORIGINAL -j RETURN`,
      ].sort((a, b) => rules.indexOf(a) - rules.indexOf(b)),
    );
    expect(rules.at(-1)).toBe(`-A ${FORWARD_CHAIN} -j DROP`);
    expect(rules).toContain(`-A ${INPUT_CHAIN} -j DROP`);
    // Nothing but its own chains: no rule of INPUT, FORWARD or DOCKER-USER themselves.
    expect(
      rules.every((l) => l.startsWith(`-A ${INPUT_CHAIN} `) || l.startsWith(`-A ${FORWARD_CHAIN} `)),
    ).toBe(true);
  });

  it("applies beside the host's rules, a second apply changes nothing, remove leaves exactly the host's rules", async () => {
    const firewall = install("chatapi-fwtest");
    const before = await tables();
    const applied = await firewall("apply");
    expect(applied.code, applied.out).toBe(0);
    const once = await tables();
    expect((await firewall("check")).out).toMatch(/^healthy: applied on fw-ext/);
    for (const jump of [
      `-A INPUT -i fw-ext -m comment --comment chatapi-fwtest -j ${INPUT_CHAIN}`,
      `-A DOCKER-USER -i fw-ext -m comment --comment chatapi-fwtest -j ${FORWARD_CHAIN}`,
    ])
      expect(once.split("\n").filter((l) => l === jump)).toHaveLength(2); // IPv4 and IPv6
    // Our jumps come first; the host's own rules are all still there, in their order.
    expect(once).toContain('-A INPUT -i lo -m comment --comment "the host rule" -j ACCEPT');
    expect(once).toContain("-A DOCKER-USER -j RETURN");
    expect((await firewall("apply")).code).toBe(0);
    expect(await tables()).toBe(once);
    // A rule removed on the host: check says so (the running container applies it again).
    await run("ip", ["netns", "exec", namespace, "iptables", "-D", INPUT_CHAIN, "1"]);
    expect((await firewall("check")).out).toMatch(/^unhealthy: changed: CHATAPI-INPUT has \d+ rules/);
    expect((await firewall("apply")).code).toBe(0);
    expect(await tables()).toBe(once);
    expect((await firewall("remove")).code).toBe(0);
    expect(await tables()).toBe(before);
  });

  it("refuses when another stack's firewall holds the chains, and leaves it alone", async () => {
    const first = install("chatapi-first");
    const second = install("chatapi-second");
    expect((await first("apply")).code).toBe(0);
    const held = await tables();
    const refused = await second("apply");
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain("already used by another stack's firewall on this host; refusing");
    expect(await tables()).toBe(held);
    expect((await first("remove")).code).toBe(0);
  });
});
