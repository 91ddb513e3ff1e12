// npm run deploys [-- --short]: deploys, a rollback and failed deploys of the real local stack
// (docker-compose) under load, measured from the clients' side; writes docs/DEPLOYS.md (full
// form) and prints the table. The docker-tier test (test/docker/deploys.docker.test.ts) runs
// the short form and asserts the targets. Needs the Docker engine, the offline images and a
// free lock on the engine: run it as `flock /tmp/chatapi-docker.lock npm run deploys`.
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureAppImage } from "../../scripts/lib/app-image";
import { loadStackPlan } from "../../scripts/lib/stack-plan";
import { type DigestResult, checkDigests } from "../lib/digests";
import { PrivateMailpit } from "../../toolbox/private-services";
import { freePort, sleep } from "../../toolbox/processes";
import { run } from "../../toolbox/exec";
import { type Measured, LOAD_SIZES, measure } from "./measure";
import { type CommandRun, MeasuredStack } from "./measured-stack";
import { type TestImages, buildTestImages, removeTestImages } from "./test-images";
import { dockerBridgeAddress } from "../../toolbox/docker-bridge";

const ROOT = join(__dirname, "..", "..");

export const TARGETS = { failedRequests: 0, lost: 0, duplicated: 0, longestGapMs: 2000 };

export interface DeployRun {
  scale: "short" | "full";
  /** The workers through every swap: e-mail digests of every message, none twice. */
  workers: DigestResult;
  stack: string;
  images: TestImages;
  up: CommandRun;
  rows: Measured[];
  /** A second deploy started while one runs, with --no-wait. */
  concurrent: CommandRun;
  releases: CommandRun;
  startedAt: string;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** The app image built from this checkout under a tag of the run's own (no other run's tag moves). */
async function baseImage(tag: string): Promise<string> {
  // The offline images: this machine has no registry (the measured stack runs --offline too).
  const { plan } = loadStackPlan({ root: ROOT, stack: "local", set: ["images.preset=offline"] });
  const build = plan.images.app.build!;
  const ref = `chatapi-local/chatapi:${tag}`;
  await ensureAppImage({
    ref,
    context: ROOT,
    dockerfile: join(ROOT, build.dockerfile),
    args: build.args,
  });
  return ref;
}

export async function runDeploys(
  scale: "short" | "full",
  log: (line: string) => void = console.log,
): Promise<DeployRun> {
  const size = LOAD_SIZES[scale];
  const name = `dm${randomUUID().slice(0, 6)}`;
  const startedAt = new Date().toISOString();
  log(`building the app image and the derived test images (tag deploys-${name})`);
  const images = await buildTestImages(await baseImage(`deploys-${name}`), `deploys-${name}`);
  let stack: MeasuredStack | undefined;
  // The workers mail an SMTP sink of the run's own, on the Docker bridge so containers reach it.
  const mailpit = await PrivateMailpit.start(await dockerBridgeAddress());
  try {
    const ports = { http: await freePort(), https: await freePort() };
    log(`stack ${name}: scripts/local up on ports ${ports.http}/${ports.https}`);
    const started = await MeasuredStack.up({
      name,
      appImage: images.base,
      ports,
      readyTimeoutSeconds: 60,
      smtp: mailpit.smtp,
    });
    stack = started.stack;
    const rows: Measured[] = [];
    const operations = [
      { name: "deploy (expand migration)", args: ["deploy", "--image", images.next], fails: false },
      { name: "rollback", args: ["rollback"], fails: false },
      { name: "failed deploy: crash loop", args: ["deploy", "--image", images.crashing], fails: true },
      {
        name: "failed deploy: migration fails",
        args: ["deploy", "--image", images.badMigration],
        fails: true,
      },
      // npm run local on the running stack with a changed app (here its config): the same swap.
      { name: "npm run local, app changed", args: stack.upArgs(["app.logLevel=INFO"]), fails: false },
    ];
    let concurrent: CommandRun | undefined;
    for (const operation of operations) {
      log(`${operation.name}: scripts/local ${operation.args.join(" ")} under load`);
      // While the first deploy runs (it holds the stack's lock), a second one with --no-wait
      // must be refused at once.
      const second = async () => {
        const s = stack!;
        await waitFor("the deploy to take the stack's lock", () => s.lockHolder().includes(images.next));
        concurrent = await s.local(["deploy", "--image", images.crashing, "--no-wait"]);
      };
      const row = await measure(stack, operation, size, concurrent ? undefined : second);
      rows.push(row);
      log(
        `  exit ${row.command.exitCode} in ${row.command.seconds.toFixed(1)} s; live ${row.liveBefore} → ${row.liveAfter}; ` +
          `failed requests ${JSON.stringify(row.report.failedRequests)}, lost ${row.report.lost}, duplicated ${row.report.duplicated}, ` +
          `longest gap ${row.report.longestGapMs} ms; keep-alive requests dropped by nginx and sent again ${row.keepAliveRetries}`,
      );
      for (const failure of row.failures) log(`  failed request: ${failure}`);
      // The command's own steps on the same clock, to see which one the failures came with.
      if (row.failures.length > 0)
        for (const step of row.command.output.split("\n").filter((l) => MILESTONE.test(l)))
          log(`    ${step}`);
    }
    const releases = await stack.local(["releases"]);
    log("waiting for the workers to send every digest (batches close 60 s after their first message)");
    const workers = await checkDigests({
      query: (sql) => stack!.query(sql),
      // Each operation has a tenant of its own: its offline members are in its rooms only.
      offline: rows.map((r) => ({ ...r.offline, rooms: r.rooms })),
      mailpit: mailpit.api,
      settleTimeoutMs: 180_000,
    });
    return {
      scale,
      stack: name,
      images,
      up: started.up,
      rows,
      concurrent: concurrent!,
      releases,
      workers,
      startedAt,
    };
  } finally {
    if (stack) await stack.down();
    else await MeasuredStack.local(name, ["down", "--volumes"]);
    await removeTestImages(images);
    mailpit.dispose();
  }
}

/** The lines of a command's output that mark its steps (the switch, the drain, the smoke check). */
const MILESTONE =
  /health gate:|: ready \(|nginx: switched|stopped \(exit|drained in|smoke check|took [\d.]+ s/;

const failed = (r: Measured) =>
  r.report.failedRequests.send + r.report.failedRequests.plainSend + r.report.failedRequests.read;

/** The swap's own time, as the command prints it ("deploy took 31.4 s"). */
const swapSeconds = (r: Measured) => /(?:deploy|rollback|up) took ([\d.]+) s/.exec(r.command.output)?.[1];

export function resultTable(run: DeployRun): string {
  const lines = [
    "| operation | exit | live release | failed requests (send / send without id / read) | sent again after a keep-alive drop | acked | lost | duplicated | out of order | WebSocket reconnects | longest subscriber gap | command to done (swap) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of run.rows) {
    const f = r.report.failedRequests;
    const q = r.report.requests;
    lines.push(
      `| ${r.operation.name} | ${r.command.exitCode} | ${r.liveBefore} → ${r.liveAfter} | ${failed(r)} (${f.send}/${q.send}, ${f.plainSend}/${q.plainSend}, ${f.read}/${q.read}) | ${r.keepAliveRetries} | ${r.report.acked} | ${r.report.lost} | ${r.report.duplicated} | ${r.report.outOfOrder} | ${r.report.reconnects} | ${(r.report.longestGapMs / 1000).toFixed(2)} s | ${r.command.seconds.toFixed(1)} s${swapSeconds(r) ? ` (${swapSeconds(r)} s)` : ""} |`,
    );
  }
  return lines.join("\n");
}

/** Every target and expectation, each with its outcome: what the test asserts and the docs show. */
export function checks(run: DeployRun): { name: string; ok: boolean; detail: string }[] {
  const out: { name: string; ok: boolean; detail: string }[] = [];
  for (const r of run.rows) {
    const n = r.operation.name;
    out.push(
      {
        name: `${n}: no failed request`,
        ok: failed(r) === 0,
        detail: [
          JSON.stringify(r.report.outcomes),
          `sent again after a keep-alive drop: ${r.keepAliveRetries}`,
          ...r.failures,
        ].join("; "),
      },
      { name: `${n}: no acked message lost`, ok: r.report.lost === 0, detail: `lost ${r.report.lost}` },
      {
        name: `${n}: nothing duplicated or out of order`,
        ok: r.report.duplicated === 0 && r.report.outOfOrder === 0 && r.report.storedTwice === 0,
        detail: `duplicated ${r.report.duplicated}, out of order ${r.report.outOfOrder}, stored twice ${r.report.storedTwice}`,
      },
      {
        name: `${n}: longest subscriber gap under 2 s`,
        ok: r.report.longestGapMs < TARGETS.longestGapMs,
        detail: `${r.report.longestGapMs} ms`,
      },
      {
        name: `${n}: subscribers on every API instance`,
        ok: new Set(r.instancesAtStart).size >= 2,
        detail: [...new Set(r.instancesAtStart)].join(", "),
      },
      r.operation.fails
        ? {
            name: `${n}: exits non-zero, live release unchanged`,
            ok: r.command.exitCode !== 0 && r.liveAfter === r.liveBefore,
            detail: `exit ${r.command.exitCode}, live ${r.liveBefore} → ${r.liveAfter}`,
          }
        : {
            name: `${n}: exits 0 with another release live`,
            ok: r.command.exitCode === 0 && r.liveAfter !== r.liveBefore,
            detail: `exit ${r.command.exitCode}, live ${r.liveBefore} → ${r.liveAfter}`,
          },
    );
  }
  for (const c of run.workers.checks)
    out.push({ name: `workers: ${c.name}`, ok: c.ok, detail: c.detail ?? "" });
  out.push({
    name: "a second deploy with --no-wait is refused while one runs, naming it",
    ok:
      run.concurrent.exitCode === 3 && /is held by scripts\/local deploy --image/.test(run.concurrent.output),
    detail: run.concurrent.output.trim().split("\n").at(-1) ?? "",
  });
  return out;
}

/** The checkout's commit the figures were measured at. */
async function currentCommit(): Promise<string> {
  const { stdout } = await run("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { reject: false });
  return stdout.trim() || "(unknown)";
}

async function writeDocs(run: DeployRun): Promise<void> {
  const commit = await currentCommit();
  const path = join(ROOT, "docs", "DEPLOYS.md");
  const text = readFileSync(path, "utf8");
  const start = "<!-- deploy-figures:start (written by npm run deploys) -->";
  const end = "<!-- deploy-figures:end -->";
  const results = checks(run);
  const block = [
    start,
    `Measured ${run.startedAt.slice(0, 10)} at commit ${commit} on the 2-core build machine (shared with other builds and tests) by`,
    "`flock /tmp/chatapi-docker.lock npm run deploys`: the local stack on docker-compose, 2 API instances, 1 worker,",
    `load: ${run.rows[0]?.load ?? ""}.`,
    "",
    resultTable(run),
    "",
    ...results.map((c) => `- ${c.ok ? "✓" : "✗"} ${c.name} (${c.detail})`),
    end,
  ].join("\n");
  const before = text.slice(0, text.indexOf(start));
  const after = text.slice(text.indexOf(end) + end.length);
  if (!text.includes(start) || !text.includes(end))
    throw new Error(`${path} has no figures block to replace`);
  writeFileSync(path, `${before}${block}${after}`);
}

if (require.main === module) {
  const scale = process.argv.includes("--short") ? "short" : "full";
  runDeploys(scale)
    .then(async (run) => {
      console.log(`\n${resultTable(run)}\n`);
      const results = checks(run);
      for (const c of results) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.name} (${c.detail})`);
      if (scale === "full") await writeDocs(run);
      process.exit(results.every((c) => c.ok) ? 0 : 1);
    })
    .catch((error: unknown) => {
      console.error(`deploys: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    });
}
