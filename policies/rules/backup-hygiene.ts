import { dockerEnv } from "../core/docker";
import { containerEnv, isKind, objectName } from "../core/kubernetes";
import type { StackFinding, StackRule, Subject } from "../core/types";
import { at, num } from "../core/values";
import { dockerWorkloads, kubernetesWorkloads } from "../core/workloads";

interface Config {
  minRetentionDays: number;
}

/** The app's default when BACKUP_RETENTION_DAYS is unset (API.md: `chatapi backup`). */
const APP_DEFAULT_RETENTION_DAYS = 30;

function cronJobProblems(cronJob: Subject): string[] {
  const spec = at(cronJob.props, "spec");
  const out: string[] = [];
  const concurrency = at(spec, "concurrencyPolicy");
  if (concurrency !== "Forbid")
    out.push(
      `concurrencyPolicy is ${JSON.stringify(concurrency ?? "Allow (unset)")}; a slow run would overlap the next: use Forbid`,
    );
  if (!((num(at(spec, "startingDeadlineSeconds")) ?? 0) > 0))
    out.push(
      "sets no startingDeadlineSeconds: a missed run (controller down) starts at any later time, or never after 100 misses",
    );
  if (!((num(at(spec, "jobTemplate", "spec", "activeDeadlineSeconds")) ?? 0) > 0))
    out.push("sets no jobTemplate.spec.activeDeadlineSeconds: a hung run is never stopped");
  return out;
}

function retentionProblem(env: Record<string, string>, min: number): string | undefined {
  const given = env.BACKUP_RETENTION_DAYS;
  const days = given === undefined ? APP_DEFAULT_RETENTION_DAYS : num(given);
  if (days === undefined) return `BACKUP_RETENTION_DAYS is not a number`;
  return days < min ? `keeps backups ${days} days (BACKUP_RETENTION_DAYS); at least ${min}` : undefined;
}

export const backupHygiene: StackRule<Config> = {
  kind: "stack",
  name: "backup-hygiene",
  description:
    "Backup CronJobs never overlap (concurrencyPolicy Forbid), have a starting deadline and a run deadline; backups (Kubernetes and Docker) are kept at least 30 days.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediation:
    "CronJob: concurrencyPolicy: Forbid, startingDeadlineSeconds (e.g. 3600), jobTemplate.spec.activeDeadlineSeconds (e.g. 7200). Retention: chatapi:backup.retentionDays ≥ 30.",
  targets: ["kubernetes", "docker"],
  config: {
    schema: {
      minRetentionDays: {
        type: "integer",
        minimum: 1,
        default: 30,
        description: "Fewest days backups are kept (BACKUP_RETENTION_DAYS).",
      },
    },
    defaults: { minRetentionDays: 30 },
  },
  validate(subjects, config) {
    const findings: StackFinding[] = [];
    const configMaps = subjects.filter((s) => isKind(s, "ConfigMap"));
    for (const cronJob of subjects.filter((s) => isKind(s, "CronJob")))
      for (const problem of cronJobProblems(cronJob))
        findings.push({
          subject: cronJob,
          message: `CronJob ${JSON.stringify(objectName(cronJob))}: ${problem}`,
        });
    for (const workload of kubernetesWorkloads(subjects)) {
      if (workload.role !== "backup") continue;
      for (const c of workload.containers.filter((c) => c.kind === "container")) {
        const problem = retentionProblem(
          containerEnv(c.spec, configMaps, workload.namespace),
          config.minRetentionDays,
        );
        if (problem)
          findings.push({
            subject: workload.subject,
            message: `${workload.kind} ${JSON.stringify(workload.name)} container ${JSON.stringify(c.name)} ${problem}`,
          });
      }
    }
    for (const container of dockerWorkloads(subjects)) {
      if (container.role !== "backup") continue;
      const problem = retentionProblem(dockerEnv(container.subject.props), config.minRetentionDays);
      if (problem) findings.push({ subject: container.subject, message: `the backup container ${problem}` });
    }
    return findings;
  },
};
