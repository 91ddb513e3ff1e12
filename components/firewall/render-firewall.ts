// A Docker host's firewall, rendered from the plan (pure): the rules and the script the stack's
// firewall container runs to apply them while it runs and remove them when it stops.
//
// Only traffic that comes in on the external interface is filtered, and only in two chains of
// our own, reached by one jump each (marked with a comment naming the stack):
//   CHATAPI-INPUT        from INPUT: traffic to the host itself (SSH, anything listening on it);
//   CHATAPI-DOCKER-USER  from DOCKER-USER: traffic to published container ports. Docker's DNAT
//                        happens before INPUT, so ufw-style INPUT rules never see it; Docker leaves
//                        DOCKER-USER to the administrator and jumps to it before its own rules.
//                        After DNAT the destination port is the container's, so the rules match
//                        the port the client asked for (conntrack --ctorigdstport).
// What they allow goes back (RETURN) to the host's own rules, which still decide; everything
// else from outside is dropped. The host's rules, Docker's chains and other interfaces are never
// touched: applying flushes and refills only our chains and adds a jump only when it is missing
// (a second apply changes nothing); removing deletes exactly our jumps and chains.
import type { FirewallPlan } from "../plan/types";

export const INPUT_CHAIN = "CHATAPI-INPUT";
export const FORWARD_CHAIN = "CHATAPI-DOCKER-USER";
/** Inside the firewall container. */
export const FIREWALL_DIR = "/etc/chatapi/firewall";
/** Seconds between checks that the rules are still in place (re-applied when the host dropped them). */
export const FIREWALL_CHECK_SECONDS = 30;

export interface RenderedFirewall {
  /** iptables-restore --noflush input: our two chains, IPv4. */
  rulesIpv4: string;
  /** The same for ip6tables-restore. */
  rulesIpv6: string;
  /** The firewall container's script: run | apply | remove | check. */
  script: string;
}

const isIpv6 = (cidr: string) => cidr.includes(":");

/** What a host must let in for itself to keep working (ufw's before.rules do the same). */
function hostEssentials(family: 4 | 6): string[] {
  if (family === 4)
    return [
      "-p icmp --icmp-type destination-unreachable -j RETURN",
      "-p icmp --icmp-type time-exceeded -j RETURN",
      "-p icmp --icmp-type parameter-problem -j RETURN",
      "-p icmp --icmp-type echo-request -j RETURN",
      "-p udp --sport 67 --dport 68 -j RETURN",
    ];
  return [
    ...[1, 2, 3, 4, 128, 133, 134, 135, 136, 137].map(
      (type) => `-p ipv6-icmp --icmpv6-type ${type} -j RETURN`,
    ),
    "-s fe80::/10 -p udp --sport 547 --dport 546 -j RETURN",
  ];
}

function chains(plan: FirewallPlan, family: 4 | 6): string {
  const anywhere = family === 4 ? "0.0.0.0/0" : "::/0";
  const sources = (from: string[]) =>
    from
      .map((cidr) => (cidr === "0.0.0.0/0" ? anywhere : cidr))
      .filter((cidr) => isIpv6(cidr) === (family === 6))
      .map((cidr) => (cidr === anywhere ? "" : `-s ${cidr} `));
  const lines = [
    `# Rendered by the chatapi toolkit for stack ${plan.owner}: ${family === 4 ? "iptables" : "ip6tables"}-restore --noflush < this file`,
    "# (declaring a chain flushes and refills it; nothing else is touched).",
    "*filter",
    `:${INPUT_CHAIN} - [0:0]`,
    `:${FORWARD_CHAIN} - [0:0]`,
    "# To the host itself, from outside: replies, what the host needs, then the open ports.",
    `-A ${INPUT_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    ...hostEssentials(family).map((rule) => `-A ${INPUT_CHAIN} ${rule}`),
  ];
  for (const rule of plan.inbound)
    for (const src of sources(rule.from))
      lines.push(
        `# ${rule.purpose}`,
        `-A ${INPUT_CHAIN} ${src}-p ${rule.protocol} --dport ${rule.port} -j RETURN`,
      );
  lines.push(
    `-A ${INPUT_CHAIN} -j DROP`,
    "# To published container ports, from outside: replies, then the published ports nginx owns.",
    `-A ${FORWARD_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
  );
  for (const rule of plan.published)
    for (const src of sources(rule.from))
      lines.push(
        `# ${rule.purpose}`,
        `-A ${FORWARD_CHAIN} ${src}-p ${rule.protocol} -m conntrack --ctorigdstport ${rule.port} --ctdir ORIGINAL -j RETURN`,
      );
  lines.push(`-A ${FORWARD_CHAIN} -j DROP`, "COMMIT", "");
  return lines.join("\n");
}

function script(plan: FirewallPlan): string {
  const marker = plan.owner;
  return `#!/bin/bash
# Rendered by the chatapi toolkit from the deployment plan (components/firewall/render-firewall.ts).
# The host firewall of stack ${plan.owner}, for traffic coming in on ${plan.externalInterface}:
#   firewall.sh run      apply, keep applied (checked every ${FIREWALL_CHECK_SECONDS} s), remove on SIGTERM
#   firewall.sh apply | remove | check
# Only the chains ${INPUT_CHAIN} and ${FORWARD_CHAIN} and one jump to each (comment "${marker}") are
# ever written; the host's own rules and Docker's chains stay as they are.
set -u
ext=${plan.externalInterface}
marker=${marker}
dir=\${FIREWALL_DIR:-${FIREWALL_DIR}}

# The iptables backend the host uses (nft or legacy): the one that holds Docker's chains.
backend() {
  local out
  for mode in nft legacy; do
    out=$(iptables-$mode-save -t filter 2>/dev/null) || continue
    [[ $out == *":DOCKER-USER "* ]] && { echo "$mode"; return; }
  done
  echo nft
}
mode=$(backend)
ipt() { "iptables-$mode" -w "$@"; }
ipt6() { "ip6tables-$mode" -w "$@"; }

# jumps <tool> <chain> <target>: the jump to our chain, for traffic from the external interface.
jump_args() { echo "$1 -i $ext -m comment --comment $marker -j $2"; }

# A jump from <chain> to <target> with another stack's marker: refuse, never fight over the host.
foreign_owner() {
  local tool=$1 rules
  rules=$("$tool" -S "$2" 2>/dev/null) || return 1
  [[ $rules == *"-j $3"* && $rules != *"--comment $marker -j $3"* ]]
}

# The jumps this family gets: INPUT always; DOCKER-USER where Docker made it (without Docker's
# ip6tables support, IPv6 reaches published ports through docker-proxy, a host process: INPUT).
pairs() {
  echo "INPUT ${INPUT_CHAIN}"
  "$1" -S DOCKER-USER >/dev/null 2>&1 && echo "DOCKER-USER ${FORWARD_CHAIN}"
}
# IPv6 is left alone on a host without it.
family_on() { "$1" -S INPUT >/dev/null 2>&1; }

apply_family() {
  local tool=$1 restore=$2 rules=$3 pair
  family_on "$tool" || return 0
  while read -r pair; do
    # shellcheck disable=SC2086
    if foreign_owner "$tool" $pair; then
      echo "firewall: $pair: already used by another stack's firewall on this host; refusing" >&2
      return 1
    fi
  done < <(pairs "$tool")
  "$restore" -w --noflush <"$rules" || return 1
  while read -r pair; do
    # shellcheck disable=SC2046,SC2086
    "$tool" -C $(jump_args $pair) 2>/dev/null || "$tool" -I $(jump_args $pair | sed 's/^\\([^ ]*\\)/\\1 1/') || return 1
  done < <(pairs "$tool")
}

remove_family() {
  local tool=$1 pair
  family_on "$tool" || return 0
  while read -r pair; do
    # shellcheck disable=SC2046,SC2086
    while "$tool" -D $(jump_args $pair) 2>/dev/null; do :; done
  done < <(pairs "$tool")
  for chain in ${INPUT_CHAIN} ${FORWARD_CHAIN}; do
    "$tool" -F "$chain" 2>/dev/null && "$tool" -X "$chain" 2>/dev/null
  done
  return 0
}

# Applied as rendered: the jumps there, and each chain exactly as in the rules file.
check_family() {
  local tool=$1 rules=$2 want have pair
  family_on "$tool" || return 0
  while read -r pair; do
    # shellcheck disable=SC2046,SC2086
    "$tool" -C $(jump_args $pair) 2>/dev/null || { echo "missing: the jump $pair"; return 1; }
  done < <(pairs "$tool")
  for chain in ${INPUT_CHAIN} ${FORWARD_CHAIN}; do
    want=$(grep -c -- "^-A $chain " "$rules")
    have=$("$tool" -S "$chain" 2>/dev/null | grep -c -- "^-A $chain ")
    [ "$want" = "$have" ] || { echo "changed: $chain has $have rules, not $want"; return 1; }
  done
}

apply() { apply_family ipt "iptables-$mode-restore" "$dir/rules.v4" && apply_family ipt6 "ip6tables-$mode-restore" "$dir/rules.v6"; }
remove() { remove_family ipt; remove_family ipt6; }
check() {
  local why
  why=$(check_family ipt "$dir/rules.v4") && why=$(check_family ipt6 "$dir/rules.v6") &&
    { echo "healthy: applied on $ext ($mode): only SSH from its sources, HTTP and HTTPS come in"; return 0; }
  echo "unhealthy: $why"
  return 1
}

case \${1:-run} in
apply) apply ;;
remove) remove ;;
check) check ;;
run)
  if ! apply; then
    remove
    exit 1
  fi
  echo "firewall: applied on $ext ($mode iptables); removed when this container stops"
  trap 'remove; echo "firewall: removed"; exit 0' TERM INT
  while :; do
    sleep ${FIREWALL_CHECK_SECONDS} &
    wait $!
    check >/dev/null || { echo "firewall: the rules were changed on the host; applying them again"; apply; }
  done
  ;;
*)
  echo "usage: firewall.sh [run|apply|remove|check]" >&2
  exit 2
  ;;
esac
`;
}

export function renderFirewall(plan: FirewallPlan): RenderedFirewall {
  return { rulesIpv4: chains(plan, 4), rulesIpv6: chains(plan, 6), script: script(plan) };
}
