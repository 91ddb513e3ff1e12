// A Docker host's own processes, both from the ops image (components/ops/Dockerfile: Debian's
// certbot and iptables): certbot, which obtains and renews the certificate (tls.mode acme), and
// the host firewall (firewall.enabled). A cluster has cert-manager and NetworkPolicies instead.
import { ACME_DIRS, ACME_SCRIPT, ACME_SERVER_CA, renderCertbotScript } from "../../tls/certbot-script";
import { FIREWALL_DIR, renderFirewall } from "../../firewall/render-firewall";
import type { CertbotPlan, FilePlan, FirewallPlan, VolumePlan, WorkloadPlan } from "../types";
import { MiB, type PlanContext, tagOf, tmpfs, workload } from "./common";

/** certbot's own uid, and nginx's gid (101), which reads the published key (mode 0640). */
export const CERTBOT_USER = "10002:101";
/** Where nginx finds what certbot publishes (the acme-public volume, read-only). */
export const ACME_IN_NGINX = "/etc/nginx/acme";

const opsResources = {
  cpu: { requestMillis: 50, limitMillis: 500 },
  memory: { requestBytes: 64 * MiB, limitBytes: 256 * MiB },
  pidsLimit: 64,
};

export function certbotPlan(ctx: PlanContext): CertbotPlan | undefined {
  const t = ctx.settings.tls;
  if (ctx.settings.target !== "docker" || t.mode !== "acme") return undefined;
  return {
    email: t.acmeEmail ?? "",
    server: t.acmeServer,
    ...(t.acmeServerCa ? { serverCa: t.acmeServerCa } : {}),
    renewCheckSeconds: t.acmeRenewCheckSeconds,
    nginx: {
      webroot: `${ACME_IN_NGINX}/webroot`,
      certificate: `${ACME_IN_NGINX}/certs/current/fullchain.pem`,
      privateKey: `${ACME_IN_NGINX}/certs/current/privkey.pem`,
    },
  };
}

export function certbotWorkload(ctx: PlanContext, certbot: CertbotPlan): WorkloadPlan {
  const files: FilePlan[] = [
    { path: ACME_SCRIPT, source: { content: renderCertbotScript(ctx.settings.domain, certbot) } },
  ];
  if (certbot.serverCa) files.push({ path: ACME_SERVER_CA, source: { content: certbot.serverCa } });
  return workload(ctx, tagOf(ctx.settings.images.opsBuildName), {
    role: "certbot",
    kind: "service",
    description: "certbot: obtains the certificate over HTTP-01 through nginx and renews it",
    image: "ops",
    entrypoint: ["bash", ACME_SCRIPT],
    command: [],
    files,
    // Healthy once a valid certificate is published and while the last run worked (the deploy
    // waits for the first certificate this way).
    health: {
      command: ["bash", ACME_SCRIPT, "health"],
      intervalSeconds: 10,
      timeoutSeconds: 10,
      retries: 1,
      startPeriodSeconds: 300,
    },
    resources: opsResources,
    security: {
      user: CERTBOT_USER,
      readOnlyRootFilesystem: true,
      dropCapabilities: ["ALL"],
      addCapabilities: [],
      noNewPrivileges: true,
    },
    tmpfs: [tmpfs("/tmp", 64)],
    mounts: [
      { volume: "acme", path: ACME_DIRS.state, readOnly: false },
      { volume: "acme-public", path: ACME_DIRS.public, readOnly: false },
    ],
    // nginx serves the challenges: it must be up first.
    dependsOn: [{ role: "nginx", condition: "healthy" }],
    init: true,
    stopGracePeriodSeconds: 30,
  });
}

export function acmeVolumes(ctx: PlanContext): VolumePlan[] {
  return [
    { name: "acme", purpose: "certbot's account, certificates and renewal settings" },
    { name: "acme-public", purpose: "ACME challenge files and the published certificate (nginx reads them)" },
  ].map((v) => ({ ...v, resourceName: `${ctx.prefix}-${v.name}`, sizeBytes: 64 * MiB, retain: true }));
}

/**
 * The firewall container: root in the host's network namespace with NET_ADMIN and NET_RAW only
 * (what iptables needs), no networks, no volumes, a read-only root; it applies the rules at
 * start, keeps them applied and removes them when it stops (destroy, `down`).
 */
export function firewallWorkload(ctx: PlanContext, firewall: FirewallPlan): WorkloadPlan {
  const rendered = renderFirewall(firewall);
  const script = `${FIREWALL_DIR}/firewall.sh`;
  return workload(ctx, tagOf(ctx.settings.images.opsBuildName), {
    role: "firewall",
    kind: "service",
    description: `host firewall on ${firewall.externalInterface}: only SSH (from its sources), HTTP and HTTPS come in`,
    image: "ops",
    entrypoint: ["bash", script],
    command: ["run"],
    files: [
      { path: script, source: { content: rendered.script } },
      { path: `${FIREWALL_DIR}/rules.v4`, source: { content: rendered.rulesIpv4 } },
      { path: `${FIREWALL_DIR}/rules.v6`, source: { content: rendered.rulesIpv6 } },
    ],
    health: {
      command: ["bash", script, "check"],
      intervalSeconds: 30,
      timeoutSeconds: 10,
      retries: 1,
      startPeriodSeconds: 10,
    },
    resources: { ...opsResources, memory: { requestBytes: 16 * MiB, limitBytes: 64 * MiB } },
    security: {
      // iptables needs root with these two capabilities in the host's network namespace.
      user: "0:0",
      readOnlyRootFilesystem: true,
      dropCapabilities: ["ALL"],
      addCapabilities: ["NET_ADMIN", "NET_RAW"],
      noNewPrivileges: true,
    },
    hostNetwork: true,
    // iptables-legacy takes its lock in /run.
    tmpfs: [tmpfs("/tmp", 16), tmpfs("/run", 1)],
    init: true,
    stopGracePeriodSeconds: 20,
  });
}
