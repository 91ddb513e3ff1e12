// One plan workload → the pod template every Kubernetes workload kind shares: the restricted
// Pod Security profile, requests and limits, probes, env (secrets only as *_FILE paths),
// files, writable emptyDirs for a read-only root filesystem, spread across nodes.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type {
  CommandArg,
  DeploymentPlan,
  HealthCheckPlan,
  ResourcesPlan,
  SidecarPlan,
  WorkloadPlan,
} from "../../plan/types";
import { fileMounts } from "./files";
import { type ObjectRefs, bytesQuantity, cpuQuantity, objectNames, selectorLabels } from "./meta";
import { imageOf } from "../../plan/images";

type Probe = k8s.types.input.core.v1.Probe;

/** Seconds a terminating API pod keeps serving, so nginx (re-resolving every 10 s) and the endpoints drop it first. */
export const PRE_STOP_SECONDS = 10;

const slug = (path: string) => path.replace(/^\//, "").replace(/[^A-Za-z0-9]+/g, "-");

function handler(check: HealthCheckPlan): Pick<Probe, "httpGet" | "exec"> {
  return check.http
    ? { httpGet: { path: check.http.path, port: check.http.port } }
    : { exec: { command: check.command } };
}

/** Liveness, readiness and startup probes from the plan's health checks (services only). */
export function probes(
  w: WorkloadPlan,
): Pick<k8s.types.input.core.v1.Container, "livenessProbe" | "readinessProbe" | "startupProbe"> {
  if (w.kind !== "service" || !w.health) return {};
  const health = w.health;
  const readiness = w.readiness ?? health;
  const timing = (check: HealthCheckPlan) => ({
    periodSeconds: check.intervalSeconds,
    timeoutSeconds: check.timeoutSeconds,
    failureThreshold: check.retries,
  });
  return {
    // Holds liveness off until the process has started (the plan's start period, then its retries).
    startupProbe: {
      ...handler(health),
      periodSeconds: 5,
      timeoutSeconds: health.timeoutSeconds,
      failureThreshold: Math.ceil(health.startPeriodSeconds / 5) + health.retries * 2,
    },
    livenessProbe: { ...handler(health), ...timing(health) },
    readinessProbe: { ...handler(readiness), ...timing(readiness), failureThreshold: 2 },
  };
}

export function resources(r: ResourcesPlan): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: cpuQuantity(r.cpu.requestMillis), memory: bytesQuantity(r.memory.requestBytes) },
    limits: { cpu: cpuQuantity(r.cpu.limitMillis), memory: bytesQuantity(r.memory.limitBytes) },
  };
}

export function ids(w: WorkloadPlan): { uid: number; gid: number } {
  const [uid, gid] = w.security.user.split(":").map(Number);
  if (!uid || gid === undefined || Number.isNaN(gid))
    throw new Error(`${w.name}: user ${w.security.user} is not a non-root uid:gid`);
  return { uid, gid };
}

export function containerSecurityContext(w: WorkloadPlan): k8s.types.input.core.v1.SecurityContext {
  const { uid, gid } = ids(w);
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    allowPrivilegeEscalation: !w.security.noNewPrivileges,
    privileged: false,
    readOnlyRootFilesystem: w.security.readOnlyRootFilesystem,
    capabilities: {
      drop: w.security.dropCapabilities,
      ...(w.security.addCapabilities.length > 0 ? { add: w.security.addCapabilities } : {}),
    },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

function env(w: WorkloadPlan): k8s.types.input.core.v1.EnvVar[] {
  const plain: Record<string, string> = { ...w.env };
  for (const file of w.files) if (file.env) plain[file.env] = file.path;
  const vars: k8s.types.input.core.v1.EnvVar[] = Object.entries(plain)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
  // The pod's own name, where the process reports which instance it is (WebSocket "ready" frame).
  if (w.instanceEnv)
    vars.push({ name: w.instanceEnv, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
  return vars;
}

export function commandArgs(args: CommandArg[], refs: ObjectRefs): pulumi.Input<string>[] {
  return args.map((arg) => (typeof arg === "string" ? arg : refs.generated[arg.generated]));
}

/** Where the workload's plan volumes come from: a StatefulSet claim, a per-pod emptyDir, or a shared PVC. */
function dataVolumes(plan: DeploymentPlan, w: WorkloadPlan, claimTemplates: boolean) {
  const volumes: k8s.types.input.core.v1.Volume[] = [];
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [];
  for (const mount of w.mounts) {
    const volume = plan.volumes.find((v) => v.name === mount.volume);
    if (!volume) throw new Error(`${w.name} mounts ${mount.volume}, which the plan does not define`);
    mounts.push({ name: volume.name, mountPath: mount.path, readOnly: mount.readOnly });
    if (claimTemplates) continue; // the StatefulSet's volumeClaimTemplates
    volumes.push(
      volume.perInstance
        ? { name: volume.name, emptyDir: { sizeLimit: bytesQuantity(volume.sizeBytes) } }
        : { name: volume.name, persistentVolumeClaim: { claimName: volume.resourceName } },
    );
  }
  return { volumes, mounts };
}

function topologySpread(plan: DeploymentPlan, w: WorkloadPlan) {
  if (w.kind !== "service" || w.replicas < 2) return [];
  const labelSelector = { matchLabels: selectorLabels(plan, w.role) };
  // Soft: a small cluster still schedules every replica; pod-template-hash keeps a rollout's
  // old and new pods from counting against each other.
  return ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector,
    matchLabelKeys: ["pod-template-hash"],
  }));
}

export function prometheusAnnotations(plan: DeploymentPlan, w: WorkloadPlan): Record<string, string> {
  if (!w.metrics || !plan.kubernetes.prometheusScrape) return {};
  return {
    "prometheus.io/scrape": "true",
    "prometheus.io/port": String(w.metrics.port),
    "prometheus.io/path": w.metrics.path,
  };
}

/** A sidecar: the workload's image, user and hardening; its files and the tmpfs it shares. */
function sidecarContainer(
  plan: DeploymentPlan,
  w: WorkloadPlan,
  sidecar: SidecarPlan,
  secretMounts: k8s.types.input.core.v1.VolumeMount[],
): k8s.types.input.core.v1.Container {
  const mounts: k8s.types.input.core.v1.VolumeMount[] = sidecar.secrets ? [...secretMounts] : [];
  for (const path of sidecar.files) {
    const file = w.files.find((f) => f.path === path);
    if (!file || !("content" in file.source))
      throw new Error(
        `${w.name}: sidecar ${sidecar.name} reads ${path}, which is not a plain file of the workload`,
      );
    const name = path.slice(path.lastIndexOf("/") + 1);
    mounts.push({ name: "config", mountPath: path, subPath: name, readOnly: true });
  }
  for (const path of sidecar.sharedTmpfs) {
    if (!w.tmpfs.some((t) => t.path === path))
      throw new Error(
        `${w.name}: sidecar ${sidecar.name} shares ${path}, which is not a tmpfs of the workload`,
      );
    mounts.push({ name: `tmp-${slug(path)}`, mountPath: path });
  }
  return {
    name: sidecar.name,
    image: imageOf(plan, sidecar.image ?? w.image).ref,
    imagePullPolicy: plan.kubernetes.imagePullPolicy,
    ...(sidecar.command.length > 0 ? { command: sidecar.command } : {}),
    ...(sidecar.args ? { args: sidecar.args } : {}),
    ...(sidecar.env ? { env: Object.entries(sidecar.env).map(([name, value]) => ({ name, value })) } : {}),
    ...(sidecar.ports
      ? {
          ports: sidecar.ports.map((p) => ({
            name: p.name,
            containerPort: p.containerPort,
            protocol: "TCP",
          })),
        }
      : {}),
    resources: resources(sidecar.resources),
    securityContext: containerSecurityContext(
      sidecar.user ? { ...w, security: { ...w.security, user: sidecar.user } } : w,
    ),
    volumeMounts: mounts,
    // The kubelet restarts a stuck sidecar; readiness keeps a pod whose sidecar stopped out of the Service.
    livenessProbe: sidecarProbe(sidecar),
    readinessProbe: sidecarProbe(sidecar),
  };
}

function sidecarProbe(sidecar: SidecarPlan): k8s.types.input.core.v1.Probe {
  const check = sidecar.httpProbe
    ? { httpGet: { path: sidecar.httpProbe.path, port: sidecar.httpProbe.port } }
    : { exec: { command: sidecar.probe } };
  return { ...check, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
}

export interface PodOptions {
  restartPolicy: "Always" | "Never" | "OnFailure";
  /** The workload's data volumes come from a StatefulSet's volumeClaimTemplates. */
  claimTemplates?: boolean;
}

export function podTemplate(
  plan: DeploymentPlan,
  w: WorkloadPlan,
  refs: ObjectRefs,
  options: PodOptions,
): k8s.types.input.core.v1.PodTemplateSpec {
  const { uid, gid } = ids(w);
  const files = fileMounts(w, refs);
  const data = dataVolumes(plan, w, options.claimTemplates ?? false);
  const tmpfs = w.tmpfs.map((t) => ({
    volume: {
      name: `tmp-${slug(t.path)}`,
      emptyDir: { medium: "Memory", sizeLimit: bytesQuantity(t.sizeBytes) },
    },
    mount: { name: `tmp-${slug(t.path)}`, mountPath: t.path },
  }));
  const drains = w.role === "api";
  const container: k8s.types.input.core.v1.Container = {
    name: w.role,
    image: imageOf(plan, w.image).ref,
    imagePullPolicy: plan.kubernetes.imagePullPolicy,
    ...(w.entrypoint ? { command: w.entrypoint } : {}),
    args: commandArgs(w.command, refs),
    env: env(w),
    ...(w.ports.length > 0
      ? { ports: w.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: "TCP" })) }
      : {}),
    resources: resources(w.resources),
    securityContext: containerSecurityContext(w),
    ...probes(w),
    ...(drains ? { lifecycle: { preStop: { exec: { command: ["sleep", String(PRE_STOP_SECONDS)] } } } } : {}),
    volumeMounts: [...files.mounts, ...tmpfs.map((t) => t.mount), ...data.mounts],
  };
  const secretMounts = files.mounts.filter((m) => m.name === "secrets");
  const sidecars = (w.sidecars ?? []).map((sidecar) => sidecarContainer(plan, w, sidecar, secretMounts));
  // Sidecars of the workload's own image signal its process (an exporter of another image does not).
  const signalling = (w.sidecars ?? []).some((sidecar) => !sidecar.image);
  const annotations = prometheusAnnotations(plan, w);
  const spread = topologySpread(plan, w);
  return {
    metadata: {
      labels: w.labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      serviceAccountName: objectNames(plan).serviceAccount,
      // No workload talks to the Kubernetes API.
      automountServiceAccountToken: false,
      // Service links would put e.g. RABBITMQ_PORT=tcp://... into every container's env.
      enableServiceLinks: false,
      // Docker's --init: the pause process is PID 1 and reaps zombies; the app gets signals as on
      // Docker. Sidecars signal the main process, so they need to see it too.
      ...(w.init || signalling ? { shareProcessNamespace: true } : {}),
      restartPolicy: options.restartPolicy,
      terminationGracePeriodSeconds: w.stopGracePeriodSeconds + (drains ? PRE_STOP_SECONDS : 0),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: gid,
        fsGroup: gid,
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
      },
      ...(spread.length > 0 ? { topologySpreadConstraints: spread } : {}),
      containers: [container, ...sidecars],
      volumes: [...files.volumes, ...tmpfs.map((t) => t.volume), ...data.volumes],
    },
  };
}
