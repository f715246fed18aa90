/**
 * The two file-system primitives upload and cleanup share: a path spelled through its folder's
 * real path (so folders reached through a symlink compare equal to what qBittorrent reports), and a
 * walk that lists every regular file with its identity, never following a symlink.
 */
import { readdirSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { statIdentity, type FileIdentity } from "./records.ts";

export interface LocalFile {
  path: string;
  id: FileIdentity;
}

/** A path through its parent's real path (the file itself may be a symlink, which is never followed). */
export function spell(path: string, cache = new Map<string, string>()): string {
  const abs = resolve(path);
  const dir = dirname(abs);
  let real = cache.get(dir);
  if (real === undefined) {
    try {
      real = realpathSync(dir);
    } catch {
      real = dir;
    }
    cache.set(dir, real);
  }
  return abs === dir ? real : join(real, basename(abs));
}

/** Every regular file below `root`, without following symlinks, skipping the folders in `skip`. */
export function walkFiles(root: string, skip: ReadonlySet<string>, out: LocalFile[]): void {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = `${root}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!skip.has(path)) walkFiles(path, skip, out);
    } else if (entry.isFile()) {
      const id = statIdentity(path);
      if (id) out.push({ path, id });
    }
  }
}
