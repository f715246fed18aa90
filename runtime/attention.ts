/**
 * Items upload has given up on for now: one that failed the same way `attentionAfterFailures` runs
 * in a row (an encrypted or corrupt archive, a name the remote refuses) is set aside, logged once,
 * and skipped until its files change or someone runs `media-pipeline retry KEY`. So one bad item
 * neither stops the others nor leaves the unit failed forever. Stored in ${stateDir}/attention.json,
 * written by upload (and `retry`) under the upload lock.
 */
import { join } from "node:path";
import { readState, writeState } from "./state.ts";

export interface AttentionEntry {
  /** What the item is, for people: `downloads/Some.Release`. */
  label: string;
  failures: number;
  lastError: string;
  firstFailed: string;
  lastFailed: string;
  /** The item's files (sizes, inodes, times) when it failed: a change means it is worth another try. */
  fingerprint: string;
  setAside: boolean;
}

const FILE = "attention.json";

export class Attention {
  private changed = false;

  private constructor(
    readonly path: string,
    readonly entries: Map<string, AttentionEntry>,
  ) {}

  static open(stateDir: string): Attention {
    const path = join(stateDir, FILE);
    const data = readState(path) as { version?: number; items?: Record<string, AttentionEntry> } | undefined;
    const entries = new Map<string, AttentionEntry>();
    if (data && data.version === 1) for (const [k, v] of Object.entries(data.items ?? {})) if (v && typeof v.fingerprint === "string") entries.set(k, v);
    return new Attention(path, entries);
  }

  /** Whether the item is set aside with the same files as when it was. */
  isSetAside(key: string, fingerprint: string): boolean {
    const e = this.entries.get(key);
    return Boolean(e?.setAside && e.fingerprint === fingerprint);
  }

  /** Records a failure; returns the entry, which says whether the item is now set aside. */
  failed(key: string, label: string, fingerprint: string, error: string, now: Date, threshold: number): AttentionEntry {
    const before = this.entries.get(key);
    const same = before && before.fingerprint === fingerprint && before.lastError === error;
    const failures = same ? before.failures + 1 : 1;
    const entry: AttentionEntry = {
      label,
      failures,
      lastError: error,
      firstFailed: same ? before.firstFailed : now.toISOString(),
      lastFailed: now.toISOString(),
      fingerprint,
      setAside: failures >= threshold,
    };
    this.entries.set(key, entry);
    this.changed = true;
    return entry;
  }

  succeeded(key: string): void {
    if (this.entries.delete(key)) this.changed = true;
  }

  /** Forgets items that no longer exist (or were uploaded some other way): every key not in `seen`. */
  forgetAllBut(seen: ReadonlySet<string>): void {
    for (const key of [...this.entries.keys()]) if (!seen.has(key)) this.clear(key);
  }

  /** `retry`: clears an item so the next run tries it again. */
  clear(key: string): boolean {
    const had = this.entries.delete(key);
    if (had) this.changed = true;
    return had;
  }

  save(): void {
    if (!this.changed) return;
    writeState(this.path, { version: 1, items: Object.fromEntries([...this.entries].sort(([a], [b]) => (a < b ? -1 : 1))) });
    this.changed = false;
  }
}
