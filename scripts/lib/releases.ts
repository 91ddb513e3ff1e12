// What a compose stack remembers about its releases (<stack dir>/releases.json): the live one,
// the last few that were live (each with its pinned image and its compose services, so a
// rollback runs exactly what ran before) and a short history of deploys, rollbacks and
// failures. Pure functions over that state, plus reading and writing the file.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ComposeRelease } from "../../components/compose/compose-releases";

export interface ReleaseRecord {
  id: string;
  image: {
    /** The reference it was deployed as (a tag can move: `pinned` cannot). */
    ref: string;
    /** The engine's image ID. */
    id: string;
    /** chatapi-<stack>/app:<ID prefix>: a tag that keeps this image on the engine while the release is kept. */
    pinned: string;
  };
  /** The stack file and overrides it was rendered from. */
  source: { stackFile: string; set: string[] };
  compose: ComposeRelease;
  /** nginx's upstream servers file while it is live. */
  servers: { path: string; content: string };
  /** When it last became live. */
  liveAt: string;
}

export type Action = "up" | "deploy" | "rollback";

export interface HistoryEntry {
  at: string;
  action: Action;
  release: string;
  /** The release that was live before. */
  from?: string;
  outcome: "live" | "unchanged" | "failed";
  seconds: number;
  detail?: string;
}

export interface ReleaseState {
  live?: string;
  /** Newest (last live) first; the live one included. */
  releases: ReleaseRecord[];
  /** Newest first. */
  history: HistoryEntry[];
}

const HISTORY = 30;

export const emptyState = (): ReleaseState => ({ releases: [], history: [] });

export const releasesFile = (dir: string) => join(dir, "releases.json");

export function readReleases(dir: string): ReleaseState {
  const path = releasesFile(dir);
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as ReleaseState) : emptyState();
}

export function writeReleases(dir: string, state: ReleaseState): void {
  const path = releasesFile(dir);
  writeFileSync(`${path}.new`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

export const liveRelease = (state: ReleaseState): ReleaseRecord | undefined =>
  state.releases.find((r) => r.id === state.live);

/**
 * `record` is live now: first in the list, and only `keep` releases are kept (the live one and
 * those before it). Returns the new state and the releases it forgot (their images may go).
 */
export function markLive(
  state: ReleaseState,
  record: ReleaseRecord,
  keep: number,
): { state: ReleaseState; forgotten: ReleaseRecord[] } {
  const releases = [record, ...state.releases.filter((r) => r.id !== record.id)];
  return {
    state: { ...state, live: record.id, releases: releases.slice(0, keep) },
    forgotten: releases.slice(keep),
  };
}

export function addHistory(state: ReleaseState, entry: HistoryEntry): ReleaseState {
  return { ...state, history: [entry, ...state.history].slice(0, HISTORY) };
}

/** The release a rollback goes to: `to` (an id or its prefix), else the one live before the live one. */
export function rollbackTarget(state: ReleaseState, to?: string): ReleaseRecord {
  const candidates = state.releases.filter((r) => r.id !== state.live);
  if (to) {
    const matches = state.releases.filter((r) => r.id.startsWith(to));
    if (matches.length === 0)
      throw new Error(
        `no kept release ${to}; kept: ${state.releases.map((r) => r.id).join(", ") || "none"} (scripts/local releases)`,
      );
    if (matches.length > 1) throw new Error(`${to} names ${matches.length} releases: give more of the id`);
    if (matches[0]!.id === state.live) throw new Error(`release ${matches[0]!.id} is already live`);
    return matches[0]!;
  }
  const target = candidates[0];
  if (!target)
    throw new Error(
      state.live
        ? `release ${state.live} is the only one kept: there is nothing to roll back to`
        : "this stack has no release yet",
    );
  return target;
}
