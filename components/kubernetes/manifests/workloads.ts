// Plan workloads as Deployments, StatefulSets, Jobs and the backup CronJob. Pure.
import type * as k8s from "@pulumi/kubernetes";
import type { DeploymentPlan, WorkloadPlan } from "../../plan/types";
import { type ObjectRefs, bytesQuantity, metadata, selectorLabels, workloadMetadata } from "./meta";
import { podTemplate } from "./pod";

/**
 * A long-running workload. With an HPA, spec.replicas is left out: the HPA owns the count,
 * and a replicas field in the manifest would reset it (to the configured minimum) on every
 * `pulumi up` that touches the Deployment.
 */
export function deployment(
  plan: DeploymentPlan,
  w: WorkloadPlan,
  refs: ObjectRefs,
  options: { autoscaled: boolean },
): k8s.types.input.apps.v1.Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: workloadMetadata(plan, w),
    spec: {
      ...(options.autoscaled ? {} : { replicas: w.replicas }),
      revisionHistoryLimit: 5,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: selectorLabels(plan, w.role) },
      // Surge first: capacity (and WebSocket slots) never drops below the current count.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
      template: podTemplate(plan, w, refs, { restartPolicy: "Always" }),
    },
  };
}

/** A data store: one pod with its data on a claim from volumeClaimTemplates, kept when the set goes. */
export function statefulSet(
  plan: DeploymentPlan,
  w: WorkloadPlan,
  refs: ObjectRefs,
  serviceName: string,
): k8s.types.input.apps.v1.StatefulSet {
  // Every plan volume is a claim template: one claim per pod (a per-instance volume is one too).
  const claims = w.mounts
    .map((m) => plan.volumes.find((v) => v.name === m.volume))
    .filter((v) => v !== undefined)
    .map((v) => ({
      metadata: { name: v!.name, labels: selectorLabels(plan, w.role) },
      spec: {
        accessModes: ["ReadWriteOnce"],
        ...(v!.storageClassName ? { storageClassName: v!.storageClassName } : {}),
        resources: { requests: { storage: bytesQuantity(v!.sizeBytes) } },
      },
    }));
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: workloadMetadata(plan, w),
    spec: {
      replicas: w.replicas,
      serviceName,
      revisionHistoryLimit: 5,
      // The cluster's nodes start together: the job forming it waits for all of them.
      podManagementPolicy: w.role === "redis-cluster" ? "Parallel" : "OrderedReady",
      updateStrategy: { type: "RollingUpdate" },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      selector: { matchLabels: selectorLabels(plan, w.role) },
      template: podTemplate(plan, w, refs, { restartPolicy: "Always", claimTemplates: true }),
      volumeClaimTemplates: claims,
    },
  };
}

/**
 * A one-shot job (migration, admin bootstrap). No ttlSecondsAfterFinished: Pulumi owns the Job
 * and awaits its completion; a TTL would delete it behind Pulumi's back.
 */
export function job(plan: DeploymentPlan, w: WorkloadPlan, refs: ObjectRefs): k8s.types.input.batch.v1.Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: workloadMetadata(plan, w),
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: 900,
      template: podTemplate(plan, w, refs, { restartPolicy: "Never" }),
    },
  };
}

/** Scheduled backups: never two at once, a missed run is caught up within an hour, jobs cleaned up. */
export function cronJob(
  plan: DeploymentPlan,
  w: WorkloadPlan,
  refs: ObjectRefs,
): k8s.types.input.batch.v1.CronJob {
  if (!w.schedule) throw new Error(`${w.name} is scheduled but has no schedule`);
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: workloadMetadata(plan, w),
    spec: {
      schedule: w.schedule.cron,
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: w.labels },
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 4 * 3600,
          ttlSecondsAfterFinished: 7 * 24 * 3600,
          template: podTemplate(plan, w, refs, { restartPolicy: "Never" }),
        },
      },
    },
  };
}

/** A claim shared by the pods that mount it (the backups volume). */
export function persistentVolumeClaim(
  plan: DeploymentPlan,
  volumeName: string,
): k8s.types.input.core.v1.PersistentVolumeClaim {
  const v = plan.volumes.find((volume) => volume.name === volumeName);
  if (!v) throw new Error(`the plan has no volume ${volumeName}`);
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: metadata(plan, v.resourceName, {
      ...selectorLabels(plan, volumeName),
      "app.kubernetes.io/part-of": "chatapi",
      "app.kubernetes.io/managed-by": "pulumi",
    }),
    spec: {
      accessModes: ["ReadWriteOnce"],
      ...(v.storageClassName ? { storageClassName: v.storageClassName } : {}),
      resources: { requests: { storage: bytesQuantity(v.sizeBytes) } },
    },
  };
}
