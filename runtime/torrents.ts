/**
 * What cleanup and upload both need to know about a torrent: whether its answer can be acted on,
 * whether it is due (seeded long enough), and where its files are. One definition, used by both, so
 * upload prepares exactly the torrents cleanup will free.
 *
 * States are qBittorrent's WebUI API strings (4.x and 5.x; 5.x renamed paused* to stopped* and added
 * forcedMetaDL). See test/support/qbittorrent-facts.ts for what each real version reports.
 */
import { basename, dirname, resolve } from "node:path";
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

/**
 * How long a torrent has seeded, in seconds: qBittorrent's `seeding_time`, which does not grow while
 * the torrent is stopped, so a torrent is never removed before it really seeded for the period (a
 * private tracker's minimum). Known limit: on an idle seed (no peers) qBittorrent refreshes
 * `seeding_time` only when something about the torrent changes (measured on 4.5.2 and 5.1.0, see
 * test/support/qbittorrent-facts.ts, seedingTimeIdle), so such a torrent may become due late. The
 * time since completion would be wrong for a torrent that was stopped meanwhile, so it is not used.
 */
export function seededSeconds(torrent: Torrent, _nowMs: number): number {
  return torrent.seeding_time;
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

/**
 * The folder content_path puts the torrent's files in (file names relative to it, root folder
 * included), when content_path is absolute: the file itself for a one-file torrent, `<base>/<root>`
 * with a root folder, `<base>` without one. It can differ from save_path: while a torrent is moving,
 * 4.5 already reports the NEW save_path but its files are still at the old place, which content_path
 * names (test/support/qbittorrent-facts.ts, moving).
 */
export function contentBase(torrent: Torrent, names: readonly string[]): string | undefined {
  if (!torrent.content_path.startsWith("/") || names.length === 0) return undefined;
  const content = resolve(torrent.content_path);
  if (names.length === 1 && content.endsWith(`/${names[0]}`)) return content.slice(0, content.length - names[0]!.length - 1) || "/";
  const firsts = names.map((n) => (n.includes("/") ? n.slice(0, n.indexOf("/")) : undefined));
  const root = firsts.every((r) => r !== undefined && r === firsts[0]) ? firsts[0] : undefined;
  return root !== undefined && basename(content) === root ? dirname(content) : content;
}
