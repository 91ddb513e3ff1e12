// What a compose stack remembers about its releases: the live one first, only the last few
// kept, a history, and which release a rollback goes to.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ReleaseRecord,
  addHistory,
  emptyState,
  liveRelease,
  markLive,
  readReleases,
  rollbackTarget,
  writeReleases,
} from "./releases";

const record = (id: string): ReleaseRecord => ({
  id,
  image: { ref: `chatapi:${id}`, id: `sha256:${id}`, pinned: `chatapi-x/app:${id}` },
  source: { stackFile: "local", set: [] },
  compose: { id, services: {}, secrets: {}, volumes: {} },
  servers: { path: "/etc/nginx/chatapi/release/servers.conf", content: `# ${id}\n` },
  liveAt: "",
});

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("release state", () => {
  it("puts the live release first and keeps only the last `keep`, returning the forgotten ones", () => {
    let state = emptyState();
    const forgotten: string[] = [];
    for (const id of ["aaaaaaaa", "bbbbbbbb", "cccccccc", "dddddddd"]) {
      const next = markLive(state, record(id), 3);
      state = next.state;
      forgotten.push(...next.forgotten.map((r) => r.id));
    }
    expect(state.live).toBe("dddddddd");
    expect(state.releases.map((r) => r.id)).toEqual(["dddddddd", "cccccccc", "bbbbbbbb"]);
    expect(forgotten).toEqual(["aaaaaaaa"]);
    expect(liveRelease(state)?.id).toBe("dddddddd");
    // Going back to a kept release moves it to the front, without a copy.
    state = markLive(state, record("bbbbbbbb"), 3).state;
    expect(state.releases.map((r) => r.id)).toEqual(["bbbbbbbb", "dddddddd", "cccccccc"]);
  });

  it("rolls back to the one live before, or to a kept release named by (a prefix of) its id", () => {
    let state = emptyState();
    for (const id of ["aaaaaaaa", "bbbbbbbb", "cccccccc"]) state = markLive(state, record(id), 5).state;
    expect(rollbackTarget(state).id).toBe("bbbbbbbb");
    expect(rollbackTarget(state, "aaaa").id).toBe("aaaaaaaa");
    expect(() => rollbackTarget(state, "cccc")).toThrow("release cccccccc is already live");
    expect(() => rollbackTarget(state, "ffff")).toThrow(
      "no kept release ffff; kept: cccccccc, bbbbbbbb, aaaaaaaa",
    );
    const one = markLive(emptyState(), record("aaaaaaaa"), 5).state;
    expect(() => rollbackTarget(one)).toThrow(
      "release aaaaaaaa is the only one kept: there is nothing to roll back to",
    );
    expect(() => rollbackTarget(emptyState())).toThrow("this stack has no release yet");
  });

  it("keeps the newest history entries first, bounded, and survives a round trip through its file", () => {
    let state = emptyState();
    for (let n = 0; n < 40; n++)
      state = addHistory(state, {
        at: `t${n}`,
        action: "deploy",
        release: "aaaaaaaa",
        outcome: "live",
        seconds: n,
      });
    expect(state.history).toHaveLength(30);
    expect(state.history[0]!.at).toBe("t39");
    const dir = mkdtempSync(join(tmpdir(), "chatapi-releases-"));
    dirs.push(dir);
    expect(readReleases(dir)).toEqual(emptyState());
    writeReleases(dir, state);
    expect(readReleases(dir)).toEqual(state);
  });
});
