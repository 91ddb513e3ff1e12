// A hardened ChatAPI deployment as standard Kubernetes objects (what the Kubernetes target and
// the Helm chart produce), built as plain manifests so tests can break one field at a time.
import { renderNginxConfig } from "../../components/nginx/render-nginx-config";
import type { LoadBalancerPlan } from "../../components/plan/types";
import { typeTokenOf } from "../core/kubernetes";
import type { Subject } from "../core/types";

export const NAMESPACE = "chatapi";
const INSTANCE = "prod";
const APP_IMAGE = "registry.example.com/chatapi:1.0.0";

type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };

export const subjectOf = (manifest: Manifest): Subject => ({
  type: typeTokenOf(manifest.apiVersion, manifest.kind),
  name: manifest.metadata.name,
  props: manifest,
});

export const labelsOf = (component: string) => ({
  "app.kubernetes.io/name": "chatapi",
  "app.kubernetes.io/instance": INSTANCE,
  "app.kubernetes.io/component": component,
});

const selectorLabels = (component: string) => ({
  "app.kubernetes.io/instance": INSTANCE,
  "app.kubernetes.io/component": component,
});

const meta = (name: string, component?: string) => ({
  name,
  namespace: NAMESPACE,
  ...(component ? { labels: labelsOf(component) } : {}),
});

const hardenedContainer = {
  securityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  },
};

const podSecurity = (uid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: "RuntimeDefault" },
});

const httpProbe = (path: string, port: number) => ({ httpGet: { path, port }, periodSeconds: 10 });

const appEnv = [
  { name: "ENVIRONMENT", value: "production" },
  { name: "DATABASE_URL_FILE", value: "/run/secrets/database_url" },
  { name: "SECRET_KEY_FILE", value: "/run/secrets/secret_key" },
];

const secretVolume = { name: "secrets", secret: { secretName: "chatapi-prod-app", defaultMode: 0o400 } };
const secretMount = { name: "secrets", mountPath: "/run/secrets", readOnly: true };

function appDeployment(component: "api" | "worker", port: number, replicas?: number): Manifest {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(`chatapi-prod-${component}`, component),
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: selectorLabels(component) },
      template: {
        metadata: { labels: labelsOf(component) },
        spec: {
          securityContext: podSecurity(10001),
          containers: [
            {
              name: component,
              image: APP_IMAGE,
              args: [component === "api" ? "serve" : "worker"],
              env: appEnv,
              ports: [{ name: "http", containerPort: port }],
              resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
              readinessProbe: httpProbe("/health/ready", port),
              livenessProbe: httpProbe("/health", port),
              volumeMounts: [secretMount, { name: "tmp", mountPath: "/tmp" }],
              ...hardenedContainer,
            },
          ],
          volumes: [secretVolume, { name: "tmp", emptyDir: {} }],
        },
      },
    },
  };
}

const STORES = {
  postgres: { image: "postgres:15-bookworm", port: 5432, path: "/var/lib/postgresql/data", uid: 999 },
  redis: { image: "redis:7-bookworm", port: 6379, path: "/data", uid: 999 },
  rabbitmq: { image: "rabbitmq:3.13", port: 5672, path: "/var/lib/rabbitmq", uid: 999 },
} as const;

function dataStore(store: keyof typeof STORES): Manifest {
  const s = STORES[store];
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: meta(`chatapi-prod-${store}`, store),
    spec: {
      replicas: 1,
      serviceName: `chatapi-prod-${store}`,
      selector: { matchLabels: selectorLabels(store) },
      template: {
        metadata: { labels: labelsOf(store) },
        spec: {
          securityContext: podSecurity(s.uid),
          containers: [
            {
              name: store,
              image: s.image,
              ports: [{ name: store, containerPort: s.port }],
              resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
              readinessProbe: { tcpSocket: { port: s.port } },
              livenessProbe: { tcpSocket: { port: s.port } },
              volumeMounts: [
                { name: "data", mountPath: s.path },
                { name: "tmp", mountPath: "/tmp" },
              ],
              ...hardenedContainer,
            },
          ],
          volumes: [{ name: "tmp", emptyDir: {} }],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } },
        },
      ],
    },
  };
}

export const loadBalancerPlan: LoadBalancerPlan = {
  domain: "chat.example.com",
  listen: { http: 8080, https: 8443 },
  public: { http: 80, https: 443, address: "0.0.0.0" },
  upstream: {
    kind: "dns",
    name: "chatapi-prod-api-headless.chatapi.svc.cluster.local",
    port: 8000,
    resolver: "kube-dns.kube-system.svc.cluster.local",
  },
  apiPrefix: "/api/v1",
  wsReadTimeoutSeconds: 86400,
  keepaliveTimeoutSeconds: 65,
  clientMaxBodySize: "1m",
  hstsMaxAgeSeconds: 63072000,
  trustedProxies: [],
  nginxVersion: "1.28",
  paths: {
    certificate: "/run/secrets/tls_certificate",
    privateKey: "/run/secrets/tls_private_key",
    dhParams: "/etc/nginx/chatapi/dhparam.pem",
    pidFile: "/tmp/nginx.pid",
    tempDir: "/tmp",
  },
};

export const nginxConf = renderNginxConfig(loadBalancerPlan);

function nginxDeployment(): Manifest {
  const manifest = appDeployment("api", 8080, 2);
  const spec = manifest.spec as {
    selector: unknown;
    template: { metadata: unknown; spec: Record<string, unknown> };
  };
  spec.selector = { matchLabels: selectorLabels("nginx") };
  spec.template.metadata = { labels: labelsOf("nginx") };
  spec.template.spec = {
    securityContext: podSecurity(101),
    containers: [
      {
        name: "nginx",
        image: "nginxinc/nginx-unprivileged:1.28",
        command: ["nginx"],
        args: ["-e", "stderr", "-c", "/etc/nginx/chatapi/nginx.conf"],
        ports: [
          { name: "http", containerPort: 8080 },
          { name: "https", containerPort: 8443 },
        ],
        resources: { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
        readinessProbe: { httpGet: { path: "/nginx-health", port: 8080 } },
        livenessProbe: { httpGet: { path: "/nginx-health", port: 8080 } },
        volumeMounts: [
          { name: "config", mountPath: "/etc/nginx/chatapi", readOnly: true },
          { name: "tls", mountPath: "/run/secrets", readOnly: true },
          { name: "tmp", mountPath: "/tmp" },
        ],
        ...hardenedContainer,
      },
    ],
    volumes: [
      { name: "config", configMap: { name: "chatapi-prod-nginx" } },
      { name: "tls", secret: { secretName: "chatapi-prod-tls" } },
      { name: "tmp", emptyDir: {} },
    ],
  };
  manifest.metadata = meta("chatapi-prod-nginx", "nginx");
  return manifest;
}

function backupCronJob(): Manifest {
  const job = appDeployment("worker", 9000);
  const pod = (job.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec;
  const container = pod.containers[0]!;
  container.name = "backup";
  container.args = ["backup"];
  container.env = [...appEnv, { name: "BACKUP_RETENTION_DAYS", value: "30" }];
  delete container.readinessProbe;
  delete container.livenessProbe;
  delete container.ports;
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: meta("chatapi-prod-backup", "backup"),
    spec: {
      schedule: "0 2 * * *",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      jobTemplate: {
        spec: {
          activeDeadlineSeconds: 7200,
          backoffLimit: 2,
          template: {
            metadata: { labels: labelsOf("backup") },
            spec: { ...pod, restartPolicy: "OnFailure" },
          },
        },
      },
    },
  };
}

const networkPolicy = (name: string, spec: Record<string, unknown>): Manifest => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: meta(name),
  spec,
});

const fromComponents = (...components: string[]) =>
  components.map((component) => ({ podSelector: { matchLabels: selectorLabels(component) } }));

function storePolicy(store: keyof typeof STORES, clients: string[]): Manifest {
  return networkPolicy(`chatapi-prod-${store}-ingress`, {
    podSelector: { matchLabels: selectorLabels(store) },
    policyTypes: ["Ingress"],
    ingress: [{ from: fromComponents(...clients), ports: [{ protocol: "TCP", port: STORES[store].port }] }],
  });
}

const service = (name: string, component: string, spec: Record<string, unknown>): Manifest => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: meta(name, component),
  spec: { selector: selectorLabels(component), ...spec },
});

const pdb = (component: string, budget: Record<string, unknown>): Manifest => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: meta(`chatapi-prod-${component}`, component),
  spec: { selector: { matchLabels: selectorLabels(component) }, ...budget },
});

/** Every object of a hardened production deployment; each call returns fresh copies. */
export function kubernetesStack(): Manifest[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } },
    networkPolicy("chatapi-prod-default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    networkPolicy("chatapi-prod-api-ingress", {
      podSelector: { matchLabels: selectorLabels("api") },
      policyTypes: ["Ingress"],
      ingress: [{ from: fromComponents("nginx"), ports: [{ port: 8000 }] }],
    }),
    storePolicy("postgres", ["api", "worker", "migrate", "bootstrap-admin", "backup"]),
    storePolicy("redis", ["api", "worker"]),
    storePolicy("rabbitmq", ["api", "worker"]),
    networkPolicy("chatapi-prod-dns-egress", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    }),
    dataStore("postgres"),
    dataStore("redis"),
    dataStore("rabbitmq"),
    appDeployment("api", 8000),
    appDeployment("worker", 9000, 2),
    nginxDeployment(),
    backupCronJob(),
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta("chatapi-prod-api", "api"),
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "chatapi-prod-api" },
        minReplicas: 3,
        maxReplicas: 10,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
          },
        ],
      },
    },
    pdb("api", { maxUnavailable: 1 }),
    pdb("worker", { maxUnavailable: 1 }),
    pdb("nginx", { minAvailable: 1 }),
    service("chatapi-prod-api", "api", { ports: [{ name: "http", port: 8000, targetPort: "http" }] }),
    service("chatapi-prod-api-headless", "api", { clusterIP: "None", ports: [{ name: "http", port: 8000 }] }),
    service("chatapi-prod-postgres", "postgres", { clusterIP: "None", ports: [{ port: 5432 }] }),
    service("chatapi-prod-nginx", "nginx", {
      type: "LoadBalancer",
      ports: [
        { name: "http", port: 80, targetPort: 8080 },
        { name: "https", port: 443, targetPort: 8443 },
      ],
    }),
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("chatapi-prod-nginx", "nginx"),
      data: { "nginx.conf": nginxConf },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("chatapi-prod-app", "api"),
      data: { LOG_LEVEL: "INFO", PROJECT_NAME: "ChatAPI Production" },
    },
  ];
}

export const kubernetesSubjects = () => kubernetesStack().map(subjectOf);

/** One object of the stack by kind and name, as a subject. */
export function kubernetesObject(kind: string, name: string): Subject {
  const found = kubernetesStack().find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the fixture`);
  return subjectOf(found);
}

export const deployment = (component: string) => kubernetesObject("Deployment", `chatapi-prod-${component}`);
export const statefulSet = (store: string) => kubernetesObject("StatefulSet", `chatapi-prod-${store}`);
