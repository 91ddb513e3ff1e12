// The short form of `npm run deploys` on the real Docker engine: a stack of its own brought up
// by scripts/local, then, each under load through nginx, a deploy of an image with an expand
// migration (the previous release keeps serving on the migrated schema until the switch), a
// rollback to the previous release (which then runs alone on the newer schema), a deploy whose
// API crash-loops and one whose migration fails (both refused, nothing users see changes), and
// a second deploy refused while the first runs. Targets: 0 failed requests, 0 lost, 0
// duplicated, longest subscriber gap under 2 s.
import { beforeAll, describe, expect, it } from "vitest";
import { type DeployRun, checks, resultTable, runDeploys } from "../../chaos/deploy/run";
import { requireImages } from "../support/images";

let result: DeployRun;

beforeAll(async () => {
  await requireImages([
    "chatapi-local/postgres:15",
    "chatapi-local/nginx-unprivileged:1",
    "chatapi-local/node:24-bookworm",
  ]);
  result = await runDeploys("short", (line) => console.log(line));
  console.log(resultTable(result));
}, 1_800_000);

describe("deploys, rollback and failed deploys of the local stack under load (short form)", () => {
  it("meets every target and expectation", () => {
    const failedChecks = checks(result).filter((c) => !c.ok);
    expect(failedChecks).toEqual([]);
    expect(result.rows.map((r) => r.operation.name)).toEqual([
      "deploy (expand migration)",
      "rollback",
      "failed deploy: crash loop",
      "failed deploy: migration fails",
      "npm run local, app changed",
    ]);
    for (const row of result.rows) expect(row.report.acked, row.operation.name).toBeGreaterThan(20);
  });

  it("deploys beside the live release, gates on readiness, switches nginx by a reload, then drains the old one", () => {
    const [deploy, rollback] = result.rows;
    const out = deploy!.command.output;
    const before = deploy!.liveBefore;
    const after = deploy!.liveAfter;
    const order = [
      new RegExp(`release ${after} \\(.*\\) beside the live ${before}`),
      new RegExp(`chatapi-${result.stack}-migrate-${after}: completed`),
      new RegExp(`chatapi-${result.stack}-api-${after}-1: ready`),
      new RegExp(`nginx: switched to release ${after} \\(nginx -t, nginx -s reload`),
      new RegExp(`chatapi-${result.stack}-api-${before}-1: stopped \\(exit 0, drained\\)`),
      new RegExp(`release ${before} drained`),
      /smoke check passed/,
    ].map((pattern) => {
      const at = out.search(pattern);
      expect(at, `${pattern} in:\n${out}`).toBeGreaterThan(-1);
      return at;
    });
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Old WebSockets were closed by their draining instance (1001), not cut.
    expect(deploy!.report.closeCodes["1001"] ?? 0).toBeGreaterThan(0);
    // The rollback goes back to the previous release by the same swap, without its jobs.
    expect(rollback!.liveAfter).toBe(before);
    expect(rollback!.command.output).not.toMatch(/migrate-[0-9a-f]{8}: completed/);
    expect(rollback!.command.output).toMatch(new RegExp(`nginx: switched to release ${before}`));
  });

  it("names the container that failed and shows its last log lines; the new containers are gone", () => {
    const [, , crash, migration] = result.rows;
    expect(crash!.command.output).toMatch(
      new RegExp(`chatapi-${result.stack}-api-[0-9a-f]{8}-\\d keeps exiting \\(exit code 70`),
    );
    expect(crash!.command.output).toContain("this build is broken on purpose");
    expect(crash!.command.output).toMatch(/the live release still serves/);
    expect(migration!.command.output).toMatch(
      new RegExp(`chatapi-${result.stack}-migrate-[0-9a-f]{8} exited with 1`),
    );
    expect(migration!.command.output).toContain("no_such_table");
    expect(migration!.command.output).not.toMatch(/starting release/);
  });

  it("npm run local on the running stack with a changed app deploys it by the same swap", () => {
    const up = result.rows[4]!;
    expect(up.command.output).toMatch(
      new RegExp(`up: release ${up.liveAfter} \\(.*\\) beside the live ${up.liveBefore}`),
    );
    expect(up.command.output).toMatch(new RegExp(`nginx: switched to release ${up.liveAfter}`));
    expect(up.command.output).toMatch(new RegExp(`release ${up.liveBefore} drained`));
  });

  it("lists the releases: the live one, what a rollback goes to, and the failures", () => {
    const out = result.releases.output;
    const last = result.rows.at(-1)!;
    expect(out).toMatch(new RegExp(`${last.liveAfter}  live`));
    expect(out).toMatch(new RegExp(`rollback goes to ${last.liveBefore}`));
    expect(out.match(/ failed /g)?.length).toBeGreaterThanOrEqual(2);
  });
});
