/**
 * What cleanup and upload both need to know about a torrent: whether its answer can be acted on,
 * whether it is due (seeded long enough), and where its files are. One definition, used by both, so
 * upload prepares exactly the torrents cleanup will free.
 *
 * States are qBittorrent's WebUI API strings (4.x and 5.x; 5.x renamed paused* to stopped* and added
 * forcedMetaDL). See test/support/qbittorrent-facts.ts for what each real version reports.
 */
import { resolve } from "node:path";
import type { Torrent } from "./qbittorrent.ts";

/** Complete torrents whose files are in place: seeding, stalled, forced, queued, paused or stopped. */
const COMPLETE = new Set(["uploading", "stalledUP", "forcedUP", "queuedUP", "pausedUP", "stoppedUP"]);
/** Downloading: the file list is known, the torrent is not due. */
const DOWNLOADING = new Set(["downloading", "stalledDL", "forcedDL", "queuedDL", "pausedDL", "stoppedDL"]);
/**
 * Everything else (metaDL, forcedMetaDL, checkingUP, checkingDL, checkingResumeData, moving,
 * allocating, missingFiles, error, unknown, and any state a later version adds): its files or paths
 * are not settled, so nothing it might list is touched and no file counts as unreferenced this run.
 */
export type TorrentClass = "due" | "seeding" | "downloading" | "unsettled";

/** Seeding right now: its seeding time grows while it stays so. */
const ACTIVE_SEED = new Set(["uploading", "stalledUP", "forcedUP"]);

/**
 * How long a torrent has seeded, in seconds. qBittorrent's `seeding_time` is the figure, but it is
 * refreshed only when something about the torrent changes: on an idle seed (no peers) it stays at
 * its last value for as long as nothing happens (measured on 4.5.2 and 5.1.0, see
 * test/support/qbittorrent-facts.ts), so an old torrent nobody downloads would never become due.
 * For a torrent seeding right now the time since it completed counts too; for a stopped, paused or
 * queued one only `seeding_time` does. (A torrent stopped for a while and started again may so be
 * counted from its completion; that costs seeding, never data, which only upload records protect.)
 */
export function seededSeconds(torrent: Torrent, nowMs: number): number {
  const since = ACTIVE_SEED.has(torrent.state) && torrent.completion_on > 0 ? Math.floor(nowMs / 1000) - torrent.completion_on : 0;
  return Math.max(torrent.seeding_time, since);
}

export function classify(torrent: Torrent, seedingPeriodSeconds: number, nowMs: number): TorrentClass {
  if (torrent.content_path === "" || !torrent.content_path.startsWith("/") || !torrent.save_path.startsWith("/")) return "unsettled";
  if (DOWNLOADING.has(torrent.state)) return "downloading";
  if (!COMPLETE.has(torrent.state)) return "unsettled";
  if (torrent.progress < 1) return "downloading";
  return seededSeconds(torrent, nowMs) >= seedingPeriodSeconds ? "due" : "seeding";
}

/** Seconds left before a seeding torrent is due (for logs and, later, the status view). */
export const secondsLeft = (torrent: Torrent, seedingPeriodSeconds: number, nowMs: number) => Math.max(0, seedingPeriodSeconds - seededSeconds(torrent, nowMs));

/**
 * Every path where a file the torrent lists may be: below its save path, and below its download
 * (temp) path while incomplete. File names are relative to those, root folder included.
 */
export function torrentFilePaths(torrent: Torrent, name: string): string[] {
  const paths = [resolve(torrent.save_path, name)];
  if (torrent.download_path && torrent.download_path.startsWith("/")) paths.push(resolve(torrent.download_path, name));
  return paths;
}
