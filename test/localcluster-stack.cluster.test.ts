// The Kubernetes target deployed for real: `pulumi up` of Pulumi.localcluster.yaml (the real engine,
// scripts/pulumi-toolchain) onto the local single-node cluster that scripts/cluster builds from
// Go modules, then the whole life of the stack, in order (each step builds on the previous one):
//   1. up: every Deployment, StatefulSet and Job awaited by Pulumi; Pod Security "restricted"
//      enforced with nothing rejected or warned about;
//   2. the smoke check through `kubectl port-forward` to the nginx Service (127.0.0.1 only):
//      health, client/user/room, two WebSocket clients on different API pods exchanging
//      messages, TLS verified against the stack's CA;
//   2c. the fan-out's in-stack Redis Cluster (the one setting added to the stack file) formed,
//      and re-formed by itself after every node pod was deleted at once;
//   3. the migration and admin bootstrap Jobs ran once, before any API pod was ready; a second
//      `pulumi up` changes nothing;
//   4. a rolling update to a new image tag loses no message for clients that reconnect and
//      resubscribe; deleting one API pod mid-conversation loses nothing;
//   5. a Job made from the backup CronJob writes a backup that `chatapi restore` accepts;
//   6. destroy removes everything but the data volumes marked to keep; the test then deletes
//      those too and the cluster is left clean.
// Runs take turns on the cluster (a machine-wide lock): its 2 CPUs hold one stack at a time.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAppVersion } from "../components/config/stack-file";
import type { ChatSocket } from "../toolbox/chat-client";
import { MessageSender, ResilientSubscriber } from "../toolbox/resilient-clients";
import { StackClient } from "../toolbox/stack-client";
import { LocalCluster, type PortForward, clusterScript } from "./support/local-cluster";
import { type FileLock, acquireFileLock } from "../scripts/lib/file-lock";
import { cacheDir, repoRoot } from "./support/paths";
import { EngineProject, resolvePulumiCli } from "./support/pulumi-engine";
import { waitFor } from "../toolbox/processes";
import { makeCertificate } from "./support/tls-fixture";
import { renewTlsSecret } from "./support/tls-renewal";

const STACK = "localcluster";
const PREFIX = `chatapi-${STACK}`;
/** The test's own namespace (the shipped stack says chatapi-localcluster): leftovers of an interrupted run are recognisable. */
const NAMESPACE = "chatapi-localcluster-e2e";
const DOMAIN = "chatapi.localcluster.test";
const API_PREFIX = "/api/v1";
const MINUTE = 60_000;
/** chatapi:api.autoscaling.minReplicas of Pulumi.localcluster.yaml (the production minimum). */
const API_PODS = 3;
const appVersion = readAppVersion(repoRoot);
/** The app image the stack runs (scripts/setup builds and imports it); override to test another build. */
const appImage = process.env.CHATAPI_KIND_APP_IMAGE ?? `chatapi-local/chatapi:${appVersion}`;
const rolloutImage = `${appImage}-rollout`;

interface K8sList<T> {
  items: T[];
}
interface K8sObject {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}
interface Pod extends K8sObject {
  spec: { containers: { name: string; image: string }[] };
  status: { phase: string; conditions?: { type: string; status: string; lastTransitionTime: string }[] };
}

let cluster: LocalCluster;
let lock: FileLock | undefined;
let project: EngineProject | undefined;
let forward: PortForward | undefined;
let chat: StackClient;
let ca: string;
const state = { deployed: false, destroyed: false };
const sockets: ChatSocket[] = [];
const subscribers: ResilientSubscriber[] = [];
const ownForwards: { client: StackClient; forward: PortForward }[] = [];

/** Alice and Bob, users of one client, with access tokens, and the room they share. */
const people = { clientKey: "", alice: { id: "", token: "" }, bob: { id: "", token: "" } };

const label = (role: string) => `app.kubernetes.io/instance=${STACK},app.kubernetes.io/component=${role}`;
const seconds = (timestamp: string) => Date.parse(timestamp) / 1000;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function pods(role: string): Promise<Pod[]> {
  const list = await cluster.json<K8sList<Pod>>(["pods", "-n", NAMESPACE, "-l", label(role)]);
  return list.items;
}

async function runningApiPods(): Promise<Pod[]> {
  return (await pods("api")).filter(
    (p) =>
      p.status.phase === "Running" &&
      p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  );
}

/** Persistent volumes claimed from our namespace (they outlive it: reclaim policy Retain). */
const ourVolumes = () => cluster.volumesOf(NAMESPACE);

/** What an interrupted earlier run left: its namespace and kept volumes. */
async function removeLeftovers(): Promise<void> {
  if (await cluster.exists(["namespace", NAMESPACE])) {
    await cluster.run(["delete", "namespace", NAMESPACE, "--wait=true", "--timeout=300s"], {
      timeoutMs: 6 * MINUTE,
    });
  }
  await cluster.deleteVolumes(NAMESPACE, await ourVolumes());
}

/**
 * Waits (bounded) until nginx spreads WebSocket clients over two API pods: its upstream-watcher
 * reloads it with the new set of addresses a few seconds after a pod comes or goes.
 */
async function waitUntilNginxSpreads(): Promise<void> {
  const seen = new Set<string>();
  await waitFor(
    `nginx to spread WebSocket clients over all ${API_PODS} API pods`,
    async () => {
      seen.clear();
      for (let n = 1; n <= 24 && seen.size < API_PODS; n++) {
        const socket = await chat.openSocket(people.alice.token, `198.51.100.${n}`);
        socket.terminate();
        seen.add(socket.instance);
      }
      return seen.size >= API_PODS;
    },
    2 * MINUTE,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}; sockets reached ${[...seen].join(", ")}\n${await apiPodsReport()}`);
  });
}

/** Each API pod's readiness and, for one not ready, the end of its log (why it is not). */
async function apiPodsReport(): Promise<string> {
  const lines: string[] = [];
  for (const pod of await pods("api")) {
    const ready = pod.status.conditions?.find((c) => c.type === "Ready")?.status === "True";
    lines.push(`${pod.metadata.name}: ${pod.status.phase}${ready ? ", ready" : ", NOT ready"}`);
    if (ready) continue;
    const log = await cluster.kubectl(["logs", "-n", NAMESPACE, pod.metadata.name, "--tail=15"]);
    lines.push(`  ${log.stdout.trim().split("\n").join("\n  ")}`);
  }
  return lines.join("\n");
}

/** Waits (bounded) until every API pod is ready; the error says which is not, and why. */
async function waitUntilApiPodsReady(after: string): Promise<void> {
  const since = Date.now();
  await waitFor(
    `all ${API_PODS} API pods ready after ${after}`,
    async () => (await runningApiPods()).length === API_PODS,
    3 * MINUTE,
    2000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${await apiPodsReport()}`);
  });
  note(`all ${API_PODS} API pods ready ${((Date.now() - since) / 1000).toFixed(0)} s after ${after}`);
}

/** A socket that nginx placed on an API pod other than `avoid`'s (each try with another client address). */
async function socketOnAnotherPod(
  token: string,
  avoid: string | undefined,
  first: number,
): Promise<{ socket: ChatSocket; address: string }> {
  for (let n = first; n < first + 60; n++) {
    const address = `203.0.113.${n}`;
    const socket = await chat.openSocket(token, address);
    if (socket.instance !== avoid) return { socket, address };
    await socket.drop();
  }
  throw new Error(`60 client addresses all landed on ${avoid}: the WebSocket upstream does not spread`);
}

/**
 * A client on a kubectl port-forward of its own, as separate users would come through separate
 * connections: when one forwarded connection fails, kubectl drops all of its connections, so a
 * restart of this forward touches only this client.
 */
async function ownClient(): Promise<{ client: StackClient; forward: PortForward }> {
  const own = await cluster.portForward(NAMESPACE, `svc/${PREFIX}-nginx`, 443);
  const entry = {
    client: new StackClient({ ...chat.endpoint, url: `https://127.0.0.1:${own.port}`, ready: own.ready }),
    forward: own,
  };
  ownForwards.push(entry);
  return entry;
}

/** Two reconnecting subscribers of a new room, on two different API pods, each on its own port-forward. */
async function subscribersOnTwoPods(
  room: string,
  first: number,
): Promise<{ a: ResilientSubscriber; b: ResilientSubscriber; bForward: PortForward }> {
  const { client: viaA } = await ownClient();
  const { client: viaB, forward: bForward } = await ownClient();
  const a = new ResilientSubscriber(viaA, () => people.alice.token, room, `203.0.113.${first}`);
  await a.start();
  subscribers.push(a);
  for (let n = first + 1; n < first + 60; n++) {
    const b = new ResilientSubscriber(viaB, () => people.bob.token, room, `203.0.113.${n}`);
    await b.start();
    subscribers.push(b);
    if (b.instance !== a.instance) return { a, b, bForward };
    await b.stop();
  }
  throw new Error("could not place two subscribers on different API pods");
}

const jobOutcome = (name: string, timeoutMs = 5 * MINUTE) => cluster.jobOutcome(NAMESPACE, name, timeoutMs);

async function newRoom(name: string): Promise<string> {
  const room = await chat.api<{ id: string }>(
    "POST",
    "/rooms",
    { token: people.alice.token },
    { name, member_ids: [people.bob.id] },
  );
  return room.id;
}

/** Progress on stdout as the test goes (the steps are long; a hang shows where it is). */
const startedAt = Date.now();
function note(what: string): void {
  console.log(`[localcluster e2e +${((Date.now() - startedAt) / 1000).toFixed(0)} s] ${what}`);
}

function printTimings(): void {
  const restarts = [forward, ...ownForwards.map((o) => o.forward)].flatMap((f) => f?.restarts ?? []);
  if (restarts.length) console.log(`port-forward restarts:\n  ${restarts.join("\n  ")}`);
  if (!project) return;
  console.log(
    [
      "pulumi timings on the local cluster (seconds):",
      ...project.timings.map((t) => `  ${t.label.padEnd(44)} ${t.seconds.toFixed(1)}`),
    ].join("\n"),
  );
}

beforeAll(async () => {
  // The cluster tests' machine-wide lock (its file keeps the name it had when this stack was
  // called kind, so that checkouts of either age still take turns).
  lock = await acquireFileLock(join(cacheDir, "run", "kind-stack.lock"), {
    timeoutMs: 45 * MINUTE,
    purpose: "the localcluster stack test",
  });
  cluster = await LocalCluster.up(40 * MINUTE);
  await removeLeftovers();
  // The app image must be in the node's containerd (scripts/setup imports it; a no-op when it is).
  const imported = await execa(clusterScript, ["import", appImage], { reject: false, all: true });
  if (imported.exitCode !== 0)
    throw new Error(
      `the app image ${appImage} is not available (scripts/setup --for test builds it):\n${imported.all}`,
    );
  const cli = await resolvePulumiCli();
  project = new EngineProject({ cli, stack: STACK });
  const init = await project.run(
    "stack init + secrets (scripts/engine-stack)",
    join(repoRoot, "scripts", "engine-stack"),
    ["init", "--stack", STACK, "--cwd", project.projectDir],
  );
  if (init.exitCode !== 0) throw new Error(`scripts/engine-stack init failed:\n${init.stderr}${init.stdout}`);
  await project.setConfig("chatapi:kubernetes.namespace", NAMESPACE);
  await project.setConfig("chatapi:kubernetes.kubeconfig", cluster.kubeconfig);
  await project.setConfig("chatapi:kubernetes.context", "chatapi-local");
  // The one addition to Pulumi.localcluster.yaml: the fan-out on an in-stack Redis Cluster (step
  // 2c), with requests small enough for its 6 pods beside the stack on 2 CPUs.
  await project.setConfig("chatapi:fanoutCluster.mode", "container");
  await project.setConfig("chatapi:fanoutCluster.cpu.request", "10m");
  await project.setConfig("chatapi:fanoutCluster.memory.request", "16Mi");
  await project.setConfig("chatapi:fanoutCluster.memory.limit", "128Mi");
  // Run again (idempotent), as an operator does after turning the cluster on: it adds its password.
  const again = await project.run(
    "scripts/engine-stack init (fanoutCluster on)",
    join(repoRoot, "scripts", "engine-stack"),
    ["init", "--stack", STACK, "--cwd", project.projectDir],
  );
  if (again.exitCode !== 0 || !again.stdout.includes("chatapi:redisClusterPassword: generated"))
    throw new Error(
      `scripts/engine-stack init did not add the cluster's password:\n${again.stderr}${again.stdout}`,
    );
  if (process.env.CHATAPI_KIND_APP_IMAGE) await project.setConfig("chatapi:images.app", appImage);
  ca = (await project.pulumi("config get tlsCertificate", ["config", "get", "chatapi:tlsCertificate"]))
    .stdout;
}, 50 * MINUTE);

/** Waits for `work` at most `ms` (clean-up must not hang on a connection that never closes). */
const atMost = (ms: number, work: Promise<unknown>) =>
  Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, ms))]);

afterAll(async () => {
  await atMost(30_000, Promise.all([...subscribers.map((s) => s.stop()), ...sockets.map((s) => s.drop())]));
  for (const own of ownForwards) {
    own.client.close();
    own.forward.close();
  }
  chat?.close();
  forward?.close();
  try {
    if (project && state.deployed && !state.destroyed)
      await project.pulumi("destroy (cleanup)", ["destroy", "--yes", "--skip-preview"], {
        expectExit: "any",
      });
    if (cluster) await removeLeftovers();
  } finally {
    printTimings();
    await project?.dispose();
    await execa("docker", ["rmi", rolloutImage], { reject: false });
    lock?.release();
  }
}, 15 * MINUTE);

describe("Pulumi.localcluster.yaml on the local cluster", () => {
  it(
    "1. pulumi up awaits every Deployment, StatefulSet and Job; restricted Pod Security is enforced and nothing is rejected or warned about",
    async () => {
      const events = join(project!.dir, "up.events.jsonl");
      await project!.pulumi("up (fresh cluster)", ["up", "--yes", "--skip-preview", "--event-log", events], {
        env: { PULUMI_DEBUG_COMMANDS: "true" },
      });
      state.deployed = true;
      note("pulumi up returned");

      // No warning or error from the engine, the program or the API server (PodSecurity warnings,
      // deprecations); the provider's progress notes while it awaits are ephemeral and left out.
      const diagnostics = readFileSync(events, "utf8")
        .split("\n")
        .filter(Boolean)
        .map(
          (line) =>
            (
              JSON.parse(line) as {
                diagnosticEvent?: { severity: string; message: string; ephemeral?: boolean };
              }
            ).diagnosticEvent,
        )
        .filter((d) => d && (d.severity === "warning" || d.severity === "error") && !d.ephemeral)
        .map((d) => d!.message.trim());
      expect(diagnostics).toEqual([]);

      // What Pulumi recorded after awaiting each object: ready replicas, completed Jobs.
      const exported = JSON.parse((await project!.pulumi("stack export", ["stack", "export"])).stdout) as {
        deployment: {
          resources: {
            type: string;
            outputs?: {
              metadata?: { name: string };
              spec?: { replicas?: number };
              status?: Record<string, number>;
            };
          }[];
        };
      };
      const recorded = (type: string) =>
        Object.fromEntries(
          exported.deployment.resources
            .filter((r) => r.type === `kubernetes:${type}`)
            .map((r) => [r.outputs!.metadata!.name, r.outputs!]),
        );
      const deployments = recorded("apps/v1:Deployment");
      expect(Object.keys(deployments).sort()).toEqual([
        `${PREFIX}-api`,
        `${PREFIX}-nginx`,
        `${PREFIX}-worker`,
      ]);
      for (const [name, d] of Object.entries(deployments)) {
        expect(d.status?.readyReplicas, name).toBeGreaterThanOrEqual(1);
        expect(d.status?.readyReplicas, name).toBe(d.spec?.replicas);
      }
      const statefulSets = recorded("apps/v1:StatefulSet");
      expect(Object.keys(statefulSets).sort()).toEqual(
        ["postgres", "rabbitmq", "redis", "redis-cluster"].map((s) => `${PREFIX}-${s}`),
      );
      for (const [name, s] of Object.entries(statefulSets))
        expect(s.status?.readyReplicas, name).toBe(name.endsWith("redis-cluster") ? 6 : 1);
      const jobs = recorded("batch/v1:Job");
      expect(Object.keys(jobs).sort()).toEqual(
        ["bootstrap-admin", "migrate", "redis-cluster-init"].map((j) => `${PREFIX}-${j}`),
      );
      for (const [name, j] of Object.entries(jobs)) expect(j.status?.succeeded, name).toBe(1);

      // With autoscaling the Deployment has no replicas field (the HPA owns the count), so it
      // starts with one pod, which is what Pulumi awaited; the HPA then brings it to its minimum.
      const scaled = Date.now();
      await waitFor(
        `the HPA to scale the API to its minimum of ${API_PODS} ready pods`,
        async () => (await runningApiPods()).length === API_PODS,
        3 * MINUTE,
      );
      console.log(
        `HPA: ${API_PODS} ready API pods ${((Date.now() - scaled) / 1000).toFixed(1)} s after pulumi up returned`,
      );
      note(`${API_PODS} API pods ready`);
      const hpa = await cluster.json<K8sObject>(["hpa", `${PREFIX}-api`, "-n", NAMESPACE]);
      expect(hpa.spec).toMatchObject({ minReplicas: API_PODS, maxReplicas: API_PODS + 1 });

      // restricted is enforced, and every running pod passes it: a server-side dry run of the
      // label reports any pod that would violate it (as a warning on stderr).
      const ns = await cluster.json<K8sObject>(["namespace", NAMESPACE]);
      expect(ns.metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
      const dryRun = await cluster.kubectl([
        "label",
        "--dry-run=server",
        "--overwrite",
        "namespace",
        NAMESPACE,
        "pod-security.kubernetes.io/enforce=restricted",
      ]);
      expect(dryRun.exitCode).toBe(0);
      expect(dryRun.stderr).not.toMatch(/violate|Warning/i);
      // and no controller was refused a pod
      const k8sEvents = await cluster.json<K8sList<{ reason: string; message: string }>>([
        "events",
        "-n",
        NAMESPACE,
      ]);
      expect(
        k8sEvents.items.filter((e) => e.reason === "FailedCreate" || /PodSecurity|forbidden/.test(e.message)),
      ).toEqual([]);
    },
    25 * MINUTE,
  );

  it(
    "2. smoke check through kubectl port-forward to nginx: health, client/user/room, two WebSocket clients on different API pods exchange messages, TLS verified against the stack's CA",
    async () => {
      forward = await cluster.portForward(NAMESPACE, `svc/${PREFIX}-nginx`, 443);
      const ready = forward.ready;
      chat = new StackClient({
        url: `https://127.0.0.1:${forward.port}`,
        domain: DOMAIN,
        ca,
        apiPrefix: API_PREFIX,
        ready,
      });
      await waitFor(
        "nginx to answer through the port-forward",
        async () => (await chat.raw("GET", "/health")).status === 200,
        MINUTE,
      );

      note("nginx answers through the port-forward");
      const health = await chat.raw<{ status: string }>("GET", "/health");
      expect(health.status).toBe(200);
      expect(health.body.status).toBe("healthy");
      expect(health.tls).toMatch(/^TLSv1\.[23]$/);
      expect(health.headers["strict-transport-security"]).toMatch(/^max-age=\d+/);
      expect((await chat.raw("GET", "/health/ready")).status).toBe(200);
      // Verification is real: another CA is refused. On a port-forward of its own: the aborted
      // handshake makes nginx reset the connection, which ends a kubectl port-forward.
      const strangerForward = await cluster.portForward(NAMESPACE, `svc/${PREFIX}-nginx`, 443);
      try {
        const stranger = new StackClient({
          ...chat.endpoint,
          url: `https://127.0.0.1:${strangerForward.port}`,
          ca: makeCertificate(DOMAIN).certificate,
        });
        await expect(stranger.raw("GET", "/health")).rejects.toThrow(/certificate|verify/i);
        stranger.close();
      } finally {
        strangerForward.close();
      }

      note("TLS verified against the stack's certificate; another CA refused");
      const adminKey = (
        await project!.pulumi("stack output adminApiKey", [
          "stack",
          "output",
          "adminApiKey",
          "--show-secrets",
        ])
      ).stdout.trim();
      const run = randomBytes(3).toString("hex");
      const client = await chat.api<{ api_key: string }>(
        "POST",
        "/clients",
        { apiKey: adminKey },
        { name: `cluster ${run}`, email: `cluster-${run}@example.com` },
      );
      people.clientKey = client.api_key;
      for (const who of ["alice", "bob"] as const) {
        const user = await chat.api<{ id: string }>(
          "POST",
          "/users",
          { apiKey: people.clientKey },
          { external_id: `${who}-${run}`, display_name: who },
        );
        const token = await chat.api<{ access_token: string }>(
          "POST",
          "/auth/token",
          { apiKey: people.clientKey },
          { user_id: user.id },
        );
        people[who] = { id: user.id, token: token.access_token };
      }
      note("client, users and tokens created");
      const room = await newRoom("smoke");

      await waitUntilNginxSpreads();
      const alice = await socketOnAnotherPod(people.alice.token, undefined, 1);
      sockets.push(alice.socket);
      const bob = await socketOnAnotherPod(people.bob.token, alice.socket.instance, 2);
      sockets.push(bob.socket);
      expect(bob.socket.instance).not.toBe(alice.socket.instance);
      expect([alice.socket.instance, bob.socket.instance].every((i) => i.startsWith(`${PREFIX}-api-`))).toBe(
        true,
      );

      note(`WebSockets on ${alice.socket.instance} and ${bob.socket.instance}`);
      // Sticky: the same client address (X-Forwarded-For from the trusted port-forward) comes
      // back to the same pod, whichever connection it arrives on.
      for (let i = 0; i < 4; i++) {
        const again = await chat.openSocket(people.alice.token, alice.address);
        await again.drop();
        expect(again.instance, `WebSocket ${i + 2} from ${alice.address}`).toBe(alice.socket.instance);
      }
      for (const s of [alice.socket, bob.socket]) {
        s.send({ type: "subscribe", room_id: room });
        await s.waitFor((f) => f.type === "subscribed" && f.room_id === room);
      }
      alice.socket.send({ type: "send", room_id: room, body: "hello from alice", client_msg_id: "smoke-1" });
      await alice.socket.waitFor((f) => f.type === "ack" && f.client_msg_id === "smoke-1");
      const atBob = await bob.socket.waitFor((f) => f.type === "message");
      expect(atBob.message).toMatchObject({ body: "hello from alice", seq: 1, sender_id: people.alice.id });
      bob.socket.send({ type: "send", room_id: room, body: "hello from bob", client_msg_id: "smoke-2" });
      const atAlice = await alice.socket.waitFor(
        (f) => f.type === "message" && (f.message as { seq: number }).seq === 2,
      );
      expect(atAlice.message).toMatchObject({ body: "hello from bob", sender_id: people.bob.id });

      // The plain HTTP listener only redirects.
      const http = await cluster.portForward(NAMESPACE, `svc/${PREFIX}-nginx`, 80);
      try {
        const res = await fetch(`http://127.0.0.1:${http.port}/api/v1/rooms`, {
          redirect: "manual",
          headers: { host: DOMAIN },
        });
        expect(res.status).toBe(301);
        expect(res.headers.get("location")).toBe(`https://${DOMAIN}/api/v1/rooms`);
      } finally {
        http.close();
      }
    },
    5 * MINUTE,
  );

  it(
    "2b. a renewed TLS Secret (replaced in place, as cert-manager renews) is served within a minute: no rollout, the WebSockets stay",
    async () => {
      const nginx = await cluster.json<
        K8sObject & { metadata: { generation: number } } & {
          spec: {
            template: {
              spec: {
                volumes: {
                  projected?: { sources: { secret?: { name: string; items: { key: string }[] } }[] };
                }[];
              };
            };
          };
        }
      >(["deployment", `${PREFIX}-nginx`, "-n", NAMESPACE]);
      const secret = nginx.spec.template.spec.volumes
        .flatMap((v) => v.projected?.sources ?? [])
        .find((s) => s.secret?.items.some((i) => i.key === "tls.crt"))?.secret?.name;
      expect(secret).toMatch(new RegExp(`^${PREFIX}-tls`));
      const nginxPods = async () =>
        (await pods("nginx"))
          .map((p) => {
            const restarts = (p.status as { containerStatuses?: { restartCount: number }[] })
              .containerStatuses;
            return `${p.metadata.uid} restarts ${JSON.stringify(restarts?.map((c) => c.restartCount))}`;
          })
          .sort();
      const before = await nginxPods();
      // The stack's own certificate, put back at the end: later tests' clients trust its CA only.
      const original = await cluster.json<{ data: Record<"tls.crt" | "tls.key", string> }>([
        "secret",
        secret!,
        "-n",
        NAMESPACE,
      ]);
      const renewed = makeCertificate(DOMAIN);
      const seconds = await renewTlsSecret(
        cluster,
        { namespace: NAMESPACE, secret: secret!, port: forward!.port, servername: DOMAIN },
        renewed,
      );
      console.log(`renewed TLS Secret served by nginx after ${seconds.toFixed(0)} s`);
      expect(seconds).toBeLessThan(60);
      // No rollout: the same nginx pods, never restarted, the Deployment unchanged.
      expect(await nginxPods()).toEqual(before);
      const after = await cluster.json<typeof nginx>(["deployment", `${PREFIX}-nginx`, "-n", NAMESPACE]);
      expect(after.metadata.generation).toBe(nginx.metadata.generation);
      // The WebSockets opened before the renewal still carry messages both ways.
      const [alice, bob] = sockets;
      const room = String(alice!.frames.find((f) => f.type === "subscribed")!.room_id);
      alice!.send({ type: "send", room_id: room, body: "after the renewal", client_msg_id: "renewal-1" });
      await alice!.waitFor((f) => f.type === "ack" && f.client_msg_id === "renewal-1");
      await bob!.waitFor(
        (f) => f.type === "message" && (f.message as { body: string }).body === "after the renewal",
      );
      // Renewed again, to the stack's own certificate (what Pulumi's state holds), the same way.
      const back = await renewTlsSecret(
        cluster,
        { namespace: NAMESPACE, secret: secret!, port: forward!.port, servername: DOMAIN },
        {
          certificate: Buffer.from(original.data["tls.crt"], "base64").toString(),
          privateKey: Buffer.from(original.data["tls.key"], "base64").toString(),
        },
      );
      console.log(`the stack's own certificate served again after ${back.toFixed(0)} s`);
    },
    5 * MINUTE,
  );

  it(
    "2c. the fan-out's Redis Cluster (fanoutCluster.mode container): formed by its Job with 3 masters; every node pod deleted at once comes back on new addresses, re-forms it by itself, messages cross API pods again and every API pod is ready again",
    async () => {
      const nodeNames = [0, 1, 2, 3, 4, 5].map((i) => `${PREFIX}-redis-cluster-${i}`);
      const cli = (podName: string, ...args: string[]) =>
        cluster.run([
          "exec",
          "-n",
          NAMESPACE,
          podName,
          "--",
          "sh",
          "-c",
          `REDISCLI_AUTH="$(cat /run/secrets/redis_cluster_password)" redis-cli ${args.join(" ")}`,
        ]);
      const infoOf = async (podName: string) =>
        Object.fromEntries(
          (await cli(podName, "cluster", "info"))
            .split("\n")
            .map((line) => line.trim().split(":"))
            .filter((kv) => kv.length === 2),
        ) as Record<string, string>;
      const formed = async () => {
        for (const podName of nodeNames) {
          const info = await infoOf(podName);
          if (
            info.cluster_state !== "ok" ||
            info.cluster_known_nodes !== "6" ||
            info.cluster_slots_ok !== "16384"
          )
            return false;
          if (/fail|noaddr|handshake|disconnected/.test(await cli(podName, "cluster", "nodes"))) return false;
        }
        return true;
      };
      expect(await jobOutcome(`${PREFIX}-redis-cluster-init`)).toBe("complete");
      expect(await formed()).toBe(true);
      expect(await infoOf(nodeNames[0]!)).toMatchObject({ cluster_size: "3", cluster_known_nodes: "6" });
      const addresses = async () =>
        (await pods("redis-cluster")).map((p) => (p.status as { podIP?: string }).podIP).sort();
      const before = await addresses();
      expect(before).toHaveLength(6);

      await cluster.run(["delete", "pods", "-n", NAMESPACE, "-l", label("redis-cluster"), "--wait=true"], {
        timeoutMs: 3 * MINUTE,
      });
      const deleted = Date.now();
      await waitFor(
        "6 new node pods running",
        async () => {
          const now = await pods("redis-cluster");
          return now.length === 6 && now.every((p) => p.status.phase === "Running");
        },
        3 * MINUTE,
        1000,
      );
      await waitFor("the cluster re-formed by itself", formed, 3 * MINUTE, 2000);
      const after = await addresses();
      note(
        `Redis Cluster re-formed ${((Date.now() - deleted) / 1000).toFixed(0)} s after its 6 pods were deleted (addresses ${before.join(",")} -> ${after.join(",")})`,
      );
      expect(after).not.toEqual(before);

      // The API's cluster client found the new nodes: a message still crosses from alice's pod to bob's.
      const [alice, bob] = sockets;
      const room = String(alice!.frames.find((f) => f.type === "subscribed")!.room_id);
      await waitFor(
        "a message across API pods through the re-formed cluster",
        async () => {
          const id = `after-reform-${Date.now()}`;
          alice!.send({ type: "send", room_id: room, body: id, client_msg_id: id });
          await alice!.waitFor((f) => f.type === "ack" && f.client_msg_id === id, 10_000);
          await bob!.waitFor(
            (f) => f.type === "message" && (f.message as { body: string }).body === id,
            10_000,
          );
          return true;
        },
        2 * MINUTE,
        1000,
      );
      // Every API pod's fan-out recovered (readiness probes every shard), not only alice's and bob's.
      await waitUntilApiPodsReady("the Redis Cluster re-formed");
    },
    10 * MINUTE,
  );

  it(
    "3. ran the migration and admin bootstrap Jobs once, before any API pod became ready; a second pulumi up changes nothing",
    async () => {
      const jobs = await Promise.all(
        ["migrate", "bootstrap-admin"].map((role) =>
          cluster.json<
            K8sObject & { status: { succeeded?: number; failed?: number; completionTime: string } }
          >(["job", `${PREFIX}-${role}`, "-n", NAMESPACE]),
        ),
      );
      for (const job of jobs) {
        expect(job.status.succeeded, job.metadata.name).toBe(1);
        expect(job.status.failed ?? 0, job.metadata.name).toBe(0);
        const ran = await cluster.json<K8sList<Pod>>([
          "pods",
          "-n",
          NAMESPACE,
          "-l",
          `job-name=${job.metadata.name}`,
        ]);
        expect(ran.items.length, `${job.metadata.name} pods`).toBe(1);
      }
      const jobsDone = Math.max(...jobs.map((j) => seconds(j.status.completionTime)));
      const api = await cluster.json<K8sObject>(["deployment", `${PREFIX}-api`, "-n", NAMESPACE]);
      expect(seconds(api.metadata.creationTimestamp)).toBeGreaterThanOrEqual(jobsDone);
      const apiPods = await pods("api");
      for (const pod of apiPods) {
        const ready = pod.status.conditions!.find((c) => c.type === "Ready")!;
        expect(seconds(ready.lastTransitionTime), pod.metadata.name).toBeGreaterThanOrEqual(jobsDone);
      }

      await project!.pulumi("preview (no changes expected)", ["preview", "--expect-no-changes"]);
      const second = await project!.pulumi("up (second, no changes expected)", [
        "up",
        "--yes",
        "--skip-preview",
        "--expect-no-changes",
      ]);
      expect(second.stdout).toMatch(/\d+ unchanged/);
      expect(second.stdout).not.toMatch(/\d+ (created|updated|replaced|deleted)/);
      for (const job of jobs) {
        const now = await cluster.json<K8sObject>(["job", job.metadata.name, "-n", NAMESPACE]);
        expect(now.metadata.uid, `${job.metadata.name} was not run again`).toBe(job.metadata.uid);
      }
      expect((await pods("api")).map((p) => p.metadata.uid).sort()).toEqual(
        apiPods.map((p) => p.metadata.uid).sort(),
      );
    },
    10 * MINUTE,
  );

  it(
    "4a. a rolling update to a new image tag loses no message for clients that reconnect and resubscribe",
    async () => {
      await forward!.ready();
      await execa("docker", ["tag", appImage, rolloutImage]);
      await execa(clusterScript, ["import", rolloutImage]);
      const before = (await runningApiPods()).map((p) => p.metadata.name);
      await waitUntilNginxSpreads();
      const room = await newRoom("rollout");
      const { a, b } = await subscribersOnTwoPods(room, 101);
      const sender = new MessageSender(
        (await ownClient()).client,
        { token: people.alice.token, forwardedFor: "203.0.113.200" },
        room,
        "rollout",
      );
      sender.start();
      await sender.waitUntilSent(5);

      note(`subscribers on ${a.instance} and ${b.instance}; rolling update to ${rolloutImage}`);
      await project!.setConfig("chatapi:images.app", rolloutImage);
      await project!.pulumi("up (rolling update: new image tag)", ["up", "--yes", "--skip-preview"]);
      // Pulumi returns once the new pods are ready; the old ones then drain their WebSockets.
      note("rolling update done; waiting for the replaced pods to finish draining");
      await waitFor(
        "the replaced API pods to be gone",
        async () => {
          const names = (await pods("api")).map((p) => p.metadata.name);
          return before.every((n) => !names.includes(n));
        },
        3 * MINUTE,
      );
      const sent = await sender.stop(10);
      expect(sent).toEqual(range(1, sent.length));
      for (const s of [a, b]) {
        await s.waitForSeq(sent.length);
        expect(s.seqs, `subscriber ${s.forwardedFor}: every message exactly once, in order`).toEqual(sent);
        // Both started on pods the update replaced, so both had to reconnect.
        expect(s.reconnects, `subscriber ${s.forwardedFor} reconnected`).toBeGreaterThanOrEqual(1);
      }
      const after = await runningApiPods();
      expect(after.length).toBe(API_PODS);
      expect(after.map((p) => p.metadata.name).filter((n) => before.includes(n))).toEqual([]);
      for (const pod of after) expect(pod.spec.containers[0]!.image).toBe(rolloutImage);
      // the Jobs ran again with the new image, before the new API pods
      const migrate = await cluster.json<
        K8sObject & { spec: { template: { spec: { containers: { image: string }[] } } } }
      >(["job", `${PREFIX}-migrate`, "-n", NAMESPACE]);
      expect(migrate.spec.template.spec.containers[0]!.image).toBe(rolloutImage);
      console.log(
        `rolling update: ${sent.length} messages, ${sender.retries} sender retries, reconnects ${a.reconnects}/${b.reconnects}`,
      );
      await a.stop();
      await b.stop();
    },
    15 * MINUTE,
  );

  it(
    "4b. deleting one API pod mid-conversation loses nothing (the other pod's clients stay connected)",
    async () => {
      await waitUntilNginxSpreads();
      const room = await newRoom("pod-deleted");
      const { a, b, bForward } = await subscribersOnTwoPods(room, 131);
      const bForwardRestarts = bForward.restarts.length;
      const sender = new MessageSender(
        (await ownClient()).client,
        { token: people.bob.token, forwardedFor: "203.0.113.201" },
        room,
        "deleted",
      );
      sender.start();
      await sender.waitUntilSent(10);
      const victim = a.instance!;
      await cluster.run(["delete", "pod", victim, "-n", NAMESPACE, "--wait=false"]);
      // keep talking until A is back on another pod and the Deployment has replaced the pod
      const deadline = Date.now() + 3 * MINUTE;
      while (
        a.reconnects < 1 ||
        (await runningApiPods()).filter((p) => p.metadata.name !== victim).length < API_PODS
      ) {
        if (Date.now() > deadline)
          throw new Error(
            `after deleting ${victim}: reconnects ${a.reconnects}, errors ${a.errors.slice(-3).join("; ")}`,
          );
        await new Promise((r) => setTimeout(r, 1000));
      }
      const sent = await sender.stop(10);
      expect(sent).toEqual(range(1, sent.length));
      for (const s of [a, b]) {
        await s.waitForSeq(sent.length);
        expect(s.seqs, `subscriber ${s.forwardedFor}`).toEqual(sent);
      }
      expect(a.instance).not.toBe(victim);
      // B's connection on the surviving pod was not touched by the deletion: it reconnected
      // only if its own kubectl port-forward was restarted meanwhile (kubectl drops every
      // forwarded connection when one of them fails).
      expect(b.reconnects, `B's port-forward restarts: ${bForward.restarts.join("; ")}`).toBeLessThanOrEqual(
        bForward.restarts.length - bForwardRestarts,
      );
      console.log(
        `pod deleted: ${sent.length} messages, ${sender.retries} sender retries, A reconnected ${a.reconnects}x`,
      );
      await a.stop();
      await b.stop();
    },
    10 * MINUTE,
  );

  it(
    "5. a Job created from the backup CronJob writes a backup that chatapi restore accepts",
    async () => {
      const job = `${PREFIX}-backup-check-${randomBytes(3).toString("hex")}`;
      await cluster.run(["create", "job", job, "-n", NAMESPACE, `--from=cronjob/${PREFIX}-backup`]);
      const backedUp = await jobOutcome(job);
      const logs = await cluster.kubectl(["logs", "-n", NAMESPACE, `job/${job}`]);
      expect(backedUp, `backup job:\n${logs.stdout}${logs.stderr}`).toBe("complete");

      // Restore it into a scratch database of the same server, with the CronJob's own pod spec
      // (its secrets, its backups volume, the restricted profile), then compare the contents.
      const postgres = `${PREFIX}-postgres-0`;
      const psql = (db: string, sql: string) =>
        cluster.run([
          "exec",
          "-n",
          NAMESPACE,
          postgres,
          "--",
          "psql",
          "-U",
          "chatapi",
          "-d",
          db,
          "-tAc",
          sql,
        ]);
      await psql("chatapi", "DROP DATABASE IF EXISTS restore_check");
      await psql("chatapi", "CREATE DATABASE restore_check");
      const cron = await cluster.json<{
        spec: { jobTemplate: { spec: { template: { spec: { containers: Record<string, unknown>[] } } } } };
      }>(["cronjob", `${PREFIX}-backup`, "-n", NAMESPACE]);
      const template = cron.spec.jobTemplate.spec.template;
      const restore = `${PREFIX}-restore-check`;
      template.spec.containers[0] = {
        ...template.spec.containers[0],
        command: ["sh", "-c"],
        args: [
          [
            "set -e",
            // the newest backup itself, not the .sha256 written beside it
            'latest=$(ls -t "$BACKUP_DIR"/chatapi_backup_* | grep -v "\\.sha256$" | head -n 1)',
            'echo "restoring $latest into restore_check"',
            // the same server and role, the scratch database
            'export DATABASE_URL="$(sed "s#/[^/]*\\$#/restore_check#" "$DATABASE_URL_FILE")"',
            "unset DATABASE_URL_FILE",
            'exec chatapi restore "$latest"',
          ].join("; "),
        ],
      };
      const manifest = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: restore, namespace: NAMESPACE, labels: { "app.kubernetes.io/instance": STACK } },
        spec: { backoffLimit: 0, template },
      };
      await cluster.run(["apply", "-f", "-"], { input: JSON.stringify(manifest) });
      const restored = await jobOutcome(restore);
      const restoreLogs = await cluster.kubectl(["logs", "-n", NAMESPACE, `job/${restore}`]);
      expect(restored, `restore job:\n${restoreLogs.stdout}${restoreLogs.stderr}`).toBe("complete");
      const count = "SELECT count(*) FROM messages";
      expect(Number(await psql("restore_check", count))).toBeGreaterThan(0);
      expect(await psql("restore_check", count)).toBe(await psql("chatapi", count));
      await psql("chatapi", "DROP DATABASE restore_check");
    },
    10 * MINUTE,
  );

  it(
    "6. pulumi destroy removes everything except the data volumes marked to keep, and the cluster is left clean",
    async () => {
      forward?.close();
      for (const s of sockets.splice(0)) await s.drop();
      const claimed = (await ourVolumes()).map((pv) => pv.spec.claimRef!.name).sort();
      expect(claimed).toEqual(
        [
          `${PREFIX}-backups`,
          ...["postgres", "rabbitmq", "redis"].map((s) => `${s}-data-${PREFIX}-${s}-0`),
          ...[0, 1, 2, 3, 4, 5].map((i) => `redis-cluster-data-${PREFIX}-redis-cluster-${i}`),
        ].sort(),
      );

      await project!.pulumi("destroy", ["destroy", "--yes", "--skip-preview"]);
      state.destroyed = true;
      expect(await cluster.exists(["namespace", NAMESPACE])).toBe(false);
      const exported = JSON.parse(
        (await project!.pulumi("stack export (after destroy)", ["stack", "export"])).stdout,
      ) as { deployment: { resources?: unknown[] } };
      expect(exported.deployment.resources ?? []).toEqual([]);
      const leftovers = await cluster.run([
        "get",
        "all,configmaps,secrets,pvc,networkpolicies,pdb,hpa,cronjobs",
        "-A",
        "-l",
        `app.kubernetes.io/instance=${STACK}`,
        "-o",
        "name",
      ]);
      expect(leftovers.trim()).toBe("");
      expect(
        (await cluster.json<K8sList<K8sObject>>(["services", "-A"])).items.filter(
          (s) => s.metadata.namespace === NAMESPACE,
        ),
      ).toEqual([]);

      // Kept: the data volumes (StorageClass local-path-retain), released with their data on disk.
      const kept = await ourVolumes();
      expect(kept.map((pv) => pv.spec.claimRef!.name).sort()).toEqual(claimed);
      for (const pv of kept) {
        expect(pv.spec.persistentVolumeReclaimPolicy).toBe("Retain");
        expect(pv.status.phase).toBe("Released");
      }
      const pgData = kept.find((pv) => pv.spec.claimRef!.name.startsWith("postgres-data"))!.spec.hostPath!
        .path;
      expect(existsSync(join(pgData, "pgdata", "PG_VERSION")) || existsSync(join(pgData, "PG_VERSION"))).toBe(
        true,
      );

      // The test's own clean-up of what it kept; then nothing of the stack is left.
      await cluster.deleteVolumes(NAMESPACE, kept);
      expect(await ourVolumes()).toEqual([]);
      for (const pv of kept) expect(existsSync(pv.spec.hostPath!.path)).toBe(false);
    },
    15 * MINUTE,
  );
});
