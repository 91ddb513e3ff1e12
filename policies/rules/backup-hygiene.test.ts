import { describe, expect, it } from "vitest";
import { checkStack, editNamed } from "../test/check";
import { container } from "../test/docker-fixtures";
import { kubernetesSubjects } from "../test/kubernetes-fixtures";
import { backupHygiene as rule } from "./backup-hygiene";

describe(rule.name, () => {
  it("passes a Forbid CronJob with deadlines keeping 30 days, and a Docker backup keeping 30", () => {
    expect(checkStack(rule, kubernetesSubjects())).toEqual([]);
    expect(checkStack(rule, [container("backup", { envs: ["BACKUP_RETENTION_DAYS=30"] })])).toEqual([]);
    expect(checkStack(rule, [container("backup", { envs: [] })])).toEqual([]); // the app's default is 30
  });

  it("fails overlapping runs, missing deadlines and short retention", () => {
    const bad = editNamed(kubernetesSubjects(), "chatapi-prod-backup", (p) => {
      delete p.spec.concurrencyPolicy;
      delete p.spec.startingDeadlineSeconds;
      delete p.spec.jobTemplate.spec.activeDeadlineSeconds;
      p.spec.jobTemplate.spec.template.spec.containers[0].env.push({
        name: "BACKUP_RETENTION_DAYS",
        value: "7",
      });
    });
    expect(checkStack(rule, bad)).toEqual([
      'chatapi-prod-backup: CronJob "chatapi-prod-backup": concurrencyPolicy is "Allow (unset)"; a slow run would overlap the next: use Forbid',
      'chatapi-prod-backup: CronJob "chatapi-prod-backup": sets no startingDeadlineSeconds: a missed run (controller down) starts at any later time, or never after 100 misses',
      'chatapi-prod-backup: CronJob "chatapi-prod-backup": sets no jobTemplate.spec.activeDeadlineSeconds: a hung run is never stopped',
      'chatapi-prod-backup: CronJob "chatapi-prod-backup" container "backup" keeps backups 7 days (BACKUP_RETENTION_DAYS); at least 30',
    ]);
  });

  it("reads retention from a ConfigMap the container loads, and on Docker", () => {
    const viaConfigMap = editNamed(kubernetesSubjects(), "chatapi-prod-app", (p) => {
      if (p.kind === "ConfigMap") p.data.BACKUP_RETENTION_DAYS = "14";
    }).map((s) => s);
    const withEnvFrom = editNamed(viaConfigMap, "chatapi-prod-backup", (p) => {
      const c = p.spec.jobTemplate.spec.template.spec.containers[0];
      c.env = c.env.filter((e: { name: string }) => e.name !== "BACKUP_RETENTION_DAYS");
      c.envFrom = [{ configMapRef: { name: "chatapi-prod-app" } }];
    });
    expect(checkStack(rule, withEnvFrom)).toEqual([
      'chatapi-prod-backup: CronJob "chatapi-prod-backup" container "backup" keeps backups 14 days (BACKUP_RETENTION_DAYS); at least 30',
    ]);
    expect(checkStack(rule, [container("backup", { envs: ["BACKUP_RETENTION_DAYS=10"] })])).toEqual([
      "chatapi-local-backup: the backup container keeps backups 10 days (BACKUP_RETENTION_DAYS); at least 30",
    ]);
  });
});
