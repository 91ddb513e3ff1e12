// `scripts/local logs`: the stack's containers' logs interleaved by time. Docker's own timestamp
// of each line (`docker logs --timestamps`) orders them, for the app's JSON lines and the data
// stores' plain text alike. Pretty by default (pino-pretty for the app's pino lines), or one JSON
// object per line with --json (the container's name added, plain lines wrapped), for jq.
import { prettyFactory } from "pino-pretty";

export interface LogLine {
  container: string;
  /** Docker's RFC 3339 timestamp, as printed (fractional digits vary). */
  time: string;
  /** Nanoseconds since the epoch, for ordering. */
  key: bigint;
  text: string;
}

const DOCKER_LINE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z (.*)$/s;

/** One line of `docker logs --timestamps`; undefined for a line without a timestamp. */
export function parseDockerLine(container: string, raw: string): LogLine | undefined {
  const match = DOCKER_LINE.exec(raw);
  if (!match) return undefined;
  const seconds = BigInt(Date.parse(`${match[1]}Z`) / 1000);
  const nanos = BigInt((match[2] ?? "").padEnd(9, "0"));
  return {
    container,
    time: `${match[1]}.${(match[2] ?? "").padEnd(3, "0").slice(0, 3)}Z`,
    key: seconds * 1_000_000_000n + nanos,
    text: match[3]!,
  };
}

/** Merges each container's lines (each already in order) into one list by time; ties keep input order. */
export function interleave(streams: LogLine[][]): LogLine[] {
  return streams
    .flat()
    .map((line, index) => ({ line, index }))
    .sort((a, b) => (a.line.key < b.line.key ? -1 : a.line.key > b.line.key ? 1 : a.index - b.index))
    .map(({ line }) => line);
}

export interface ContainerRef {
  name: string;
  role: string;
  /** The release a container of the app belongs to (its name carries it: api-<release>-1). */
  release?: string;
}

/**
 * The containers a `service` argument names: a role (`api` = api-1, api-2 …), a container's short
 * name (`api-1`) or its full name. Unknown: an error listing what there is.
 */
export function selectContainers<T extends ContainerRef>(all: T[], stack: string, service?: string): T[] {
  if (!service) return all;
  const prefix = `chatapi-${stack}-`;
  const short = (c: T) => c.name.replace(prefix, "");
  // api-1 names the live release's api-<release>-1 too.
  const withoutRelease = (c: T) => (c.release ? short(c).replace(`-${c.release}`, "") : short(c));
  const chosen = all.filter(
    (c) => c.role === service || short(c) === service || c.name === service || withoutRelease(c) === service,
  );
  if (chosen.length === 0) {
    const roles = [...new Set(all.map((c) => c.role))];
    throw new Error(
      `stack ${stack} has no service "${service}"; services: ${roles.join(", ")}; containers: ${all.map(short).join(", ")}`,
    );
  }
  return chosen;
}

export interface FormatOptions {
  json: boolean;
  colorize: boolean;
  /** The stack's container name prefix (`chatapi-<stack>-`), left out of the labels. */
  prefix: string;
  /** Width the container labels are padded to. */
  labelWidth: number;
}

/** Formats lines for the terminal (pino-pretty) or as JSON objects. */
export function lineFormatter(options: FormatOptions): (line: LogLine) => string {
  const pretty = prettyFactory({
    colorize: options.colorize,
    translateTime: "UTC:yyyy-mm-dd HH:MM:ss.l",
    ignore: "pid,hostname,service,env,instance",
    singleLine: true,
  });
  return (line) => {
    const container = line.container.replace(options.prefix, "");
    const record = parseObject(line.text);
    if (options.json)
      return JSON.stringify(
        record ? { ...record, container } : { time: line.time, container, msg: line.text },
      );
    const label = `${container.padEnd(options.labelWidth)} | `;
    const body =
      record && "msg" in record
        ? pretty(record).trimEnd()
        : `[${line.time.slice(0, 23).replace("T", " ")}] ${line.text}`;
    return body
      .split("\n")
      .map((l) => label + l)
      .join("\n");
  };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * While following, lines from different containers arrive a little out of order: hold each for
 * `windowMs` after it arrived, then release what is due in timestamp order.
 */
export class ReorderBuffer {
  private held: Array<{ line: LogLine; arrived: number; seq: number }> = [];
  private seq = 0;
  /** The newest line released per container: a line not newer (a re-attached follow) is dropped. */
  private readonly last = new Map<string, bigint>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Marks lines already shown (the history printed before following). */
  seen(line: LogLine): void {
    const last = this.last.get(line.container);
    if (last === undefined || line.key > last) this.last.set(line.container, line.key);
  }

  push(line: LogLine): void {
    this.held.push({ line, arrived: this.now(), seq: this.seq++ });
  }

  /** Lines due now (all of them with `all`), oldest first. */
  release(all = false): LogLine[] {
    const cutoff = this.now() - this.windowMs;
    const due = this.held.filter((h) => all || h.arrived <= cutoff);
    this.held = this.held.filter((h) => !(all || h.arrived <= cutoff));
    const out: LogLine[] = [];
    for (const { line } of due.sort((a, b) =>
      a.line.key < b.line.key ? -1 : a.line.key > b.line.key ? 1 : a.seq - b.seq,
    )) {
      const last = this.last.get(line.container);
      if (last !== undefined && line.key <= last) continue;
      this.last.set(line.container, line.key);
      out.push(line);
    }
    return out;
  }
}
