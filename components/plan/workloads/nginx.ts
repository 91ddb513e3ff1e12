// The nginx load balancer: its plan (ports, upstream, TLS paths) and its workload, whose
// config file is rendered from that plan here, so every target runs the same nginx.conf.
import { FFDHE2048_PEM } from "../../nginx/mozilla-tls";
import { renderNginxConfig } from "../../nginx/render-nginx-config";
import {
  needsUpstreamWatcher,
  renderUpstreamWatcher,
  upstreamWatcherProbe,
} from "../../nginx/upstream-watcher";
import { dockerInstances } from "../names";
import { secretPath } from "../secrets";
import type { FilePlan, LoadBalancerPlan, SidecarPlan, WorkloadPlan } from "../types";
import { API_PORT, webConsole } from "./app";
import { MiB, type PlanContext, hardened, resourcesFrom, secretFile, tagOf, tmpfs, workload } from "./common";

export const NGINX_CONFIG_DIR = "/etc/nginx/chatapi";
const LISTEN = { http: 8080, https: 8443 }; // unprivileged ports inside the container

export function loadBalancerPlan(ctx: PlanContext, api: WorkloadPlan): LoadBalancerPlan {
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
      : { kind: "static", servers: dockerInstances(api).map((i) => ({ host: i.shortName, port: API_PORT })) };
  return {
    domain: s.domain,
    listen: LISTEN,
    public: { http: s.nginx.httpPort, https: s.nginx.httpsPort, address: s.nginx.publishAddress },
    upstream,
    apiPrefix: s.app.apiPrefix,
    webConsole: webConsole(s),
    wsReadTimeoutSeconds: s.nginx.wsReadTimeoutSeconds,
    clientMaxBodySize: s.nginx.clientMaxBodySize,
    hstsMaxAgeSeconds: s.nginx.hstsMaxAgeSeconds,
    trustedProxies: s.nginx.trustedProxies,
    nginxVersion: s.nginx.version,
    paths: {
      certificate: secretPath("tls_certificate"),
      privateKey: secretPath("tls_private_key"),
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
      secretFile("tls_certificate"),
      secretFile("tls_private_key"),
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
    dependsOn: [{ role: "api", condition: "healthy" }],
    stopGracePeriodSeconds: 15,
  });
}
