// npm run bench:cost's command line: which room shapes and instance counts to measure, and the
// delivery rate every cell is held at (msgs/s = deliveries/s ÷ members, so the µs compare).
import { parseArgs } from "node:util";
import { parseErrorLine } from "../../scripts/lib/cli-args";
import { instanceNames } from "../systems/chatapi";

export interface Shape {
  rooms: number;
  members: number;
}

export interface CostOptions {
  shapes: Shape[];
  instances: number[];
  /** Deliveries/s every cell is offered (its msgs/s is this ÷ members). */
  deliveriesPerSecond: number;
  warmupS: number;
  durationS: number;
  drainS: number;
  bodySize: number;
  /** Seconds the idle sockets sit before RSS is read (and the servers before it, too). */
  settleS: number;
  receiverProcesses: number;
  write: boolean;
}

export const COST_DEFAULTS = {
  shapes: "20x50,200x50,20x500",
  instances: "1,2,4",
  deliveries: "20000",
  warmup: "3",
  duration: "15",
  drain: "20",
  body: "100",
  settle: "5",
  receivers: "2",
} as const;

export const COST_USAGE = `usage: npm run bench:cost -- [--shapes 20x50,200x50,20x500] [--instances 1,2,4]
         [--deliveries 20000] [--duration 15] [--warmup 3] [--write] ... (every option: bench/README.md)`;

const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

function wholeNumber(option: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min)
    throw new Error(`--${option}: "${text}" is not a whole number ≥ ${min}`);
  return n;
}

function positive(option: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new Error(`--${option} must be a positive number (got "${text}")`);
  return n;
}

/** "20x50,200x50": rooms × members per room, each at least 1, no shape twice. */
export function parseShapes(text: string): Shape[] {
  const items = list(text);
  if (items.length === 0) throw new Error(`--shapes: no shape given (e.g. ${COST_DEFAULTS.shapes})`);
  const shapes = items.map((item) => {
    const match = /^(\d+)[x×](\d+)$/i.exec(item);
    if (!match) throw new Error(`--shapes: "${item}" is not ROOMSxMEMBERS (e.g. 20x50)`);
    return { rooms: wholeNumber("shapes", match[1]!, 1), members: wholeNumber("shapes", match[2]!, 1) };
  });
  const seen = new Set<string>();
  for (const s of shapes) {
    const key = `${s.rooms}x${s.members}`;
    if (seen.has(key)) throw new Error(`--shapes: ${key} is given twice`);
    seen.add(key);
  }
  return shapes;
}

/** "1,2,4": how many API instances each shape is measured with (1 to 26, no count twice). */
export function parseInstances(text: string): number[] {
  const items = list(text);
  if (items.length === 0) throw new Error(`--instances: no count given (e.g. ${COST_DEFAULTS.instances})`);
  const counts = items.map((item) => {
    const n = wholeNumber("instances", item, 1);
    try {
      instanceNames(n);
    } catch {
      throw new Error(`--instances: ${n} is more than 26 instances`);
    }
    return n;
  });
  const twice = counts.find((n, i) => counts.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`--instances: ${twice} is given twice`);
  return counts;
}

/** The options of `args` (process.argv.slice(2)); an Error naming what was wrong otherwise. */
export function parseCostArgs(args: string[]): CostOptions {
  const string = (value: string) => ({ type: "string" as const, default: value });
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        shapes: string(COST_DEFAULTS.shapes),
        instances: string(COST_DEFAULTS.instances),
        deliveries: string(COST_DEFAULTS.deliveries),
        warmup: string(COST_DEFAULTS.warmup),
        duration: string(COST_DEFAULTS.duration),
        drain: string(COST_DEFAULTS.drain),
        body: string(COST_DEFAULTS.body),
        settle: string(COST_DEFAULTS.settle),
        receivers: string(COST_DEFAULTS.receivers),
        write: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw new Error(parseErrorLine(error instanceof Error ? error.message : String(error)));
  }
  return {
    shapes: parseShapes(values.shapes),
    instances: parseInstances(values.instances),
    deliveriesPerSecond: positive("deliveries", values.deliveries),
    warmupS: positive("warmup", values.warmup),
    durationS: positive("duration", values.duration),
    drainS: positive("drain", values.drain),
    bodySize: wholeNumber("body", values.body, 1),
    settleS: positive("settle", values.settle),
    receiverProcesses: wholeNumber("receivers", values.receivers, 1),
    write: values.write,
  };
}

/** What differs from the full measurement (the defaults): a smoke run says so in RESULTS.md. */
export function differencesFromDefaults(options: CostOptions): string[] {
  const full = parseCostArgs([]);
  const show = (o: CostOptions) => ({
    shapes: o.shapes.map((s) => `${s.rooms}x${s.members}`).join(","),
    instances: o.instances.join(","),
    deliveries: String(o.deliveriesPerSecond),
    warmup: String(o.warmupS),
    duration: String(o.durationS),
    settle: String(o.settleS),
    body: String(o.bodySize),
  });
  const mine = show(options);
  const theirs = show(full);
  return (Object.keys(mine) as Array<keyof typeof mine>)
    .filter((k) => mine[k] !== theirs[k])
    .map((k) => `--${k} ${mine[k]} (full: ${theirs[k]})`);
}
