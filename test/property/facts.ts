/**
 * What the qBittorrent model (qbittorrent-model.ts) takes from the facts measured on the real 4.5.2
 * and 5.1 (test/support/qbittorrent-facts.ts, checked by test/runtime/qbittorrent-behaviour.test.ts).
 * Every value here is read from a fact, named by its id, so a fact that changes changes the model.
 * test/property/model.test.ts checks the model's answers against the facts' situations.
 *
 * Not measured, and modelled conservatively (noted where used): a seed in the queue gains no seeding
 * time; removing a torrent with deleteFiles=false leaves its .parts file.
 */
import { QBITTORRENT_FACTS as F, QBITTORRENT_STATES } from "../support/qbittorrent-facts.ts";

export type QbtVersion = "4.5" | "5.1";
type V = "v45" | "v51";
const key = (version: QbtVersion): V => (version === "4.5" ? "v45" : "v51");

function forVersion(v: V) {
  return {
    /** F.webapiVersion */
    webapiVersion: F.webapiVersion[v].webapi,
    states: {
      /** F.magnet */
      metaDL: F.magnet[v].state,
      /** F.magnetStopped, QBITTORRENT_STATES */
      stoppedDL: QBITTORRENT_STATES[v].stoppedDL,
      /** F.missingRechecked, F.crossSeedRemoved: a torrent whose data went missing and was rechecked is a download again. */
      stalledDL: F.missingRechecked[v].state,
      /** F.moving */
      moving: F.moving[v].first.state,
      /** F.recheckRunning, F.recheckStopped */
      checkingUP: F.recheckRunning[v].states[0].state,
      /** F.firstAnswer, F.restartFirstAnswer */
      checkingResumeData: F.firstAnswer[v].state,
      /** F.missingAfterRestart */
      missingFiles: F.missingAfterRestart[v].state,
      /** F.seeding */
      stalledUP: F.seeding[v].state,
      /** F.queued */
      queuedUP: F.queued[v].state,
      /** F.stoppedSeed, QBITTORRENT_STATES */
      stoppedUP: QBITTORRENT_STATES[v].stoppedUP,
    },
    /** F.magnet: content_path "", no files, size 0, total_size -1. */
    magnet: { content_path: F.magnet[v].content_path, files: F.magnet[v].files, size: F.magnet[v].size, total_size: F.magnet[v].total_size },
    /** F.magnet: completion_on of a torrent that never completed (0 in 4.5, -1 in 5.1). */
    neverCompleted: F.magnet[v].completion_on,
    /** F.magnet, F.seeding: 5.1 adds has_metadata and root_path. */
    hasMetadataField: F.magnet[v].has_metadata !== "absent",
    rootPathField: (F.seeding[v].infoKeys as readonly string[]).includes("root_path"),
    /** F.firstAnswer: right after adding, 4.5 reports content_path relative (the torrent's name alone), 5.1 absolute. */
    firstContentPathRelative: !F.firstAnswer[v].content_path.startsWith("<root>"),
    /** F.firstAnswer: progress 0 while checkingResumeData. */
    firstProgress: F.firstAnswer[v].progress,
    /** F.recheckRunning: progress below 1 while a seed is rechecked (0, or a stale part in 4.5): 0 here. */
    checkingProgress: F.recheckRunning[v].whileChecking.progressBelow1 ? 0 : 1,
    /** F.moving: during a move, save_path is already the new one (4.5) or still the old one (5.1); content_path is the old one. */
    movingReportsNewSavePath: F.moving[v].first.save_path === "<tmpfs>",
    /** F.fileEntries: is_seed only on the first entry. */
    isSeedOnFirstOnly: F.fileEntries[v].isSeed[1] === "absent",
    /** F.deleteFilesTrueNoSubfolder: a subfolder a NoSubfolder torrent's removal emptied goes in 4.5, stays in 5.1. */
    noSubfolderKeepsEmptiedFolders: (F.deleteFilesTrueNoSubfolder[v] as readonly string[]).includes("d/"),
    /** F.seedingTimeStopped: a recheck of a stopped seed adds the whole stopped period. */
    recheckAddsStoppedTime: F.seedingTimeStopped[v].recheckAddsTheStoppedTime,
    /** F.seedingTimeIdle: seeding_time keeps the value of the last status update. */
    seedingTimeLags: F.seedingTimeIdle[v].lagsBehind,
  };
}

export const FACTS_BY_VERSION: Record<QbtVersion, ReturnType<typeof forVersion>> = { "4.5": forVersion("v45"), "5.1": forVersion("v51") };
export const facts = (version: QbtVersion) => FACTS_BY_VERSION[version];
export { key as factKey };

/**
 * F.deleteFilesTrueFolder, F.deleteFilesTrueJunk, F.deleteFilesTrueHiddenJunk: after deleting a
 * torrent's files, qBittorrent clears each folder of its root folder (deepest first) that has no
 * subfolder and whose visible files are all junk to it: Thumbs.db and desktop.ini in any case, and
 * names ending in "~"; hidden files are not seen (and keep their folder).
 */
export const isJunk = (name: string) => /^(thumbs\.db|desktop\.ini)$/i.test(name) || name.endsWith("~");
/** The junk names the facts measured, for the world to leave in folders. */
export const JUNK_NAMES = F.deleteFilesTrueJunk.v45.unlisted.filter((n) => !n.includes("/"));
