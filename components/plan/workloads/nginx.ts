// The nginx load balancer: its plan (ports, upstream, TLS paths) and its workload, whose
// config file is rendered from that plan here, so every target runs the same nginx.conf.
import { FFDHE2048_PEM } from "../../nginx/mozilla-tls";
import { renderNginxConfig } from "../../nginx/render-nginx-config";
import {
  needsUpstreamWatcher,
  renderUpstreamWatcher,
  upstreamWatcherProbe,
} from "../../nginx/upstream-watcher";
import { secretPath } from "../secrets";
import type {
  CertbotPlan,
  FilePlan,
  LoadBalancerPlan,
  SidecarPlan,
  VolumePlan,
  WorkloadPlan,
} from "../types";
import { API_PORT, webConsole } from "./app";
import { NGINX_STATUS_PATH, NGINX_STATUS_PORT } from "./monitoring";
import { MiB, type PlanContext, hardened, resourcesFrom, secretFile, tagOf, tmpfs, workload } from "./common";
import { ACME_IN_NGINX } from "./ops";

export const NGINX_CONFIG_DIR = "/etc/nginx/chatapi";
/** Folder of the release switch's file (a volume the deploy writes, read-only in nginx). */
export const NGINX_RELEASE_DIR = `${NGINX_CONFIG_DIR}/release`;
const RELEASE_VOLUME = "nginx-release";
const LISTEN = { http: 8080, https: 8443 }; // unprivileged ports inside the container

export function loadBalancerPlan(ctx: PlanContext, certbot?: CertbotPlan): LoadBalancerPlan {
  const s = ctx.settings;
  const upstream: LoadBalancerPlan["upstream"] =
    s.target === "kubernetes"
      ? {
          // A headless Service: one A record per ready API pod.
          kind: "dns",
          name: `${ctx.prefix}-api-headless.${s.kubernetes.namespace}.svc.cluster.local`,
          port: API_PORT,
          resolver: "kube-dns.kube-system.svc.cluster.local",
        }
      : // The live release's instances, in a file each release switch rewrites (nginx reloads).
        { kind: "release", file: `${NGINX_RELEASE_DIR}/servers.conf`, port: API_PORT };
  return {
    domain: s.domain,
    listen: LISTEN,
    public: { http: s.nginx.httpPort, https: s.nginx.httpsPort, address: s.nginx.publishAddress },
    upstream,
    apiPrefix: s.app.apiPrefix,
    webConsole: webConsole(s),
    wsReadTimeoutSeconds: s.nginx.wsReadTimeoutSeconds,
    keepaliveTimeoutSeconds: s.nginx.keepaliveTimeoutSeconds,
    clientMaxBodySize: s.nginx.clientMaxBodySize,
    hstsMaxAgeSeconds: s.nginx.hstsMaxAgeSeconds,
    trustedProxies: s.nginx.trustedProxies,
    nginxVersion: s.nginx.version,
    // certbot's certificate (acme on a Docker host) is published in a volume nginx reads.
    ...(certbot ? { acmeWebroot: certbot.nginx.webroot } : {}),
    ...(s.monitoring.enabled ? { status: { port: NGINX_STATUS_PORT, path: NGINX_STATUS_PATH } } : {}),
    paths: {
      certificate: certbot?.nginx.certificate ?? secretPath("tls_certificate"),
      privateKey: certbot?.nginx.privateKey ?? secretPath("tls_private_key"),
      dhParams: `${NGINX_CONFIG_DIR}/dhparam.pem`,
      pidFile: "/tmp/nginx.pid",
      tempDir: "/tmp",
    },
  };
}

const WATCHER_SCRIPT = `${NGINX_CONFIG_DIR}/watch-upstream.sh`;
/** Seconds between the upstream watcher's lookups (plus the cluster DNS's TTL for a change to show). */
export const UPSTREAM_WATCH_SECONDS = 5;

/** nginx that cannot re-resolve its DNS upstream gets a watcher that reloads it (../../nginx/upstream-watcher.ts). */
function upstreamWatcher(lb: LoadBalancerPlan): { files: FilePlan[]; sidecars: SidecarPlan[] } {
  if (!needsUpstreamWatcher(lb)) return { files: [], sidecars: [] };
  return {
    files: [
      {
        path: WATCHER_SCRIPT,
        source: { content: renderUpstreamWatcher(lb, { intervalSeconds: UPSTREAM_WATCH_SECONDS }) },
      },
    ],
    sidecars: [
      {
        name: "upstream-watcher",
        description: "reloads nginx when the API pods' addresses change (this nginx cannot re-resolve)",
        command: ["bash", WATCHER_SCRIPT],
        resources: {
          cpu: { requestMillis: 10, limitMillis: 100 },
          memory: { requestBytes: 16 * MiB, limitBytes: 32 * MiB },
          pidsLimit: 32,
        },
        files: [WATCHER_SCRIPT],
        // nginx's pid file (and the watcher's heartbeat)
        sharedTmpfs: [lb.paths.pidFile.slice(0, lb.paths.pidFile.lastIndexOf("/"))],
        probe: upstreamWatcherProbe(lb, { intervalSeconds: UPSTREAM_WATCH_SECONDS }),
      },
    ],
  };
}

/** The volume the release switch writes nginx's upstream servers into (Docker hosts). */
export function loadBalancerVolumes(ctx: PlanContext, lb: LoadBalancerPlan): VolumePlan[] {
  if (lb.upstream.kind !== "release") return [];
  return [
    {
      name: RELEASE_VOLUME,
      resourceName: `${ctx.prefix}-${RELEASE_VOLUME}`,
      purpose: "nginx upstream servers of the live release (rewritten by each release switch)",
      sizeBytes: MiB,
      retain: false,
      writtenByDeploy: true,
    },
  ];
}

export function nginxWorkload(ctx: PlanContext, lb: LoadBalancerPlan): WorkloadPlan {
  const s = ctx.settings;
  const watcher = upstreamWatcher(lb);
  return workload(ctx, tagOf(s.images.nginx), {
    role: "nginx",
    kind: "service",
    description: "nginx load balancer (TLS, sticky WebSocket upstream)",
    image: "nginx",
    // nginx itself, not the image's entrypoint script (it edits conf.d, which is read-only here).
    entrypoint: ["nginx"],
    command: ["-e", "stderr", "-c", `${NGINX_CONFIG_DIR}/nginx.conf`],
    replicas: s.target === "kubernetes" ? s.nginx.replicas : 1,
    files: [
      { path: `${NGINX_CONFIG_DIR}/nginx.conf`, source: { content: renderNginxConfig(lb) } },
      { path: `${NGINX_CONFIG_DIR}/dhparam.pem`, source: { content: FFDHE2048_PEM } },
      ...(lb.acmeWebroot ? [] : [secretFile("tls_certificate"), secretFile("tls_private_key")]),
      ...watcher.files,
    ],
    ...(watcher.sidecars.length > 0 ? { sidecars: watcher.sidecars } : {}),
    ports: [
      {
        name: "http",
        containerPort: lb.listen.http,
        protocol: "tcp",
        published: { hostPort: lb.public.http, hostAddress: lb.public.address },
      },
      {
        name: "https",
        containerPort: lb.listen.https,
        protocol: "tcp",
        published: { hostPort: lb.public.https, hostAddress: lb.public.address },
      },
    ],
    health: {
      // The images have bash but not always curl: a raw HTTP/1.0 request to the loopback-only
      // health location.
      command: [
        "bash",
        "-c",
        `exec 3<>/dev/tcp/127.0.0.1/${lb.listen.http} && printf 'GET /nginx-health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '`,
      ],
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 3,
      startPeriodSeconds: 5,
    },
    resources: resourcesFrom(s.nginx),
    security: hardened(s.nginx.runAs),
    tmpfs: [tmpfs("/tmp", 64)],
    mounts: [
      ...(lb.upstream.kind === "release"
        ? [{ volume: RELEASE_VOLUME, path: NGINX_RELEASE_DIR, readOnly: true }]
        : []),
      // certbot's published certificate and the HTTP-01 webroot (acme on a Docker host)
      ...(lb.acmeWebroot ? [{ volume: "acme-public", path: ACME_IN_NGINX, readOnly: true }] : []),
    ],
    dependsOn: [{ role: "api", condition: "healthy" }],
    stopGracePeriodSeconds: 15,
  });
}
