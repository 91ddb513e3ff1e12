// The coordinator's handle on a client worker process (workers/client-worker.ts, run with tsx).
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { FromWorker, ToWorker } from "./ipc";

const WORKER = join(__dirname, "..", "workers", "client-worker.ts");
const ROOT = join(__dirname, "..", "..");

export class ClientWorker {
  private readonly waiting = new Map<string, Array<(message: FromWorker) => void>>();
  private exitError: Error | undefined;

  private constructor(readonly child: ChildProcess) {
    child.on("message", (message: FromWorker) => this.waiting.get(message.op)?.shift()?.(message));
    child.on("exit", (code, signal) => {
      this.exitError = new Error(`client worker ${child.pid} exited (${code ?? signal})`);
      for (const queue of this.waiting.values()) queue.length = 0;
    });
  }

  static start(): ClientWorker {
    // stderr is inherited so a crash in a worker is visible on the console.
    return new ClientWorker(
      fork(WORKER, [], {
        cwd: ROOT,
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "ignore", "inherit", "ipc"],
      }),
    );
  }

  /** Sends a command and waits for the reply of the given kind. */
  request<K extends FromWorker["op"]>(
    message: ToWorker,
    replyOp: K,
    timeoutMs = 600_000,
  ): Promise<Extract<FromWorker, { op: K }>> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker did not answer ${message.op} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const exit = () => reject(this.exitError ?? new Error("client worker exited"));
      this.child.once("exit", exit);
      const queue = this.waiting.get(replyOp) ?? [];
      queue.push((reply) => {
        clearTimeout(timer);
        this.child.off("exit", exit);
        resolve(reply as Extract<FromWorker, { op: K }>);
      });
      this.waiting.set(replyOp, queue);
      this.child.send(message);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    await this.request({ op: "close" }, "closed", 10_000).catch(() => undefined);
    this.child.disconnect?.();
    const killer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
  }
}

/** Starts n workers and closes them all afterwards, whatever happens. */
export async function withWorkers<T>(n: number, body: (workers: ClientWorker[]) => Promise<T>): Promise<T> {
  const workers = Array.from({ length: n }, () => ClientWorker.start());
  try {
    return await body(workers);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}
