// The chart installed and operated for real on the local cluster (issue 26, points 1, 3 and 5),
// with the values `npm run chart:values` derives from Pulumi.localcluster.yaml (sized for the 2-core
// node, offline images) as a GitOps repository would hold them:
//   1. a missing Secret fails `helm install` at once, naming it and the command that creates it;
//   2. `helm install --wait` returns once the API is ready: the migration runs in the pods' init
//      containers, no hook is waited for; `helm test` passes;
//   3. backups: a Job from the CronJob writes to its PVC and a real S3 server; a run that fails
//      shows as Failed in `kubectl get jobs`;
//   4. a renewed TLS Secret (replaced in place, as cert-manager does) is served by nginx within a
//      minute, with no rollout and no WebSocket dropped;
//   5. `helm upgrade --wait` to a new image tag: new pods migrate before they serve; `helm test`;
//   6. after the data is lost (uninstall, data claims deleted) a fresh release gets every message
//      and seq back from the backup on the kept backups claim, and from S3.
// Prints its figures (install, upgrade, backup, restore, certificate pick-up times).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { PrivateS3 } from "../../toolbox/private-services";
import { createCertificateAuthority, issueServerCertificate } from "../compose/self-signed-tls";
import { readAppVersion } from "../config/stack-file";
import type { TlsPlan } from "../plan/types";
import { chartValuesFor } from "./chart-values";
import { loadStack } from "./stack-parity";
import { ResilientSubscriber } from "../../toolbox/resilient-clients";
import { StackClient } from "../../toolbox/stack-client";
import {
  type Conversation,
  expectStillDelivering,
  readConversation,
  tokenFor,
  writeConversation,
} from "../../test/support/conversation";
import { CHART, helmBinary } from "../../test/support/helm";
import { LocalCluster, type PortForward, clusterScript } from "../../test/support/local-cluster";
import { repoRoot } from "../../test/support/paths";
import { waitFor } from "../../toolbox/processes";
import { makeCertificate } from "../../test/support/tls-fixture";
import { renewTlsSecret } from "../../test/support/tls-renewal";

const MINUTE = 60_000;
const RELEASE = "e2e";
const FULLNAME = `${RELEASE}-chatapi`;
const NAMESPACE = "chatapi-helm-e2e";
const DOMAIN = "chatapi.helm.test";
const BUCKET = "helm-backups";
const MESSAGES = 30;
const appVersion = readAppVersion(repoRoot);
const appImage = `chatapi-local/chatapi:${appVersion}`;
const upgradeTag = `${appVersion}-helm-upgrade`;
/** The cluster bridge's address on the node: pods reach the host there. */
const NODE_BRIDGE = "10.244.0.1";

let cluster: LocalCluster;
let s3: PrivateS3;
let forward: PortForward | undefined;
/** Every forward's restarts (kubectl exits when a forwarded connection fails), printed at the end. */
const forwardRestarts: string[][] = [];
let chat: StackClient;
let conversation: Conversation;
let backupFile = "";
let backupObject = "";
let createSecretsCommand: string[] = [];
const figures: Record<string, string> = {};
const work = mkdtempSync(join(tmpdir(), "chatapi-helm-e2e-"));
const valuesFile = join(work, "values.yaml");
const tlsPlan: Extract<TlsPlan, { mode: "self-signed" }> = {
  mode: "self-signed",
  commonName: DOMAIN,
  dnsNames: [DOMAIN],
  ipAddresses: [],
  validityHours: 24,
};
let ca: { certificate: string; privateKey: string };
const placeholderTls = makeCertificate(DOMAIN);

const startedAt = Date.now();
const note = (what: string) =>
  console.log(`[helm e2e +${((Date.now() - startedAt) / 1000).toFixed(0)} s] ${what}`);

async function helm(args: string[], timeoutMs = 15 * MINUTE) {
  const started = performance.now();
  const result = await execa(helmBinary(), [...args, "--kubeconfig", cluster.kubeconfig], {
    reject: false,
    all: true,
    timeout: timeoutMs,
  });
  return { ...result, all: String(result.all), seconds: (performance.now() - started) / 1000 };
}

/** The chart values a GitOps repository would hold for this stack: derived from Pulumi.localcluster.yaml. */
function chartValues(): Record<string, unknown> {
  const stack = loadStack(repoRoot, {
    file: "localcluster",
    stack: RELEASE,
    changes: {
      "chatapi:domain": DOMAIN,
      "chatapi:kubernetes": JSON.stringify({
        namespace: NAMESPACE,
        imagePullPolicy: "Never",
        storageClassName: "local-path-retain",
      }),
      "chatapi:backup": JSON.stringify({
        storageSize: "1Gi",
        s3: {
          bucket: BUCKET,
          prefix: "helm/",
          endpoint: s3.endpoint,
          region: "us-east-1",
          forcePathStyle: true,
        },
      }),
    },
    // Names only matter here (the chart reads Secrets): a certificate that passes the checks.
    secrets: {
      "chatapi:backupS3AccessKeyId": "x",
      "chatapi:backupS3SecretAccessKey": "x",
      "chatapi:tlsCertificate": placeholderTls.certificate,
      "chatapi:tlsPrivateKey": placeholderTls.privateKey,
    },
  });
  const values = chartValuesFor(stack.plan, stack.config.settings) as Record<string, Record<string, unknown>>;
  // The Secrets as the chart's own create-secrets.sh names them, and one for the S3 keys.
  values.secrets = { existingSecret: "" };
  values.tls = { ...values.tls, existingSecret: "" };
  // helm test verifies nginx's certificate, issued by this test's own CA.
  values.tests = { ...values.tests, verifyTls: true, caCertificate: ca.certificate };
  const backup = values.backup as { s3: Record<string, unknown> };
  backup.s3.existingSecret = `${FULLNAME}-backup-s3`;
  return values;
}

/** The release's TLS Secret, first created as an operator does (kubectl create secret tls). */
async function createTlsSecret(): Promise<void> {
  const server = await issueServerCertificate(tlsPlan, ca);
  writeFileSync(join(work, "tls.crt"), server.chain);
  writeFileSync(join(work, "tls.key"), server.privateKey, { mode: 0o600 });
  await cluster.run([
    "create",
    "secret",
    "tls",
    `${FULLNAME}-tls`,
    "-n",
    NAMESPACE,
    `--cert=${join(work, "tls.crt")}`,
    `--key=${join(work, "tls.key")}`,
  ]);
}

const jobOutcome = (name: string, timeoutMs = 6 * MINUTE) => cluster.jobOutcome(NAMESPACE, name, timeoutMs);

type PodSpec = {
  containers: ({ env?: { name: string; value?: string }[] } & Record<string, unknown>)[];
} & Record<string, unknown>;

/** A Job made from the backup CronJob's own template (its secrets, claim, profile), the main container changed by `edit`. */
async function jobFromCronJob(
  name: string,
  edit: (container: PodSpec["containers"][number]) => void,
): Promise<void> {
  const cron = await cluster.json<{
    spec: { jobTemplate: { spec: { template: { spec: PodSpec } } & Record<string, unknown> } };
  }>(["cronjob", `${FULLNAME}-backup`, "-n", NAMESPACE]);
  const spec = cron.spec.jobTemplate.spec;
  edit(spec.template.spec.containers[0]!);
  const manifest = { apiVersion: "batch/v1", kind: "Job", metadata: { name, namespace: NAMESPACE }, spec };
  await cluster.run(["apply", "-f", "-"], { input: JSON.stringify(manifest) });
}

async function logsOf(job: string): Promise<string> {
  const logs = await cluster.kubectl(["logs", "-n", NAMESPACE, `job/${job}`]);
  return logs.stdout + logs.stderr;
}

async function openChat(): Promise<void> {
  forward?.close();
  chat?.close();
  forward = await cluster.portForward(NAMESPACE, `svc/${FULLNAME}-nginx`, 443);
  forwardRestarts.push(forward.restarts);
  chat = new StackClient({
    url: `https://127.0.0.1:${forward.port}`,
    domain: DOMAIN,
    ca: ca.certificate,
    apiPrefix: "/api/v1",
    ready: forward.ready,
  });
}

async function removeLeftovers(): Promise<void> {
  if (await cluster.exists(["namespace", NAMESPACE]))
    await cluster.run(["delete", "namespace", NAMESPACE, "--wait=true", "--timeout=300s"], {
      timeoutMs: 6 * MINUTE,
    });
  await cluster.deleteVolumes(NAMESPACE, await cluster.volumesOf(NAMESPACE));
}

beforeAll(async () => {
  cluster = await LocalCluster.up(40 * MINUTE);
  await removeLeftovers();
  for (const image of [appImage])
    await execa(clusterScript, ["import", image]).catch((error: { all?: string }) => {
      throw new Error(
        `the app image ${image} is not available (scripts/setup --for test builds it): ${error.all ?? ""}`,
      );
    });
  await execa("docker", ["tag", appImage, `chatapi-local/chatapi:${upgradeTag}`]);
  await execa(clusterScript, ["import", `chatapi-local/chatapi:${upgradeTag}`]);
  s3 = await PrivateS3.start(NODE_BRIDGE);
  await s3.createBucket(BUCKET);
  ca = await createCertificateAuthority(tlsPlan);
  writeFileSync(valuesFile, stringify(chartValues()));
  await cluster.run(["create", "namespace", NAMESPACE]);
  await cluster.run(["label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted"]);
}, 45 * MINUTE);

afterAll(async () => {
  forward?.close();
  chat?.close();
  try {
    if (cluster) {
      await helm(["uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout", "5m"]);
      await removeLeftovers();
    }
  } finally {
    await s3?.stop();
    await execa("docker", ["rmi", `chatapi-local/chatapi:${upgradeTag}`], { reject: false });
    rmSync(work, { recursive: true, force: true });
    console.log(
      `helm release figures:\n${Object.entries(figures)
        .map(([k, v]) => `  ${k.padEnd(52)} ${v}`)
        .join("\n")}`,
    );
    const restarts = forwardRestarts.flat();
    if (restarts.length) console.log(`port-forward restarts:\n  ${restarts.join("\n  ")}`);
  }
}, 15 * MINUTE);

const install = () =>
  helm(
    ["install", RELEASE, CHART, "-n", NAMESPACE, "-f", valuesFile, "--wait", "--timeout", "12m"],
    13 * MINUTE,
  );

describe("the chart on the local cluster: install, operate, upgrade", () => {
  it(
    "1. a missing Secret fails helm install at once, naming it and the command that creates it",
    async () => {
      const result = await install();
      expect(result.exitCode).not.toBe(0);
      expect(result.seconds).toBeLessThan(30);
      // The command to run is in the message, with the options these values need (the stores' hosts).
      const command = new RegExp(
        `Secret ${FULLNAME}-secrets is missing \\(create it: (charts/chatapi/scripts/create-secrets\\.sh --namespace ${NAMESPACE} [^)]*)\\)`,
      ).exec(result.all)?.[1];
      expect(command, result.all).toBe(
        `charts/chatapi/scripts/create-secrets.sh --namespace ${NAMESPACE} --postgres-host postgres --rabbitmq-host rabbitmq --redis-host redis --redis-memory-limit 256Mi ${RELEASE}`,
      );
      createSecretsCommand = command!.split(" ");
      expect(result.all).toContain(
        `Secret ${FULLNAME}-tls is missing (create it: kubectl -n ${NAMESPACE} create secret tls ${FULLNAME}-tls`,
      );
      expect(result.all).toContain(`Secret ${FULLNAME}-backup-s3 is missing`);
      figures["helm install refused (missing Secrets)"] = `${result.seconds.toFixed(1)} s`;
      // Nothing of the release was created.
      expect((await cluster.run(["get", "all", "-n", NAMESPACE, "-o", "name"])).trim()).toBe("");
    },
    2 * MINUTE,
  );

  it(
    "2. helm install --wait returns with the API ready (migrated by its init containers), and helm test passes",
    async () => {
      // What the refused install said to run.
      const [script, ...args] = createSecretsCommand;
      const created = await execa(join(repoRoot, script!), args, {
        env: { KUBECTL: `${clusterScript} kubectl` },
        reject: false,
        all: true,
      });
      expect(created.exitCode, String(created.all)).toBe(0);
      await createTlsSecret();
      await cluster.run([
        "create",
        "secret",
        "generic",
        `${FULLNAME}-backup-s3`,
        "-n",
        NAMESPACE,
        `--from-literal=backup_s3_access_key_id=${s3.accessKeyId}`,
        `--from-literal=backup_s3_secret_access_key=${s3.secretAccessKey}`,
      ]);
      note("helm install --wait");
      const result = await install();
      expect(result.exitCode, result.all).toBe(0);
      figures["helm install --wait"] = `${result.seconds.toFixed(0)} s`;
      note(`installed in ${result.seconds.toFixed(0)} s`);
      const pods = await cluster.json<{
        items: {
          metadata: { name: string; labels: Record<string, string> };
          status: {
            initContainerStatuses?: { name: string; state: { terminated?: { exitCode: number } } }[];
          };
        }[];
      }>(["pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component in (api,worker)"]);
      expect(pods.items.length).toBeGreaterThanOrEqual(5);
      for (const pod of pods.items)
        expect(pod.status.initContainerStatuses, pod.metadata.name).toEqual([
          expect.objectContaining({
            name: "migrate",
            state: { terminated: expect.objectContaining({ exitCode: 0 }) },
          }),
        ]);
      const test = await helm(["test", RELEASE, "-n", NAMESPACE, "--timeout", "5m"]);
      expect(test.exitCode, test.all).toBe(0);
      expect(test.all).toMatch(/Phase:\s+Succeeded/);
      figures["helm test"] = `${test.seconds.toFixed(0)} s`;
    },
    15 * MINUTE,
  );

  it(
    "3. a Job from the backup CronJob writes to its claim and to S3; a failing run shows as Failed in kubectl get jobs",
    async () => {
      await openChat();
      const adminKey = (
        await cluster.run([
          "get",
          "secret",
          `${FULLNAME}-secrets`,
          "-n",
          NAMESPACE,
          "-o",
          "jsonpath={.data.admin_api_key}",
        ])
      ).trim();
      conversation = await writeConversation(chat, Buffer.from(adminKey, "base64").toString(), MESSAGES);
      const job = `${FULLNAME}-backup-now`;
      const started = performance.now();
      await cluster.run(["create", "job", job, "-n", NAMESPACE, `--from=cronjob/${FULLNAME}-backup`]);
      const outcome = await jobOutcome(job);
      const logs = await logsOf(job);
      expect(outcome, logs).toBe("complete");
      figures["backup Job (create → complete)"] = `${((performance.now() - started) / 1000).toFixed(0)} s`;
      const done = logs
        .split("\n")
        .filter((l) => l.includes('"backup complete"'))
        .map((l) => JSON.parse(l) as { file: string; uploaded: string; bytes: number })[0];
      expect(done, logs).toBeDefined();
      backupFile = done!.file;
      backupObject = done!.uploaded;
      expect(backupObject).toBe(`s3://${BUCKET}/helm/${backupFile.slice("/backups/".length)}`);
      const client = s3.client();
      try {
        const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "helm/" }));
        expect((listed.Contents ?? []).map((o) => o.Key)).toContain(
          `helm/${backupFile.slice("/backups/".length)}`,
        );
      } finally {
        client.destroy();
      }
      // A run that cannot write its folder: the Job ends Failed, which kubectl get jobs shows.
      const failing = `${FULLNAME}-backup-fails`;
      await jobFromCronJob(failing, (container) => {
        container.env = [
          ...(container.env ?? []).filter((e) => e.name !== "BACKUP_DIR"),
          { name: "BACKUP_DIR", value: "/app/unwritable" },
        ];
      });
      expect(await jobOutcome(failing)).toBe("failed");
      const listed = await cluster.run(["get", "jobs", "-n", NAMESPACE, failing]);
      expect(listed).toMatch(new RegExp(`${failing}\\s+Failed\\s+0/1`));
      // the command's own line and its JSON log record, in either order
      const failedLogs = await logsOf(failing);
      expect(failedLogs).toMatch(/backup failed/);
      expect(failedLogs).toMatch(/\/app\/unwritable/);
    },
    12 * MINUTE,
  );

  it(
    "4. a renewed TLS Secret is served within a minute, with no rollout and no WebSocket dropped",
    async () => {
      const before = await cluster.json<{
        items: {
          metadata: { name: string; uid: string };
          status: { containerStatuses: { restartCount: number }[] };
        }[];
      }>(["pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=nginx"]);
      const generation = (
        await cluster.json<{ metadata: { generation: number } }>([
          "deployment",
          `${FULLNAME}-nginx`,
          "-n",
          NAMESPACE,
        ])
      ).metadata.generation;
      const alice = await tokenFor(chat, conversation.clientKey, conversation.aliceId);
      const subscriber = new ResilientSubscriber(chat, () => alice, conversation.roomId, "198.51.100.7");
      await subscriber.start();
      const renewed = await issueServerCertificate(tlsPlan, ca);
      const seconds = await renewTlsSecret(
        cluster,
        { namespace: NAMESPACE, secret: `${FULLNAME}-tls`, port: forward!.port, servername: DOMAIN },
        { certificate: renewed.chain, privateKey: renewed.privateKey },
      );
      figures["renewed TLS Secret → served by nginx"] = `${seconds.toFixed(0)} s`;
      note(`renewed certificate served after ${seconds.toFixed(0)} s`);
      expect(seconds).toBeLessThan(60);
      // The WebSocket opened before the renewal is still the same connection, and still delivers.
      const seq = await expectStillDelivering(chat, conversation, subscriber, "after the renewal");
      await subscriber.stop();
      conversation.messages.push({ seq, body: "after the renewal" });
      // No rollout: the same pods, never restarted, the same Deployment generation.
      const after = await cluster.json<typeof before>([
        "pods",
        "-n",
        NAMESPACE,
        "-l",
        "app.kubernetes.io/component=nginx",
      ]);
      expect(after.items.map((p) => p.metadata.uid).sort()).toEqual(
        before.items.map((p) => p.metadata.uid).sort(),
      );
      expect(after.items.flatMap((p) => p.status.containerStatuses.map((c) => c.restartCount))).toEqual(
        before.items.flatMap((p) => p.status.containerStatuses.map((c) => c.restartCount)),
      );
      expect(
        (
          await cluster.json<{ metadata: { generation: number } }>([
            "deployment",
            `${FULLNAME}-nginx`,
            "-n",
            NAMESPACE,
          ])
        ).metadata.generation,
      ).toBe(generation);
    },
    6 * MINUTE,
  );

  it(
    "5. helm upgrade --wait to a new image: the new pods migrate first, then serve; helm test passes",
    async () => {
      note("helm upgrade --wait");
      const result = await helm(
        [
          "upgrade",
          RELEASE,
          CHART,
          "-n",
          NAMESPACE,
          "-f",
          valuesFile,
          "--set",
          `image.tag=${upgradeTag}`,
          "--wait",
          "--timeout",
          "12m",
        ],
        13 * MINUTE,
      );
      expect(result.exitCode, result.all).toBe(0);
      figures["helm upgrade --wait (new image tag)"] = `${result.seconds.toFixed(0)} s`;
      const pods = await cluster.json<{
        items: {
          metadata: { name: string; deletionTimestamp?: string };
          spec: { containers: { image: string }[]; initContainers: { image: string }[] };
        }[];
      }>(["pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component in (api,worker)"]);
      const live = pods.items.filter((p) => !p.metadata.deletionTimestamp);
      expect(live.length).toBeGreaterThanOrEqual(5);
      for (const pod of live) {
        expect(pod.spec.containers[0]!.image, pod.metadata.name).toBe(`chatapi-local/chatapi:${upgradeTag}`);
        expect(pod.spec.initContainers[0]!.image, pod.metadata.name).toBe(
          `chatapi-local/chatapi:${upgradeTag}`,
        );
      }
      const test = await helm(["test", RELEASE, "-n", NAMESPACE, "--timeout", "5m"]);
      expect(test.exitCode, test.all).toBe(0);
      // kubectl port-forward (the test's way in, not the product's) may pick a pod that is still
      // terminating and then hang up: let the old pods go first.
      const terminating = (
        await cluster.json<{ items: { metadata: { name: string; deletionTimestamp?: string } }[] }>([
          "pods",
          "-n",
          NAMESPACE,
        ])
      ).items.filter((p) => p.metadata.deletionTimestamp);
      if (terminating.length > 0)
        await cluster.run(
          [
            "wait",
            "--for=delete",
            "-n",
            NAMESPACE,
            "--timeout=180s",
            ...terminating.map((p) => `pod/${p.metadata.name}`),
          ],
          { timeoutMs: 4 * MINUTE },
        );
      await openChat();
      expect(await readConversation(chat, conversation)).toEqual(conversation.messages);
    },
    15 * MINUTE,
  );

  it(
    "6. after the data is lost, a fresh release gets every message and seq back from the kept claim and from S3",
    async () => {
      forward?.close();
      const expected = conversation.messages.filter((m) => m.seq <= MESSAGES);
      const uninstalled = await helm(["uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout", "5m"]);
      expect(uninstalled.exitCode, uninstalled.all).toBe(0);
      // The data stores' claims go (the data is lost); the backups claim is kept by the chart.
      const claims = (await cluster.run(["get", "pvc", "-n", NAMESPACE, "-o", "name"]))
        .split("\n")
        .filter(Boolean);
      expect(claims).toContain(`persistentvolumeclaim/${FULLNAME}-backups`);
      const data = claims.filter((c) => !c.endsWith(`${FULLNAME}-backups`));
      if (data.length) await cluster.run(["delete", "-n", NAMESPACE, ...data, "--wait=true"]);
      const fresh = await install();
      expect(fresh.exitCode, fresh.all).toBe(0);
      figures["helm install --wait (fresh release, backups claim kept)"] = `${fresh.seconds.toFixed(0)} s`;

      const restore = async (name: string, source: string) => {
        // Writers stopped (API and workers at 0; the HPA leaves a Deployment at 0 alone), then restored, then back.
        await cluster.run([
          "scale",
          "deployment",
          `${FULLNAME}-api`,
          `${FULLNAME}-worker`,
          "-n",
          NAMESPACE,
          "--replicas=0",
        ]);
        const started = performance.now();
        await jobFromCronJob(name, (container) => {
          container.args = ["restore", source, "--force"];
        });
        const outcome = await jobOutcome(name);
        const logs = await logsOf(name);
        expect(outcome, logs).toBe("complete");
        expect(logs).toContain("restore complete");
        figures[`restore Job from ${source.startsWith("s3://") ? "S3" : "the kept claim"}`] =
          `${((performance.now() - started) / 1000).toFixed(0)} s`;
        await cluster.run(["scale", "deployment", `${FULLNAME}-api`, "-n", NAMESPACE, "--replicas=3"]);
        await cluster.run(["scale", "deployment", `${FULLNAME}-worker`, "-n", NAMESPACE, "--replicas=2"]);
        for (const d of ["api", "worker"])
          await cluster.run(
            ["rollout", "status", `deployment/${FULLNAME}-${d}`, "-n", NAMESPACE, "--timeout=5m"],
            { timeoutMs: 6 * MINUTE },
          );
        await openChat();
        // nginx follows the new pods through its upstream watcher: wait until the API answers.
        await waitFor(
          "the API behind nginx",
          async () => (await chat.raw("GET", "/health/ready")).status === 200,
          2 * MINUTE,
        );
        expect(await readConversation(chat, conversation)).toEqual(expected);
      };
      await restore(`${FULLNAME}-restore-file-${randomBytes(2).toString("hex")}`, backupFile);
      await restore(`${FULLNAME}-restore-s3-${randomBytes(2).toString("hex")}`, backupObject);
    },
    30 * MINUTE,
  );
});
