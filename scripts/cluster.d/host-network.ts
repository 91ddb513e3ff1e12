// The host's iptables as the cluster changes it. Docker sets the FORWARD policy to DROP and bridged
// traffic passes iptables, so up accepts the pod CIDR in a chain of ours (CHATAPI-FORWARD) jumped
// to from FORWARD; down removes that jump and sweeps every KUBE-/CNI-/CHATAPI- chain that did not
// exist before the cluster first ran (kube-proxy --cleanup leaves some behind). The rule lists
// and the sweep plan are pure (unit-tested); apply*() runs them.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterConfig } from "./config";
import { run, succeeds, tryOutput } from "../../toolbox/exec";
import { die } from "./log";

export const FORWARD_CHAIN = "CHATAPI-FORWARD";
const FORWARD_JUMP = [
  "FORWARD",
  "-m",
  "comment",
  "--comment",
  "chatapi local cluster pod traffic",
  "-j",
  FORWARD_CHAIN,
];

export interface RuleToEnsure {
  /** iptables arguments that exit 0 when the rule is already there */
  check: string[];
  add: string[];
}

/** What up adds (idempotent: each rule is checked first): accept pod traffic, first in FORWARD. */
export function forwardRules(podCidr: string): RuleToEnsure[] {
  const accept = (flag: "-s" | "-d") => [FORWARD_CHAIN, flag, podCidr, "-j", "ACCEPT"];
  return [
    { check: ["-S", FORWARD_CHAIN], add: ["-N", FORWARD_CHAIN] },
    { check: ["-C", ...accept("-s")], add: ["-A", ...accept("-s")] },
    { check: ["-C", ...accept("-d")], add: ["-A", ...accept("-d")] },
    { check: ["-C", ...FORWARD_JUMP], add: ["-I", FORWARD_JUMP[0]!, "1", ...FORWARD_JUMP.slice(1)] },
  ];
}

/** What down removes first: the jump from FORWARD (the chain itself goes in the sweep). */
export const forwardJumpRemoval = (): string[] => ["-D", ...FORWARD_JUMP];

export const TABLES = ["filter", "nat", "mangle", "raw"] as const;
export type Family = "4" | "6";

/** Splits one line of `iptables -S` into arguments (double quotes, backslash escapes). */
export function splitRule(line: string): string[] {
  const args: string[] = [];
  let current = "";
  let quoted = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\" && i + 1 < line.length) {
      current += line[++i];
      started = true;
    } else if (c === '"') {
      quoted = !quoted;
      started = true;
    } else if (c === " " && !quoted) {
      if (started) args.push(current);
      current = "";
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
}

/** User chains defined in one table's `iptables -S` output. */
export const userChains = (rules: string): string[] =>
  rules.split("\n").flatMap((line) => (line.startsWith("-N ") ? [splitRule(line)[1]!] : []));

/** "<family> <table> <chain>" lines: the chains that exist before the cluster first ran. */
export const chainRecord = (family: Family, table: string, chains: string[]) =>
  chains.map((chain) => `${family} ${table} ${chain}`);

/**
 * The commands (iptables arguments) that remove, from one table, everything of this cluster:
 * rules elsewhere that jump to its chains, then its chains (all flushed before any is deleted:
 * they reference each other). A chain is the cluster's when its name starts with KUBE-, CNI- or
 * CHATAPI- and it was not there before the cluster first ran.
 */
export function sweepPlan(family: Family, table: string, rules: string, before: Set<string>): string[][] {
  const ours = (chain: string) =>
    /^(KUBE|CNI|CHATAPI)-/.test(chain) && !before.has(`${family} ${table} ${chain}`);
  const commands: string[][] = [];
  for (const line of rules.split("\n")) {
    if (!line.startsWith("-A ")) continue;
    const args = splitRule(line);
    const chain = args[1]!;
    const jump = args.indexOf("-j");
    const target = jump >= 0 ? args[jump + 1] : undefined;
    if (!ours(chain) && target && ours(target)) commands.push(["-t", table, "-D", ...args.slice(1)]);
  }
  const chains = userChains(rules).filter(ours);
  for (const chain of chains) commands.push(["-t", table, "-F", chain]);
  for (const chain of chains) commands.push(["-t", table, "-X", chain]);
  return commands;
}

const beforeFile = (config: ClusterConfig) => join(config.paths.run, "iptables-chains-before");
const tool = (family: Family) => (family === "4" ? "iptables" : "ip6tables");

async function allChains(family: Family): Promise<string[]> {
  const lines: string[] = [];
  for (const table of TABLES) {
    const rules = await tryOutput(tool(family), ["-t", table, "-S"]);
    if (rules !== undefined) lines.push(...chainRecord(family, table, userChains(rules)));
  }
  return lines;
}

/** Kernel settings and the FORWARD accept rules; records the chains that exist before the first up. */
export async function prepareHostNetwork(config: ClusterConfig): Promise<void> {
  await succeeds("modprobe", ["br_netfilter"]);
  await succeeds("modprobe", ["overlay"]);
  await run("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
  if (existsSync("/proc/sys/net/bridge/bridge-nf-call-iptables"))
    await run("sysctl", ["-qw", "net.bridge.bridge-nf-call-iptables=1"]);
  if (!existsSync(beforeFile(config))) {
    mkdirSync(config.paths.run, { recursive: true });
    const lines = [...(await allChains("4")), ...(await allChains("6"))];
    writeFileSync(beforeFile(config), lines.map((l) => `${l}\n`).join(""));
  }
  for (const rule of forwardRules(config.network.podCidr))
    if (!(await succeeds("iptables", rule.check))) await run("iptables", rule.add);
}

/** Removes our jump from FORWARD and sweeps our chains from both families. */
export async function sweepIptables(config: ClusterConfig): Promise<void> {
  await succeeds("iptables", forwardJumpRemoval());
  const before = new Set(
    existsSync(beforeFile(config))
      ? readFileSync(beforeFile(config), "utf8").split("\n").filter(Boolean)
      : [],
  );
  for (const family of ["4", "6"] as const) {
    for (const table of TABLES) {
      const rules = await tryOutput(tool(family), ["-t", table, "-S"]);
      if (rules === undefined) continue;
      for (const command of sweepPlan(family, table, rules, before)) await succeeds(tool(family), command);
    }
  }
}

/** Whether our FORWARD chain exists (down uses it to see if anything is left to clean). */
export const forwardChainExists = () => succeeds("iptables", ["-S", FORWARD_CHAIN]);

export const iptablesBeforeFile = beforeFile;

/** The source address of `ip -4 -o route get 1.1.1.1` (the address outside traffic leaves from). */
export function routeSource(route: string): string | undefined {
  return / src (\d+\.\d+\.\d+\.\d+)/.exec(route)?.[1];
}

/** The first global IPv4 address of `ip -4 -o addr show scope global` not on a Docker, veth or our bridge. */
export function firstHostAddress(addresses: string, bridge: string): string | undefined {
  for (const line of addresses.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const device = fields[1] ?? "";
    if (/^(docker|br-|veth)/.test(device) || device === bridge) continue;
    const inet = fields.indexOf("inet");
    if (inet >= 0 && fields[inet + 1]) return fields[inet + 1]!.split("/")[0];
  }
  return undefined;
}

/** The node's IPv4 address: CHATAPI_NODE_IP, else the routing table's source address, else the first host address. */
export async function nodeIp(config: ClusterConfig): Promise<string> {
  const ip =
    config.nodeIpOverride ??
    routeSource((await tryOutput("ip", ["-4", "-o", "route", "get", "1.1.1.1"])) ?? "") ??
    firstHostAddress(
      (await tryOutput("ip", ["-4", "-o", "addr", "show", "scope", "global"])) ?? "",
      config.network.bridge,
    );
  if (!ip || ip.startsWith("127."))
    die("cannot find a non-loopback IPv4 address for the node (set CHATAPI_NODE_IP)");
  return ip;
}
