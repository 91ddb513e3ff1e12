// Monitoring daemons from Debian's packages (Prometheus, the Pushgateway, exporters) as child
// processes on free loopback ports, for tests. A missing binary fails loudly, naming the package
// scripts/setup installs it from.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis-server.js";

export interface Daemon {
  url: string;
  port: number;
  output: string[];
  stop(): Promise<void>;
}

export interface DaemonOptions {
  binary: string;
  /** The Debian package that ships the binary. */
  debianPackage: string;
  args: (port: number) => string[];
  env?: Record<string, string>;
  /** Answers 200 once the daemon is up. */
  readyPath?: string;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  if (!existsSync(options.binary)) {
    throw new Error(
      `${options.binary} is missing: bash scripts/setup installs Debian's ${options.debianPackage} package`,
    );
  }
  const port = await freePort();
  const child = spawn(options.binary, options.args(port), {
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${options.binary} exited with ${child.exitCode}:\n${output.join("")}`);
    const ok = await fetch(url + (options.readyPath ?? "/metrics")).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.binary} did not answer within 30 s:\n${output.join("")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A Pushgateway of its own (Debian's build persists to /var/lib/prometheus unless told otherwise). */
export async function startPushgateway(): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-pushgateway-"));
  const daemon = await startDaemon({
    binary: "/usr/bin/prometheus-pushgateway",
    debianPackage: "prometheus-pushgateway",
    args: (port) => [
      `--web.listen-address=127.0.0.1:${port}`,
      `--persistence.file=${join(dir, "pushed.data")}`,
    ],
  });
  return {
    ...daemon,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One sample of a Prometheus text exposition, or undefined when absent (labels: exact values). */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) return Number(match[3]);
  }
  return undefined;
}
