/**
 * Cleanup's own state, ${stateDir}/cleanup.json, written only by cleanup under its lock:
 *   - `unreferenced`: when each file with no torrent listing it was first seen so, and in how many
 *     runs. A file becomes an orphan only after it stayed unreferenced across runs some time apart,
 *     never on its first sighting. Losing this only restarts the wait.
 *   - `mismatched`: files whose recorded remote copy was missing or different at the last check,
 *     with when. Upload reads this and drops those records (if older), so it sends the file again.
 */
import { join } from "node:path";
import { readState, writeState } from "../state.ts";

export interface Sighting {
  firstSeen: number;
  runs: number;
}

export interface CleanupState {
  unreferenced: Map<string, Sighting>;
  /** Identity key (`dev:ino`) → when the mismatch was seen (ms). */
  mismatched: Map<string, number>;
}

const FILE = "cleanup.json";

export function readCleanupState(stateDir: string): CleanupState {
  const data = readState(join(stateDir, FILE)) as { version?: number; unreferenced?: Record<string, Sighting>; mismatched?: Record<string, number> } | undefined;
  const state: CleanupState = { unreferenced: new Map(), mismatched: new Map() };
  if (!data || data.version !== 1) return state;
  for (const [key, s] of Object.entries(data.unreferenced ?? {})) {
    if (s && Number.isFinite(s.firstSeen) && Number.isInteger(s.runs) && s.runs > 0) state.unreferenced.set(key, { firstSeen: s.firstSeen, runs: s.runs });
  }
  for (const [key, at] of Object.entries(data.mismatched ?? {})) if (Number.isFinite(at)) state.mismatched.set(key, at);
  return state;
}

export const readSightings = (stateDir: string) => readCleanupState(stateDir).unreferenced;

const sorted = <V>(map: ReadonlyMap<string, V>) => Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export function writeCleanupState(stateDir: string, state: CleanupState): void {
  writeState(join(stateDir, FILE), { version: 1, unreferenced: sorted(state.unreferenced), mismatched: sorted(state.mismatched) });
}
