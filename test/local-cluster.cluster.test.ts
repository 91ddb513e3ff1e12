// The local cluster that scripts/cluster builds, run the way a user runs it, in order (each step
// builds on the one before):
//   1. `down` from whatever state leaves nothing of the cluster on the host (processes, bridge,
//      veths, network namespaces, mounts, iptables chains, cgroups); a second `down` is a no-op;
//   2. `up` from stopped starts every component and proves DNS from a pod; `status` shows them;
//      `up` on the healthy cluster starts nothing;
//   3. workloads: Pod Security `restricted` enforced; a restricted Deployment behind a Service
//      reached by name from a pod; pod to pod; a StatefulSet whose claim binds and a non-root pod
//      writes to; hairpin; `kubectl port-forward`; a LoadBalancer Service that gets an address
//      and answers from the host; a Job; an HPA reading metrics-server; a rolling update;
//   4. the LoadBalancer controller survives an API server restart (same process; a new Service
//      gets its address afterwards);
//   5. `down` leaves the host as step 1 found it;
//   6. `up` from nothing (a new state folder) and `down --purge` remove every trace, that folder too.
// It takes the machine-wide lock of the cluster tests (~/.cache/chatapi/run/kind-stack.lock): it
// stops the cluster, so it never runs beside the localcluster-stack test.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ImageTree, importImageTree } from "../scripts/cluster.d/build";
import { COMPONENTS } from "../scripts/cluster.d/components";
import { clusterConfig } from "../scripts/cluster.d/config";
import { type FileLock, acquireFileLock } from "../scripts/lib/file-lock";
import { LocalCluster, clusterScript } from "./support/local-cluster";
import { cacheDir } from "./support/paths";
import { waitFor } from "../toolbox/processes";

const MINUTE = 60_000;
const NS = "chatapi-cluster-test";
const IMAGE = "chatapi-local/cluster-test";
const config = clusterConfig();
const times: string[] = [];
let lock: FileLock | undefined;
let cluster: LocalCluster;
let before: Record<string, number>;

/** Runs scripts/cluster like a user; fails with its output when it fails. */
async function clusterCommand(args: string[], timeoutMs = 10 * MINUTE): Promise<string> {
  const started = performance.now();
  const result = await execa(clusterScript, args, { all: true, reject: false, timeout: timeoutMs });
  const took = ((performance.now() - started) / 1000).toFixed(1);
  if (args[0] !== "status") times.push(`scripts/cluster ${args.join(" ")}: ${took} s`);
  if (result.exitCode !== 0)
    throw new Error(
      `scripts/cluster ${args.join(" ")} exited ${result.exitCode}:\n${String(result.all).slice(-6000)}`,
    );
  return String(result.all);
}

const count = (text: string, pattern: RegExp) => text.split("\n").filter((l) => pattern.test(l)).length;
const shell = (command: string) => {
  try {
    return execFileSync("sh", ["-c", command], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return "";
  }
};

/** What a stopped cluster must not leave behind, counted. */
function leftovers(): Record<string, number> {
  const iptables = shell("iptables-save; ip6tables-save");
  const netnsDir = join(config.state, "containerd", "state");
  const netns = ["netns", "io.containerd.grpc.v1.cri/netns"]
    .map((d) => join(netnsDir, d))
    .filter((d) => existsSync(d))
    .reduce((n, d) => n + readdirSync(d).length, 0);
  const binaries = Object.values(config.builds);
  let processes = 0;
  for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    let exe = "";
    let cmdline = "";
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (binaries.some((dir) => exe.startsWith(`${dir}/`))) processes++;
    else if (/\/containerd(-shim-runc-v2)?$/.test(exe) && cmdline.includes(`${config.state}/`)) processes++;
    else if (cmdline.includes("cluster.d/lb-controller.ts") || cmdline.includes("__lb-controller"))
      processes++;
  }
  return {
    "kube iptables lines": count(iptables, /kube/i),
    "CNI-/CHATAPI- iptables lines": count(iptables, /CNI-|CHATAPI-/),
    bridge: count(shell(`ip -o link show ${config.network.bridge}`), /./),
    "veths on the bridge": count(shell(`ip -o link show master ${config.network.bridge}`), /./),
    "network namespaces": netns,
    "mounts under the state folder": count(
      readFileSync("/proc/self/mounts", "utf8"),
      new RegExp(` ${config.state}/`),
    ),
    processes,
    "kubepods cgroups": count(shell("find /sys/fs/cgroup -maxdepth 2 -name 'kubepods*'"), /./),
  };
}

/** A small web image: Debian's busybox-static (httpd, sh) plus the host's curl and getent with their libraries. */
async function ensureTestImage(tag: string): Promise<void> {
  if ((await execa("docker", ["image", "inspect", `${IMAGE}:${tag}`], { reject: false })).exitCode === 0)
    return;
  const libraries = [
    ...new Set(
      execFileSync("ldd", ["/usr/bin/curl", "/usr/bin/getent"], { encoding: "utf8" })
        .split("\n")
        .flatMap((line) => /(?:=> )?(\/\S+) \(0x/.exec(line)?.slice(1, 2) ?? []),
    ),
  ];
  const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  const tree: ImageTree = {
    files: [
      { from: "/bin/busybox", to: "bin/busybox" },
      { from: "/usr/bin/curl", to: "usr/bin/curl" },
      { from: "/usr/bin/getent", to: "usr/bin/getent" },
      ...libraries.map((lib) => ({ from: lib, to: lib.slice(1) })),
    ],
    tmpDirs: ["tmp"],
    links: applets.filter((a) => a !== "busybox").map((a) => ({ to: `bin/${a}`, target: "busybox" })),
    text: [
      { to: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/www:/bin/false\n" },
      { to: "etc/group", content: "root:x:0:\napp:x:10001:\n" },
      { to: "etc/nsswitch.conf", content: "hosts: files dns\n" },
      { to: "etc/selftest-version", content: `${tag}\n` },
    ],
    changes: ["ENV PATH=/usr/bin:/bin", "USER 10001:10001", 'CMD ["/bin/sh"]'],
  };
  await importImageTree(`${IMAGE}:${tag}`, tree);
}

// ---------------------------------------------------------------- the workloads (plain objects, applied as JSON)
const podSecurity = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  fsGroup: 10001,
  seccompProfile: { type: "RuntimeDefault" },
};
const containerSecurity = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};
const resources = { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } };
const container = (name: string, tag: string, command: string[], extra: object = {}) => ({
  name,
  image: `docker.io/${IMAGE}:${tag}`,
  imagePullPolicy: "Never",
  command,
  resources,
  securityContext: containerSecurity,
  ...extra,
});
const service = (name: string, app: string, port: number, extra: object = {}) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { selector: { app }, ports: [{ name: "http", port, targetPort: 8080 }], ...extra },
});

const web = (tag: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", labels: { app: "web" } },
  spec: {
    replicas: 2,
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        securityContext: podSecurity,
        terminationGracePeriodSeconds: 2,
        containers: [
          container(
            "web",
            tag,
            [
              "sh",
              "-c",
              'echo "$(cat /etc/selftest-version) $HOSTNAME" > /www/index.html; exec httpd -f -p 8080 -h /www',
            ],
            {
              ports: [{ name: "http", containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/index.html", port: "http" }, periodSeconds: 1 },
              volumeMounts: [{ name: "www", mountPath: "/www" }],
            },
          ),
        ],
        volumes: [{ name: "www", emptyDir: {} }],
      },
    },
  },
});

const workloads = [
  web("v1"),
  service("web", "web", 80),
  service("web-lb", "web", 8088, { type: "LoadBalancer" }),
  service("data", "data", 8080, { clusterIP: "None" }),
  service("data-svc", "data", 8080),
  {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 2,
      maxReplicas: 3,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
      ],
    },
  },
  {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "data" },
    spec: {
      serviceName: "data",
      replicas: 1,
      selector: { matchLabels: { app: "data" } },
      template: {
        metadata: { labels: { app: "data" } },
        spec: {
          securityContext: podSecurity,
          terminationGracePeriodSeconds: 2,
          containers: [
            container(
              "data",
              "v1",
              ["sh", "-c", "date > /data/written-by-$(id -u); exec httpd -f -p 8080 -h /data"],
              {
                ports: [{ name: "http", containerPort: 8080 }],
                readinessProbe: {
                  exec: { command: ["sh", "-c", "test -s /data/written-by-10001"] },
                  periodSeconds: 1,
                },
                volumeMounts: [{ name: "data", mountPath: "/data" }],
              },
            ),
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "64Mi" } } },
        },
      ],
    },
  },
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "client", labels: { app: "client" } },
    spec: {
      securityContext: podSecurity,
      terminationGracePeriodSeconds: 1,
      containers: [container("client", "v1", ["sleep", "3600"])],
    },
  },
];

const apply = (objects: object[]) =>
  cluster.run(["-n", NS, "apply", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });

/**
 * A command in the client pod; its stdout. Retried: kubectl 1.33's WebSocket exec now and then
 * drops the output ("Unknown stream id 1, discarding message" on stderr).
 */
async function inClient(command: string, pod = "client"): Promise<string> {
  let last = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    const result = await cluster.kubectl(["-n", NS, "exec", pod, "--", "sh", "-c", command]);
    if (result.exitCode === 0 && result.stdout.trim()) return result.stdout.trim();
    last = `exit ${result.exitCode}: ${result.stdout}${result.stderr}`;
  }
  throw new Error(`${command} in pod ${pod}: ${last}`);
}

const jsonpath = (args: string[], path: string) =>
  cluster.run(["-n", NS, "get", ...args, "-o", `jsonpath=${path}`]);

beforeAll(async () => {
  lock = await acquireFileLock(join(cacheDir, "run", "kind-stack.lock"), {
    timeoutMs: 45 * MINUTE,
    purpose: "the local-cluster test",
  });
}, 46 * MINUTE);

afterAll(async () => {
  console.log(`times:\n  ${times.join("\n  ")}`);
  lock?.release();
});

describe("scripts/cluster, as a user runs it", () => {
  it(
    "down from any state leaves nothing of the cluster on the host; a second down is a no-op",
    async () => {
      await clusterCommand(["down"]);
      before = leftovers();
      console.log(`after down: ${JSON.stringify(before)}`);
      expect(before).toMatchObject({
        "CNI-/CHATAPI- iptables lines": 0,
        bridge: 0,
        "veths on the bridge": 0,
        "network namespaces": 0,
        "mounts under the state folder": 0,
        processes: 0,
      });
      expect(await clusterCommand(["down"])).toContain("cluster is not running: nothing to stop");
    },
    3 * MINUTE,
  );

  it(
    "up from stopped starts every component, proves DNS from a pod, and status shows them",
    async () => {
      const output = await clusterCommand(["up"]);
      expect(output).toMatch(/checking DNS from a pod/);
      expect(output).toMatch(/cluster up in [\d.]+s: node chatapi-node Ready/);
      cluster = await LocalCluster.connect();
      const status = await clusterCommand(["status"], MINUTE);
      for (const component of COMPONENTS)
        expect(status).toMatch(new RegExp(`^${component} +running +pid \\d+`, "m"));
      expect(status).toMatch(/^node\/chatapi-node +Ready=True/m);
      for (const addon of ["coredns", "local-path-provisioner"])
        expect(status).toMatch(new RegExp(`^${addon} +running +pod`, "m"));
      // up does not wait for metrics-server (HPAs only need it later): status shows it when it is ready
      expect(status).toMatch(/^metrics-server +(running|down) +pod/m);
      await waitFor(
        "status to show metrics-server running",
        async () => /^metrics-server +running +pod/m.test(await clusterCommand(["status"], MINUTE)),
        3 * MINUTE,
      );
      expect(status).toContain(`kubeconfig               ${config.paths.adminKubeconfig}`);
    },
    12 * MINUTE,
  );

  it(
    "up on the healthy cluster starts nothing",
    async () => {
      const output = await clusterCommand(["up"]);
      expect(output).toContain(
        "cluster already up and healthy (node chatapi-node Ready, DNS up): nothing to start",
      );
      expect(output).not.toMatch(/-> starting/);
    },
    5 * MINUTE,
  );

  it(
    "runs restricted workloads: Deployment, StatefulSet with a claim, Services, DNS, port-forward, LoadBalancer, Job, HPA, rolling update",
    async () => {
      await ensureTestImage("v1");
      await ensureTestImage("v2");
      await clusterCommand(["import", `${IMAGE}:v1`, `${IMAGE}:v2`]);
      await cluster.run(["delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=120s"], {
        timeoutMs: 3 * MINUTE,
      });
      await cluster.run(["apply", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "v1",
          kind: "Namespace",
          metadata: {
            name: NS,
            labels: {
              "pod-security.kubernetes.io/enforce": "restricted",
              "pod-security.kubernetes.io/enforce-version": "latest",
            },
          },
        }),
      });
      await waitFor(
        "the namespace's default ServiceAccount",
        () => cluster.exists(["-n", NS, "serviceaccount", "default"]),
        MINUTE,
      );

      // Pod Security: a pod that runs as root is refused
      const root = await cluster.kubectl([
        "-n",
        NS,
        "run",
        "root-pod",
        `--image=docker.io/${IMAGE}:v1`,
        "--image-pull-policy=Never",
        "--restart=Never",
        "--",
        "sleep",
        "1",
      ]);
      expect(root.exitCode).not.toBe(0);
      expect(root.stderr).toContain('violates PodSecurity "restricted:latest"');

      await apply(workloads);
      await cluster.run(["-n", NS, "rollout", "status", "deploy/web", "--timeout=120s"], {
        timeoutMs: 3 * MINUTE,
      });
      await cluster.run(["-n", NS, "rollout", "status", "sts/data", "--timeout=180s"], {
        timeoutMs: 4 * MINUTE,
      });
      await cluster.run(["-n", NS, "wait", "--for=condition=Ready", "pod/client", "--timeout=60s"]);

      // the StatefulSet's claim bound through local-path; a non-root pod wrote to it, on the host
      expect(await jsonpath(["pvc", "data-data-0"], "{.status.phase} {.spec.storageClassName}")).toBe(
        "Bound local-path",
      );
      const volume = await jsonpath(["pvc", "data-data-0"], "{.spec.volumeName}");
      const hostPath = await cluster.run([
        "get",
        "pv",
        volume,
        "-o",
        "jsonpath={.spec.hostPath.path}{.spec.local.path}",
      ]);
      expect(hostPath.startsWith(`${config.paths.volumes}/`)).toBe(true);
      expect(readFileSync(join(hostPath, "written-by-10001"), "utf8")).not.toBe("");

      // Service names resolve from a pod (search path included), ClusterIPs route through kube-proxy
      for (const name of ["web", `web.${NS}`, `web.${NS}.svc.cluster.local`])
        expect(await inClient(`curl -fsS -m 5 http://${name}/index.html`)).toMatch(/^v1 web-/);
      const clusterIp = await jsonpath(["svc", "web"], "{.spec.clusterIP}");
      expect(await inClient("getent hosts web")).toMatch(new RegExp(`^${clusterIp.replaceAll(".", "\\.")} `));
      const dataIp = await jsonpath(["pod", "data-0"], "{.status.podIP}");
      expect(await inClient("getent hosts data-0.data")).toMatch(
        new RegExp(`^${dataIp.replaceAll(".", "\\.")} `),
      );
      // pod to pod on pod IPs
      for (const ip of (await jsonpath(["pods", "-l", "app=web"], "{.items[*].status.podIP}")).split(" "))
        expect(await inClient(`curl -fsS -m 5 http://${ip}:8080/index.html`)).toMatch(/^v1 web-/);
      // hairpin: the only backend of data-svc calls that Service
      expect(await inClient("curl -fsS -m 5 http://data-svc:8080/written-by-10001", "data-0")).not.toBe("");

      // kubectl port-forward on 127.0.0.1
      const forward = await cluster.portForward(NS, "svc/web", 80);
      try {
        const response = await fetch(`http://127.0.0.1:${forward.port}/index.html`);
        expect(await response.text()).toMatch(/^v1 web-/);
      } finally {
        forward.close();
      }

      // a LoadBalancer Service gets an address from the pool, and it answers from the host
      let lbIp = "";
      await waitFor("web-lb's LoadBalancer address", async () => {
        lbIp = await jsonpath(["svc", "web-lb"], "{.status.loadBalancer.ingress[0].ip}");
        return lbIp !== "";
      });
      expect(lbIp).toMatch(/^10\.97\.0\.\d+$/);
      const viaLb = await fetch(`http://${lbIp}:8088/index.html`, { signal: AbortSignal.timeout(10_000) });
      expect(await viaLb.text()).toMatch(/^v1 web-/);

      // a Job completes
      await apply([
        {
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: { name: "once" },
          spec: {
            backoffLimit: 0,
            template: {
              spec: {
                restartPolicy: "Never",
                securityContext: podSecurity,
                containers: [
                  container("once", "v1", [
                    "sh",
                    "-c",
                    "curl -fsS -m 5 http://web/index.html && echo job-done",
                  ]),
                ],
              },
            },
          },
        },
      ]);
      await cluster.run(["-n", NS, "wait", "--for=condition=complete", "job/once", "--timeout=120s"], {
        timeoutMs: 3 * MINUTE,
      });
      expect(await cluster.run(["-n", NS, "logs", "job/once"])).toContain("job-done");

      // the HPA reads CPU from metrics.k8s.io (metrics-server)
      await waitFor(
        "the HPA's CPU metric",
        async () =>
          (await jsonpath(
            ["hpa", "web"],
            "{.status.currentMetrics[0].resource.current.averageUtilization}",
          )) !== "",
        3 * MINUTE,
      );

      // a rolling update: afterwards the Service serves only v2 (kube-proxy reprograms within seconds)
      await apply([web("v2")]);
      await cluster.run(["-n", NS, "rollout", "status", "deploy/web", "--timeout=180s"], {
        timeoutMs: 4 * MINUTE,
      });
      await waitFor("the Service to serve only v2", async () => {
        const answers = await inClient("for i in 1 2 3 4 5 6; do curl -fsS -m 5 http://web/index.html; done");
        return !/^v1 /m.test(answers) && /^v2 /m.test(answers);
      });

      // deleting the namespace deletes the claim, and the provisioner removes the volume's folder
      await cluster.run(["delete", "namespace", NS, "--wait=true", "--timeout=180s"], {
        timeoutMs: 4 * MINUTE,
      });
      await waitFor("the volume folder to be removed", async () => !existsSync(hostPath), MINUTE);
    },
    25 * MINUTE,
  );

  it(
    "the LoadBalancer controller survives an API server restart",
    async () => {
      const pidOf = (name: string) =>
        Number(readFileSync(join(config.paths.run, `${name}.pid`), "utf8").split(" ")[0]);
      const controller = pidOf("lb-controller");
      const apiserver = pidOf("kube-apiserver");
      process.kill(apiserver, "SIGTERM");
      await waitFor(
        "kube-apiserver to stop",
        async () =>
          !existsSync(`/proc/${apiserver}`) ||
          readFileSync(`/proc/${apiserver}/stat`, "utf8").includes(") Z "),
        2 * MINUTE,
      );
      const output = await clusterCommand(["up"]);
      expect(output).toContain("-> starting kube-apiserver");
      expect(pidOf("lb-controller")).toBe(controller);
      expect(existsSync(`/proc/${controller}`)).toBe(true);

      await cluster.run(["create", "namespace", NS]);
      await cluster.run(["-n", NS, "create", "service", "loadbalancer", "after-restart", "--tcp=80:8080"]);
      await waitFor(
        "the new Service's address",
        async () =>
          /^10\.97\.0\.\d+$/.test(
            await jsonpath(["svc", "after-restart"], "{.status.loadBalancer.ingress[0].ip}"),
          ),
        MINUTE,
      );
      // the address is visible as soon as the API server stores the patch; the controller logs
      // it only after its kubectl patch has exited, a moment later
      const readLog = () => readFileSync(join(config.paths.logs, "lb-controller.log"), "utf8");
      const assigned = new RegExp(`${NS}/after-restart -> 10\\.97\\.0\\.\\d+`);
      await waitFor("the controller to log the assignment", async () => assigned.test(readLog()), MINUTE);
      expect(readLog()).toMatch(/list\/watch of Services failed: .*retrying/);
      await cluster.run(["delete", "namespace", NS, "--wait=true", "--timeout=120s"], {
        timeoutMs: 3 * MINUTE,
      });
    },
    8 * MINUTE,
  );

  it(
    "down stops everything and leaves the host as it found it",
    async () => {
      const output = await clusterCommand(["down"]);
      expect(output).toMatch(/stopped lb-controller \(pid \d+/);
      expect(output).toMatch(/stopped etcd \(pid \d+/);
      const after = leftovers();
      console.log(`after the last down: ${JSON.stringify(after)}`);
      expect(after).toEqual(before);
    },
    3 * MINUTE,
  );

  it(
    "up from nothing (a new state folder) builds the cluster's state; down --purge removes it and leaves nothing",
    async () => {
      const state = "/var/tmp/chatapi-cluster-test-state";
      const env = { ...process.env, CHATAPI_CLUSTER_STATE: state };
      const inState = (args: string[]) =>
        execa(clusterScript, args, { env, all: true, reject: false, timeout: 10 * MINUTE });
      try {
        const started = performance.now();
        const up = await inState(["up"]);
        times.push(`scripts/cluster up (new state): ${((performance.now() - started) / 1000).toFixed(1)} s`);
        expect(up.exitCode, String(up.all)).toBe(0);
        expect(up.all).toContain(
          `creating the cluster CA, certificates and tokens with openssl in ${state}/pki`,
        );
        expect((await inState(["kubeconfig"])).stdout).toBe(`${state}/kubeconfig/admin.kubeconfig`);
        expect((await inState(["import", "chatapi-local/no-such-image:0"])).all).toContain(
          "[cluster] error: no Docker image 'chatapi-local/no-such-image:0'",
        );
        const started2 = performance.now();
        const purge = await inState(["down", "--purge"]);
        times.push(`scripts/cluster down --purge: ${((performance.now() - started2) / 1000).toFixed(1)} s`);
        expect(purge.exitCode, String(purge.all)).toBe(0);
        expect(purge.all).toContain(`purged cluster state ${state} (build cache kept)`);
        expect(existsSync(state)).toBe(false);
        expect(leftovers()).toEqual(before);
      } finally {
        await inState(["down", "--purge"]);
      }
    },
    12 * MINUTE,
  );
});
