/**
 * A cache of markers already checked: marker path → fingerprint of the files it covers (size,
 * inode, mtime). It lives in the lock folder (/run, cleared at boot) and is only ever a shortcut:
 * losing it costs one pass that reads every marker, and a marker deleted by hand is noticed because
 * the scan sees which marker files exist.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";

export interface UploadIndex {
  entries: Map<string, string>;
  remember(marker: string, fingerprint: string): void;
  save(): void;
}

export function openUploadIndex(path: string): UploadIndex {
  let entries = new Map<string, string>();
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (data && typeof data === "object" && !Array.isArray(data)) entries = new Map(Object.entries(data as Record<string, string>).filter(([, v]) => typeof v === "string"));
  } catch {
    /* no index yet, or a damaged one: start empty */
  }
  // Only markers seen in this run are kept, so entries of deleted items do not pile up.
  const seen = new Map<string, string>();
  let changed = false;
  return {
    entries,
    remember(marker, fingerprint) {
      if (entries.get(marker) !== fingerprint) changed = true;
      seen.set(marker, fingerprint);
    },
    save() {
      if (!changed && seen.size === entries.size) return;
      const temp = `${path}.tmp-${process.pid}`;
      writeFileSync(temp, JSON.stringify(Object.fromEntries(seen)));
      renameSync(temp, path);
    },
  };
}
