// Which Service of type LoadBalancer gets which address (like k3s's servicelb or
// cloud-provider-kind, without a cloud): every such Service gets its own address from the pool
// (10.97.0.0/24 by default) in .status.loadBalancer; kube-proxy then routes that address on this
// machine. Pure: the controller (lb-controller.ts) feeds it the Services it watches and applies
// what it returns.

/** What the allocator needs of a Service. */
export interface LbService {
  /** namespace/name */
  key: string;
  type: string;
  /** metadata.creationTimestamp (older Services keep their address in a conflict). */
  created: string;
  /** spec.loadBalancerClass: a Service that names a class belongs to another controller. */
  loadBalancerClass?: string | undefined;
  /** spec.loadBalancerIP: an address the Service asks for. */
  requestedIp?: string | undefined;
  /** The addresses in .status.loadBalancer.ingress now. */
  ingressIps: string[];
}

export type LbAction =
  | { kind: "assign"; key: string; ip: string }
  /** A Service that is no longer of type LoadBalancer gives its address back. */
  | { kind: "release"; key: string; ip: string }
  /** Nothing can be done for this Service; the reason is logged. */
  | { kind: "conflict"; key: string; reason: string };

export interface Pool {
  cidr: string;
  /** Usable addresses in order (no network or broadcast address). */
  addresses: string[];
}

const toNumber = (ip: string) => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** The pool of an IPv4 CIDR of /16 to /30; a clear error for anything else. */
export function lbPool(cidr: string): Pool {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const bits = Number(match?.[5]);
  if (!match || octets.some((o) => o > 255) || bits < 16 || bits > 30)
    throw new Error(
      `CHATAPI_LB_CIDR must be an IPv4 network of /16 to /30 (like 10.97.0.0/24), not '${cidr}'`,
    );
  const size = 2 ** (32 - bits);
  const network = toNumber(octets.join(".")) - (toNumber(octets.join(".")) % size);
  const addresses = Array.from({ length: size - 2 }, (_, i) => toIp(network + 1 + i));
  return { cidr, addresses };
}

const ours = (s: LbService) => s.type === "LoadBalancer" && !s.loadBalancerClass;

/**
 * The actions that bring every Service's address in line: each of our LoadBalancer Services holds
 * one pool address of its own. A Service keeps the address it has (if it is in the pool and no
 * older Service holds it); one that asks for an address (spec.loadBalancerIP) gets it if it is
 * free; the others get the lowest free address. Deterministic: the same Services give the same
 * actions, so applying them twice changes nothing.
 */
export function allocate(services: LbService[], pool: Pool): LbAction[] {
  const inPool = new Set(pool.addresses);
  const ordered = [...services].sort(
    (a, b) => a.created.localeCompare(b.created) || a.key.localeCompare(b.key),
  );
  const actions: LbAction[] = [];
  const taken = new Set<string>();
  const needing: LbService[] = [];

  for (const service of ordered) {
    if (!ours(service)) {
      const held = service.ingressIps.find((ip) => inPool.has(ip));
      if (service.type !== "LoadBalancer" && held)
        actions.push({ kind: "release", key: service.key, ip: held });
      continue;
    }
    const [current] = service.ingressIps;
    const keeps =
      service.ingressIps.length === 1 &&
      current !== undefined &&
      inPool.has(current) &&
      !taken.has(current) &&
      (!service.requestedIp || service.requestedIp === current);
    if (keeps) taken.add(current);
    else needing.push(service);
  }

  for (const service of needing) {
    let ip: string | undefined;
    if (service.requestedIp) {
      if (!inPool.has(service.requestedIp)) {
        actions.push({
          kind: "conflict",
          key: service.key,
          reason: `spec.loadBalancerIP ${service.requestedIp} is not in ${pool.cidr}`,
        });
        continue;
      }
      if (taken.has(service.requestedIp)) {
        actions.push({
          kind: "conflict",
          key: service.key,
          reason: `spec.loadBalancerIP ${service.requestedIp} is held by an older Service`,
        });
        continue;
      }
      ip = service.requestedIp;
    } else {
      ip = pool.addresses.find((a) => !taken.has(a));
    }
    if (!ip) {
      actions.push({ kind: "conflict", key: service.key, reason: `no free address left in ${pool.cidr}` });
      continue;
    }
    taken.add(ip);
    actions.push({ kind: "assign", key: service.key, ip });
  }
  return actions;
}

/** The allocator's view of a Service object from the API. */
export function lbService(object: {
  metadata?: { namespace?: string; name?: string; creationTimestamp?: string };
  spec?: { type?: string; loadBalancerClass?: string; loadBalancerIP?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}): LbService {
  return {
    key: `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`,
    type: object.spec?.type ?? "ClusterIP",
    created: object.metadata?.creationTimestamp ?? "",
    loadBalancerClass: object.spec?.loadBalancerClass || undefined,
    requestedIp: object.spec?.loadBalancerIP || undefined,
    ingressIps: (object.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])),
  };
}

/** The status patch of an action (a merge patch of the status subresource). */
export function statusPatch(action: LbAction): object | undefined {
  if (action.kind === "assign")
    return { status: { loadBalancer: { ingress: [{ ip: action.ip, ipMode: "VIP" }] } } };
  if (action.kind === "release") return { status: { loadBalancer: { ingress: null } } };
  return undefined;
}
