// The local Kubernetes cluster that scripts/cluster builds and runs, for *.cluster.test.ts:
// kubectl with its admin kubeconfig, JSON reads, and `kubectl port-forward` on 127.0.0.1. A
// cluster that is not running is an error naming the command that starts it, never a skip.
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { repoRoot } from "./paths";
import { freePort } from "../../toolbox/processes";

/** A PersistentVolume as the clean-up reads it. */
export interface PersistentVolume {
  metadata: { name: string };
  spec: {
    claimRef?: { name: string; namespace: string };
    persistentVolumeReclaimPolicy?: string;
    hostPath?: { path: string };
  };
  status: { phase: string };
}

export const clusterScript = join(repoRoot, "scripts", "cluster");

export interface KubectlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface PortForward {
  port: number;
  /** Why kubectl had to be started again (it exits when a forwarded connection fails). */
  restarts: string[];
  /** Resolves once kubectl forwards again (after a restart); rejects after `timeoutMs`. */
  ready: (timeoutMs?: number) => Promise<void>;
  close: () => void;
}

export class LocalCluster {
  private constructor(readonly kubeconfig: string) {}

  /**
   * Starts the cluster the way a user does (`scripts/cluster up`: idempotent, seconds when it is
   * already up; it builds whatever binaries scripts/setup --for test did not) and connects to it.
   * A failure is an error with the script's output, never a skip.
   */
  static async up(timeoutMs: number): Promise<LocalCluster> {
    const started = performance.now();
    const up = await execa(clusterScript, ["up"], { reject: false, all: true, timeout: timeoutMs });
    if (up.exitCode !== 0)
      throw new Error(
        `scripts/cluster up exited ${up.exitCode ?? "(killed)"}:\n${String(up.all).slice(-6000)}`,
      );
    console.log(`scripts/cluster up: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return LocalCluster.connect();
  }

  /** The running cluster; throws with what to run when it is not up. */
  static async connect(): Promise<LocalCluster> {
    const where = await execa(clusterScript, ["kubeconfig"], { reject: false });
    const cluster = new LocalCluster(where.stdout.trim());
    const ready = where.exitCode === 0 ? await cluster.kubectl(["get", "--raw", "/readyz"]) : undefined;
    if (!ready || ready.exitCode !== 0 || ready.stdout.trim() !== "ok") {
      const status = await execa(clusterScript, ["status"], { reject: false, all: true });
      throw new Error(
        "The local Kubernetes cluster is not running.\n" +
          "Start it with: scripts/cluster up   (scripts/setup --for test builds it; the first build takes 25-50 min)\n" +
          `${where.stderr}${ready?.stderr ?? ""}\n${status.all ?? ""}`,
      );
    }
    return cluster;
  }

  /** kubectl with the admin kubeconfig; never throws on exit codes (stderr may hold warnings). */
  async kubectl(
    args: string[],
    options: { input?: string; timeoutMs?: number } = {},
  ): Promise<KubectlResult> {
    const result = await execa(clusterScript, ["kubectl", ...args], {
      reject: false,
      timeout: options.timeoutMs ?? 120_000,
      ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
    });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  /** kubectl that must succeed; returns stdout. */
  async run(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const result = await this.kubectl(args, options);
    if (result.exitCode !== 0)
      throw new Error(
        `kubectl ${args.join(" ")} exited ${result.exitCode}:\n${result.stderr}${result.stdout}`,
      );
    return result.stdout;
  }

  /** `kubectl get ... -o json`, parsed. */
  async json<T = Record<string, unknown>>(args: string[]): Promise<T> {
    return JSON.parse(await this.run(["get", ...args, "-o", "json"])) as T;
  }

  /** Waits (bounded) until a Job completes or fails. */
  async jobOutcome(namespace: string, name: string, timeoutMs: number): Promise<"complete" | "failed"> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.json<{ status: { conditions?: { type: string; status: string }[] } }>([
        "job",
        name,
        "-n",
        namespace,
      ]);
      const done = job.status.conditions?.find(
        (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
      );
      if (done) return done.type === "Complete" ? "complete" : "failed";
      if (Date.now() > deadline)
        throw new Error(`job ${name} neither completed nor failed within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  /** Does the object exist? (NotFound is no; any other failure throws.) */
  async exists(args: string[]): Promise<boolean> {
    const result = await this.kubectl(["get", ...args, "-o", "name"]);
    if (result.exitCode === 0) return true;
    if (/NotFound|not found/.test(result.stderr)) return false;
    throw new Error(`kubectl get ${args.join(" ")}: ${result.stderr}`);
  }

  /** Persistent volumes claimed from `namespace` (a Retain policy keeps them after it is gone). */
  async volumesOf(namespace: string): Promise<PersistentVolume[]> {
    const list = await this.json<{ items: PersistentVolume[] }>(["pv"]);
    return list.items.filter((pv) => pv.spec.claimRef?.namespace === namespace);
  }

  /** Deletes `namespace`'s kept volumes and their data folders on the node (only under the cluster's volumes folder). */
  async deleteVolumes(namespace: string, volumes: PersistentVolume[]): Promise<void> {
    for (const pv of volumes) {
      // --ignore-not-found: the provisioner may reclaim it between the list and the delete.
      await this.run([
        "delete",
        "pv",
        pv.metadata.name,
        "--ignore-not-found",
        "--wait=true",
        "--timeout=60s",
      ]);
      const path = pv.spec.hostPath?.path;
      if (path && /\/volumes\/pvc-[0-9a-f-]+_/.test(path) && path.includes(`_${namespace}_`))
        rmSync(path, { recursive: true, force: true });
    }
  }

  /**
   * `kubectl port-forward` to a Service on 127.0.0.1, kept up: kubectl picks one pod behind the
   * Service and exits when any one forwarded connection fails (the kubelet reports e.g. a reset
   * from the pod, and kubectl then drops every connection: "lost connection to pod"), so it is
   * started again on the same local port. `restarts` lists why it had to be.
   */
  async portForward(namespace: string, target: string, remotePort: number): Promise<PortForward> {
    const port = await freePort();
    const restarts: string[] = [];
    let child: ChildProcess | undefined;
    let closed = false;
    let forwarding = false;
    const start = () =>
      new Promise<void>((resolve, reject) => {
        let output = "";
        child = spawn(
          clusterScript,
          [
            "kubectl",
            "-n",
            namespace,
            "port-forward",
            "--address",
            "127.0.0.1",
            target,
            `${port}:${remotePort}`,
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        const timer = setTimeout(
          () => reject(new Error(`port-forward ${target} did not start: ${output}`)),
          30_000,
        );
        const onData = (data: Buffer) => {
          output += data.toString();
          if (output.includes(`Forwarding from 127.0.0.1:${port}`)) {
            clearTimeout(timer);
            forwarding = true;
            resolve();
          }
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", onData);
        child.once("exit", (code) => {
          clearTimeout(timer);
          forwarding = false;
          if (closed) return;
          restarts.push(
            `exit ${code}: ${output
              .split("\n")
              .filter((l) => !/^(Forwarding|Handling)/.test(l))
              .join(" ")
              .trim()}`,
          );
          reject(new Error(`port-forward ${target} exited ${code}: ${output}`));
          setTimeout(() => void start().catch(() => undefined), 250);
        });
      });
    await start();
    return {
      port,
      restarts,
      ready: async (timeoutMs = 60_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!forwarding) {
          if (Date.now() > deadline)
            throw new Error(`port-forward ${target} not back within ${timeoutMs} ms: ${restarts.join("; ")}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      close: () => {
        closed = true;
        child?.kill("SIGTERM");
      },
    };
  }
}
