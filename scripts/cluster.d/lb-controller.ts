// The LoadBalancer controller that `scripts/cluster up` starts as a daemon (component
// lb-controller): it lists the Services, watches them (kubectl get --raw ...?watch=1: one JSON
// event per line) and after every event applies what allocate() says. When the watch ends — the
// API server restarted, or closed the watch after its timeout, or the resourceVersion is too old
// — it lists again and watches from there, retrying with a growing pause while the API server is
// down. Its log: <state>/logs/lb-controller.log.
import { type ClusterConfig, clusterConfig, kubectlPath } from "./config";
import { execaModule } from "../../toolbox/exec";
import { type LbAction, allocate, lbPool, lbService, statusPatch } from "./lb-allocator";
import { sleep } from "./log";

interface ServiceObject {
  metadata: { namespace: string; name: string; resourceVersion?: string };
  [key: string]: unknown;
}
interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: ServiceObject & { code?: number; message?: string };
}

const log = (line: string) => console.log(`${new Date().toISOString().replace(/\.\d+Z$/, "Z")} ${line}`);
const keyOf = (o: ServiceObject) => `${o.metadata.namespace}/${o.metadata.name}`;

export class LbController {
  private readonly services = new Map<string, ServiceObject>();
  private readonly reported = new Set<string>();
  private readonly pool;

  constructor(
    private readonly config: ClusterConfig,
    private readonly kubectl: (args: string[]) => Promise<string> = (args) => runKubectl(config, args),
  ) {
    this.pool = lbPool(config.network.lbCidr);
  }

  /** Replaces the known Services with a fresh list; returns its resourceVersion. */
  async list(): Promise<string> {
    const list = JSON.parse(await this.kubectl(["get", "--raw", "/api/v1/services"])) as {
      metadata: { resourceVersion: string };
      items: ServiceObject[];
    };
    this.services.clear();
    for (const item of list.items) this.services.set(keyOf(item), item);
    return list.metadata.resourceVersion;
  }

  /** Applies one watch event to the known Services; an ERROR event (e.g. 410 Gone) ends the watch. */
  apply(event: WatchEvent): void {
    if (event.type === "ERROR")
      throw new Error(`watch error ${event.object.code ?? ""}: ${event.object.message ?? "(no message)"}`);
    if (event.type === "BOOKMARK") return;
    if (event.type === "DELETED") this.services.delete(keyOf(event.object));
    else this.services.set(keyOf(event.object), event.object);
  }

  /** Brings every Service's address in line with allocate(); returns what it did. */
  async reconcile(): Promise<LbAction[]> {
    const actions = allocate(
      [...this.services.values()].map((s) => lbService(s)),
      this.pool,
    );
    for (const action of actions) {
      const patch = statusPatch(action);
      if (!patch) {
        const line = `${action.key}: ${action.kind === "conflict" ? action.reason : action.kind}`;
        if (!this.reported.has(line)) log(line);
        this.reported.add(line);
        continue;
      }
      const [namespace, name] = action.key.split("/") as [string, string];
      try {
        const updated = JSON.parse(
          await this.kubectl([
            "-n",
            namespace,
            "patch",
            "service",
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            JSON.stringify(patch),
            "-o",
            "json",
          ]),
        ) as ServiceObject;
        this.services.set(action.key, updated);
        if (action.kind === "assign") log(`${action.key} -> ${action.ip}`);
        if (action.kind === "release") log(`${action.key} released ${action.ip}`);
      } catch (error) {
        log(`${action.key}: patch failed: ${(error as Error).message.split("\n")[0]}`);
      }
    }
    return actions;
  }
}

async function runKubectl(config: ClusterConfig, args: string[]): Promise<string> {
  const { execa } = await execaModule();
  const result = await execa(kubectlPath(config), ["--kubeconfig", config.paths.adminKubeconfig, ...args]);
  return String(result.stdout);
}

/** One watch from a resourceVersion until it ends; every event is applied, then reconciled. */
async function watch(
  config: ClusterConfig,
  controller: LbController,
  resourceVersion: string,
): Promise<void> {
  const { execa } = await execaModule();
  const path = `/api/v1/services?watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`;
  const child = execa(
    kubectlPath(config),
    ["--kubeconfig", config.paths.adminKubeconfig, "get", "--raw", path],
    {
      stdin: "ignore",
      stderr: "pipe",
    },
  );
  const stop = () => child.kill();
  process.once("SIGTERM", stop);
  try {
    for await (const line of child) {
      if (!line.trim()) continue;
      controller.apply(JSON.parse(line) as WatchEvent);
      await controller.reconcile();
    }
    await child;
  } finally {
    process.off("SIGTERM", stop);
    if (child.exitCode === null) child.kill();
  }
}

/** List, reconcile, watch; again after any failure, pausing 1 s, 2 s, ... up to 5 s. */
export async function runController(config: ClusterConfig): Promise<never> {
  const controller = new LbController(config);
  let pause = 1000;
  log(`LoadBalancer addresses from ${config.network.lbCidr}`);
  for (;;) {
    try {
      const resourceVersion = await controller.list();
      await controller.reconcile();
      pause = 1000;
      await watch(config, controller, resourceVersion);
      log("watch ended: listing again");
    } catch (error) {
      const e = error as Error & { stderr?: unknown };
      const why = (typeof e.stderr === "string" && e.stderr.trim()) || e.message;
      log(`list/watch of Services failed: ${why.split("\n")[0]} (retrying in ${pause / 1000} s)`);
      await sleep(pause);
      pause = Math.min(pause * 2, 5_000);
    }
  }
}

if (require.main === module) {
  process.on("SIGTERM", () => process.exit(0));
  void runController(clusterConfig());
}
