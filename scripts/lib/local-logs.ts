// `scripts/local logs [service] [-f] [--json] [--tail N|all] [--since T]`: reads the stack's
// containers' logs from the Docker engine and prints them interleaved (stack-logs.ts formats).
import { spawn } from "node:child_process";
import { run } from "../../toolbox/exec";
import { stackContainers } from "./stack-health";
import {
  type LogLine,
  ReorderBuffer,
  interleave,
  lineFormatter,
  parseDockerLine,
  selectContainers,
} from "./stack-logs";

export interface LogsOptions {
  stack: string;
  service?: string;
  follow: boolean;
  json: boolean;
  tail: string;
  since?: string;
  write?: (text: string) => void;
}

/** How long a followed line waits for lines of other containers that may be older. */
const REORDER_MS = 250;

function splitLines(container: string, text: string): LogLine[] {
  return text
    .split("\n")
    .map((raw) => parseDockerLine(container, raw))
    .filter((l): l is LogLine => l !== undefined);
}

export async function showLogs(options: LogsOptions): Promise<void> {
  if (options.tail !== "all" && !/^\d+$/.test(options.tail))
    throw new Error(`--tail must be a number of lines or "all", not "${options.tail}"`);
  const all = await stackContainers(options.stack);
  if (all.length === 0) throw new Error(`stack ${options.stack} has no containers (scripts/local status)`);
  const containers = selectContainers(all, options.stack, options.service);
  const prefix = `chatapi-${options.stack}-`;
  const format = lineFormatter({
    json: options.json,
    colorize: !options.json && process.stdout.isTTY === true && !process.env.NO_COLOR,
    prefix,
    labelWidth: Math.max(...containers.map((c) => c.name.length - prefix.length)),
  });
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const since = options.since ? ["--since", options.since] : [];
  const followFrom = new Date().toISOString();

  const history = await Promise.all(
    containers.map(async (c) => {
      const result = await run("docker", ["logs", "--timestamps", "--tail", options.tail, ...since, c.name], {
        reject: false,
      });
      if (result.exitCode !== 0) throw new Error(`docker logs ${c.name}: ${result.stderr.trim()}`);
      // The container's stdout and stderr come back on ours: both are its log.
      return interleave([splitLines(c.name, result.stdout), splitLines(c.name, result.stderr)]);
    }),
  );
  const shown = interleave(history);
  if (shown.length > 0) write(shown.map(format).join("\n") + "\n");
  if (!options.follow) return;

  const buffer = new ReorderBuffer(REORDER_MS);
  for (const line of shown) buffer.seen(line);
  const children = new Set<ReturnType<typeof spawn>>();
  let stopping = false;
  const followOne = (name: string, from: string) => {
    const child = spawn("docker", ["logs", "--timestamps", "--follow", "--since", from, name], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let newest = from;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of splitLines(name, lines.join("\n"))) {
          buffer.push(line);
          newest = line.time;
        }
      });
    }
    // A stopped or re-created container ends its stream: attach again while it exists.
    child.on("close", () => {
      children.delete(child);
      if (stopping) return;
      setTimeout(() => {
        void run("docker", ["inspect", "--format", "{{.State.Status}}", name], { reject: false }).then(
          (r) => {
            if (!stopping && r.exitCode === 0) followOne(name, newest);
          },
        );
      }, 1000);
    });
  };
  for (const c of containers) followOne(c.name, followFrom);
  const flush = (everything = false) => {
    const due = buffer.release(everything);
    if (due.length > 0) write(due.map(format).join("\n") + "\n");
  };
  const timer = setInterval(flush, 100);
  await new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true;
      clearInterval(timer);
      for (const child of children) child.kill("SIGTERM");
      flush(true);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
