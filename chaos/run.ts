// `npm run chaos`: every fault scenario, then every attack; prints a table, writes
// docs/RELIABILITY.md (full runs of everything), exits 1 if anything failed.
//
//   npm run chaos                      full scale, writes docs/RELIABILITY.md
//   npm run chaos -- --short           the CI form (small load); prints only
//   npm run chaos -- --only redis-trouble [--only ...]   some scenarios/attacks; prints only
//   npm run chaos -- --out FILE        also write the report there (any form)
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { usageError } from "../scripts/lib/cli-args";
import { attacks } from "./attacks";
import { scenarios } from "./faults";
import { assertBuildCurrent, ROOT } from "../toolbox/processes";
import { consoleTable, renderReliability } from "./lib/report";
import { type AttackResult, passed, type Scale, type ScenarioResult } from "./lib/results";
import { crashed } from "./lib/scenario";
import { loadServicesEnv } from "./lib/stack";

const SCENARIO_TIMEOUT_MS = 15 * 60_000;

const USAGE = "usage: npm run chaos -- [--short] [--only <scenario or attack id>]... [--out <file>]";

function parseArgs(argv: string[]) {
  const only: string[] = [];
  let scale: Scale = "full";
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--short") scale = "short";
    else if (arg === "--full") scale = "full";
    else if (arg === "--only" && argv[i + 1]) only.push(argv[++i]!);
    else if (arg === "--out" && argv[i + 1]) out = argv[++i]!;
    else usageError("chaos", `unknown argument ${arg}`, USAGE);
  }
  const known = [...scenarios.map((s) => s.id), ...attacks.map((a) => a.id)];
  const unknown = only.filter((id) => !known.includes(id));
  if (unknown.length > 0)
    usageError("chaos", `unknown id ${unknown.join(", ")} (known: ${known.join(", ")})`, USAGE);
  return { only, scale, out };
}

async function bounded<T>(what: string, work: Promise<T>, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      console.error(`${what} did not finish within ${SCENARIO_TIMEOUT_MS / 60_000} min`);
      resolve(onTimeout());
    }, SCENARIO_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  const { only, scale, out } = parseArgs(process.argv.slice(2));
  loadServicesEnv();
  assertBuildCurrent();
  const selected = (id: string) => only.length === 0 || only.includes(id);
  const startedAt = new Date();
  const faults: ScenarioResult[] = [];
  for (const scenario of scenarios.filter((s) => selected(s.id))) {
    console.log(`▶ ${scenario.id} (${scale})`);
    const t = Date.now();
    const result = await bounded(
      scenario.id,
      scenario.run(scale).catch((e: unknown) => crashed({ id: scenario.id, title: scenario.id }, e)),
      () => crashed({ id: scenario.id, title: scenario.id }, new Error("timed out")),
    );
    faults.push(result);
    console.log(`  ${passed(result) ? "pass" : "FAIL"} in ${Math.round((Date.now() - t) / 1000)} s`);
  }
  const attackResults: AttackResult[] = [];
  for (const attack of attacks.filter((a) => selected(a.id))) {
    console.log(`▶ ${attack.id} (${scale})`);
    const failed = (e: unknown): AttackResult => ({
      id: attack.id,
      title: attack.title,
      attempts: 0,
      expected: "-",
      outcome: "crashed",
      failures: 1,
      checks: [{ name: "attack ran to the end", ok: false, detail: (e as Error).stack ?? String(e) }],
    });
    attackResults.push(
      await bounded(attack.id, attack.run(scale).catch(failed), () => failed(new Error("timed out"))),
    );
  }
  console.log(`\n${consoleTable(faults, attackResults)}`);
  const report = renderReliability({
    scale,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    faults,
    attacks: attackResults,
    commit: execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim(),
  });
  const targets = [
    ...(out ? [out] : []),
    ...(scale === "full" && only.length === 0 ? [join(ROOT, "docs", "RELIABILITY.md")] : []),
  ];
  for (const target of targets) {
    writeFileSync(target, report);
    console.log(`wrote ${target}`);
  }
  const ok = faults.every(passed) && attackResults.every((a) => passed(a) && a.failures === 0);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(2);
  },
);
