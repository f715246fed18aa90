/**
 * Cleanup, step 4: execute. Removes each verified torrent from qBittorrent (telling it to keep the
 * files) and unlinks the planned files one by one, each only if it is still the very file that was
 * observed (same device, inode, size and modification time) and no torrent that remains lists it.
 * Folders go only when empty (rmdir), from the file's folder upwards, never a configured folder.
 */
import { lstatSync, rmdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { log, q } from "../log.ts";
import type { QbittorrentClient } from "../qbittorrent.ts";
import { identityKey, sameFile, statIdentity } from "../records.ts";
import type { Roots } from "./observe.ts";
import type { Deletion, DoomedFile } from "./plan.ts";

const inside = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

export interface Executed {
  deleted: number;
  freedBytes: number;
  /** Files left in place, with why. */
  spared: { path: string; reason: string }[];
}

export class Executor {
  /** Torrents removed in this run: what they list no longer keeps a file. */
  private readonly removed = new Set<string>();

  constructor(
    private readonly roots: Roots,
    private readonly listedBy: ReadonlyMap<string, readonly string[]>,
    private readonly client: QbittorrentClient,
  ) {}

  async run(d: Deletion): Promise<Executed> {
    if (d.torrent) {
      await this.client.deleteTorrent(d.torrent.hash, false);
      this.removed.add(d.torrent.hash);
    }
    const result: Executed = { deleted: 0, freedBytes: 0, spared: [] };
    const freed = new Set<string>();
    for (const file of d.files) {
      const why = this.unlink(file);
      if (why) {
        result.spared.push({ path: file.path, reason: why });
        continue;
      }
      result.deleted++;
      if (!freed.has(identityKey(file.id))) result.freedBytes += file.id.size;
      freed.add(identityKey(file.id));
    }
    for (const file of d.files) this.pruneEmpty(dirname(file.path));
    return result;
  }

  /** Files (device:inode) one of whose names this run unlinked. */
  private readonly unlinkedInodes = new Set<string>();

  /** Unlinks one file, or says why not. */
  private unlink(file: DoomedFile): string | undefined {
    const watched = [this.roots.completed, ...this.roots.libraries];
    if (!watched.some((r) => inside(file.path, r) && file.path !== r) || this.roots.skipped.some((s) => inside(file.path, s))) return "outside the configured folders";
    const holders = (this.listedBy.get(identityKey(file.id)) ?? []).filter((h) => !this.removed.has(h));
    if (holders.length > 0) return `torrent ${holders[0]} still lists it`;
    const now = statIdentity(file.path);
    if (!now) return "already gone";
    if (!sameFile(now, file.id)) return "it changed since it was observed";
    // Content rewritten in place with its size and mtime put back (touch -r) moves only the ctime. Unlinking
    // another name of the same file moves it too: that change is allowed once this run unlinked such a name.
    const key = identityKey(file.id);
    if (now.ctimeNs !== file.id.ctimeNs && !this.unlinkedInodes.has(key)) return "it changed since it was observed (its ctime moved)";
    unlinkSync(file.path);
    this.unlinkedInodes.add(key);
    return undefined;
  }

  /** Removes `dir` and its parents while each is empty, stopping at a configured folder. */
  private pruneEmpty(dir: string): void {
    for (;;) {
      if (this.roots.kept.includes(dir) || ![this.roots.completed, ...this.roots.libraries].some((r) => inside(dir, r) && dir !== r)) return;
      try {
        if (!lstatSync(dir).isDirectory()) return;
        rmdirSync(dir); // fails on a folder with anything in it
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }
}

export const describeSpared = (spared: Executed["spared"]) => spared.filter((s) => s.reason !== "already gone").map((s) => `${q(s.path)} (${s.reason})`);

export function logSpared(label: string, spared: Executed["spared"]): void {
  const lines = describeSpared(spared);
  if (lines.length > 0) log.info(`${label}: kept ${lines.length} file${lines.length === 1 ? "" : "s"}: ${lines.slice(0, 5).join(", ")}${lines.length > 5 ? ", …" : ""}`);
}
