/**
 * Facts about the real qBittorrent, as measured on 4.5.2 (Debian 12) and 5.1.0 (Debian 13) through
 * the WebUI API v2: plain data, one entry per fact, with what each version does. A model of
 * qBittorrent (a property test's world) cites these; test/runtime/qbittorrent-behaviour.test.ts
 * makes each situation with the real programs and fails when what they report is no longer the
 * value here. `test` names the test there (inside `describe("qBittorrent 4.5" | "qBittorrent 5.1")`).
 *
 * How the values are written:
 * - `<root>` stands for the folder the test works in (a host path both versions see as it is);
 *   `<tmpfs>` for another file system a torrent was moved to; `<hash>` for the torrent's info hash.
 * - Paths on disk are relative to the folder named in the fact, sorted, folders ending with "/";
 *   "ABSENT" is a folder that does not exist.
 * - The measurements ran with DHT, LSD and PeX off, a tracker that cannot be reached, no peers
 *   (except in skippedFile), queueing off (except in queued) and a state refresh interval of 250 ms.
 *
 * Reading a state: a stopped torrent is `pausedUP`/`pausedDL` in 4.5 and `stoppedUP`/`stoppedDL` in
 * 5.1; every other state string is the same in both.
 */

export interface QbittorrentFact<T = unknown> {
  /** What was measured, in words. */
  fact: string;
  /** What qBittorrent 4.5.2 does. */
  v45: T;
  /** What qBittorrent 5.1.0 does. */
  v51: T;
  /** The test in test/runtime/qbittorrent-behaviour.test.ts that measures it. */
  test: string;
}

const FRESH = "a fresh profile: versions, defaults, an empty session";
const MAGNET = "a magnet without metadata, running and stopped";
const ADDING = "adding: the first answer for a new torrent";
const LAYOUTS = "content_path and file names for each layout";
const STOPPING = "stopping and starting: endpoints, the add parameter, a stopped seed";
const CHECKING = "checking a big seed (recheck, running and stopped) and moving it to another file system";
const QUEUEING = "queueing with no active slot";
const SEEDING_TIME = "seeding_time: idle, refreshed, stopped, and after a recheck of a stopped seed";
const READDING = "re-adding a removed torrent";
const RENAMING = "renaming a file and folders";
const CROSS_SEED = "two torrents sharing a folder (a cross-seed), and removing one with its files";
const REMOVING = "removing torrents: deleteFiles=false, and what deleteFiles=true removes";
const SKIPPED = "a download with a skipped file (priority 0), from a second qBittorrent";
const MISSING = "files deleted on disk: running, rechecked, stopped and started, and after a restart";

/** The state strings, by what the torrent is doing. */
export const QBITTORRENT_STATES = {
  v45: { stoppedUP: "pausedUP", stoppedDL: "pausedDL" },
  v51: { stoppedUP: "stoppedUP", stoppedDL: "stoppedDL" },
} as const;

export const QBITTORRENT_FACTS = {
  webapiVersion: {
    fact: "/api/v2/app/version (major.minor) and /api/v2/app/webapiVersion",
    v45: { app: "v4.5", webapi: "2.8.19" },
    v51: { app: "v5.1", webapi: "2.11.4" },
    test: FRESH,
  },
  defaults: {
    fact:
      "Preferences of a fresh profile: the state refresh interval (ms; a state change shows in /torrents/info up to this late), queueing ON with 3 downloads, " +
      "3 uploads, 5 torrents active (once measured, not re-checked here: of 8 idle seeds 3 ran and 5 were queuedUP), and (5.x only) what removing a torrent with its files does: Delete, not MoveToTrash",
    v45: { refresh_interval: 1500, queueing_enabled: true, max_active_downloads: 3, max_active_uploads: 3, max_active_torrents: 5, torrent_content_remove_option: "absent" },
    v51: { refresh_interval: 1500, queueing_enabled: true, max_active_downloads: 3, max_active_uploads: 3, max_active_torrents: 5, torrent_content_remove_option: "Delete" },
    test: FRESH,
  },
  emptySession: {
    fact: "/api/v2/torrents/info of a fresh profile is an empty list",
    v45: [],
    v51: [],
    test: FRESH,
  },
  unknownHash: {
    fact: "For a hash it does not know, /torrents/info?hashes= answers [] and /torrents/files?hash= answers HTTP 404",
    v45: { info: [], files: 404 },
    v51: { info: [], files: 404 },
    test: FRESH,
  },
  magnet: {
    fact:
      "A magnet that cannot fetch its metadata (no peers) stays metaDL: content_path is \"\", files is [], size 0, total_size -1; " +
      "completion_on of a torrent never completed is 0 in 4.5 and -1 in 5.1; 5.1 adds has_metadata",
    v45: { state: "metaDL", content_path: "", save_path: "<root>/save", progress: 0, size: 0, total_size: -1, seeding_time: 0, completion_on: 0, has_metadata: "absent", files: [] },
    v51: { state: "metaDL", content_path: "", save_path: "<root>/save", progress: 0, size: 0, total_size: -1, seeding_time: 0, completion_on: -1, has_metadata: false, files: [] },
    test: MAGNET,
  },
  magnetStopped: {
    fact: "A stopped magnet without metadata is pausedDL (4.5) / stoppedDL (5.1), still with content_path \"\" and no files",
    v45: { state: "pausedDL", content_path: "", files: [] },
    v51: { state: "stoppedDL", content_path: "", files: [] },
    test: MAGNET,
  },
  firstAnswer: {
    fact:
      "Right after /torrents/add a torrent whose data is complete is checkingResumeData, progress 0, its files already listed; " +
      "4.5 then reports content_path RELATIVE (the torrent's name alone), 5.1 the absolute path",
    v45: { state: "checkingResumeData", content_path: "First.T", progress: 0, files: ["First.T/a.mkv", "First.T/b.srt"] },
    v51: { state: "checkingResumeData", content_path: "<root>/save/First.T", progress: 0, files: ["First.T/a.mkv", "First.T/b.srt"] },
    test: ADDING,
  },
  seeding: {
    fact:
      "A complete torrent with no peers seeds as stalledUP, progress 1, amount_left 0, completion_on the time it completed (Unix seconds); " +
      "seeding_time is a number in both; root_path and has_metadata exist only in 5.1",
    v45: { state: "stalledUP", progress: 1, amount_left: 0, completionOnIsRecent: true, seedingTimeIsNumber: true, infoKeys: ["seeding_time", "completion_on", "content_path"] },
    v51: { state: "stalledUP", progress: 1, amount_left: 0, completionOnIsRecent: true, seedingTimeIsNumber: true, infoKeys: ["seeding_time", "completion_on", "content_path", "root_path", "has_metadata"] },
    test: ADDING,
  },
  fileEntries: {
    fact: "/torrents/files entries have index, name, priority, progress, size, piece_range, availability; is_seed is on the FIRST entry only",
    v45: { first: ["availability", "index", "is_seed", "name", "piece_range", "priority", "progress", "size"], second: ["availability", "index", "name", "piece_range", "priority", "progress", "size"], isSeed: [true, "absent"] },
    v51: { first: ["availability", "index", "is_seed", "name", "piece_range", "priority", "progress", "size"], second: ["availability", "index", "name", "piece_range", "priority", "progress", "size"], isSeed: [true, "absent"] },
    test: ADDING,
  },
  layoutSingleFile: {
    fact: "A single-file torrent: content_path is save_path/file; files lists the bare file name",
    v45: { state: "stalledUP", content_path: "<root>/layouts/single.mkv", save_path: "<root>/layouts", files: ["single.mkv"] },
    v51: { state: "stalledUP", content_path: "<root>/layouts/single.mkv", save_path: "<root>/layouts", files: ["single.mkv"] },
    test: LAYOUTS,
  },
  layoutFolder: {
    fact: "A torrent of a folder with several files: content_path is save_path/name; file names start with name/",
    v45: { state: "stalledUP", content_path: "<root>/layouts/Folder.T", save_path: "<root>/layouts", files: ["Folder.T/a.mkv", "Folder.T/sub/b.srt"] },
    v51: { state: "stalledUP", content_path: "<root>/layouts/Folder.T", save_path: "<root>/layouts", files: ["Folder.T/a.mkv", "Folder.T/sub/b.srt"] },
    test: LAYOUTS,
  },
  layoutOneFileFolder: {
    fact: "A torrent of a folder holding ONE file: content_path is that file (save_path/name/file), not the folder",
    v45: { state: "stalledUP", content_path: "<root>/layouts/One.T/only.mkv", save_path: "<root>/layouts", files: ["One.T/only.mkv"] },
    v51: { state: "stalledUP", content_path: "<root>/layouts/One.T/only.mkv", save_path: "<root>/layouts", files: ["One.T/only.mkv"] },
    test: LAYOUTS,
  },
  layoutNoSubfolder: {
    fact: "A multi-file torrent added with contentLayout=NoSubfolder (both versions accept it): content_path is the save path itself; file names have no root folder",
    v45: { state: "stalledUP", content_path: "<root>/layouts/nosub", save_path: "<root>/layouts/nosub", files: ["c.mkv", "d/e.mkv"] },
    v51: { state: "stalledUP", content_path: "<root>/layouts/nosub", save_path: "<root>/layouts/nosub", files: ["c.mkv", "d/e.mkv"] },
    test: LAYOUTS,
  },
  rootFolderFalse: {
    fact: "root_folder=false on /torrents/add is IGNORED by both (answer Ok.): the root folder stays, so data lying flat in the save path is not found (stalledDL)",
    v45: { state: "stalledDL", content_path: "<root>/layouts/rootfolder/RootFolder.T", save_path: "<root>/layouts/rootfolder", files: ["RootFolder.T/c.mkv", "RootFolder.T/d.mkv"] },
    v51: { state: "stalledDL", content_path: "<root>/layouts/rootfolder/RootFolder.T", save_path: "<root>/layouts/rootfolder", files: ["RootFolder.T/c.mkv", "RootFolder.T/d.mkv"] },
    test: LAYOUTS,
  },
  layoutSubfolderSingleFile: {
    fact: "A single-file torrent added with contentLayout=Subfolder: the file goes into a folder named after it (extension dropped); content_path is the file",
    v45: { state: "stalledUP", content_path: "<root>/layouts/sub/lone/lone.mkv", save_path: "<root>/layouts/sub", files: ["lone/lone.mkv"] },
    v51: { state: "stalledUP", content_path: "<root>/layouts/sub/lone/lone.mkv", save_path: "<root>/layouts/sub", files: ["lone/lone.mkv"] },
    test: LAYOUTS,
  },
  stopEndpoints: {
    fact: "HTTP status of the stop/start endpoints: 4.5 has /torrents/pause and /resume (stop, start: 404); 5.1 has /torrents/stop and /start (pause, resume: 404)",
    v45: { pause: 200, stop: 404, resume: 200, start: 404 },
    v51: { pause: 404, stop: 200, resume: 404, start: 200 },
    test: STOPPING,
  },
  addStopped: {
    fact: "Adding stopped: 4.5 honours paused=true and ignores stopped=true; 5.1 honours stopped=true and ignores paused=true (the torrent starts). A torrent added stopped is not checked: progress 0, a DL state",
    v45: { paused: { state: "pausedDL", progress: 0 }, stopped: { state: "stalledUP", progress: 1 } },
    v51: { paused: { state: "stalledUP", progress: 1 }, stopped: { state: "stoppedDL", progress: 0 } },
    test: STOPPING,
  },
  stoppedSeed: {
    fact: "A stopped seed: pausedUP (4.5) / stoppedUP (5.1), progress 1, content_path and files unchanged",
    v45: { state: "pausedUP", progress: 1, content_path: "<root>/save/Param.T/a.mkv", files: ["Param.T/a.mkv"] },
    v51: { state: "stoppedUP", progress: 1, content_path: "<root>/save/Param.T/a.mkv", files: ["Param.T/a.mkv"] },
    test: STOPPING,
  },
  startedSeed: {
    fact: "A stopped seed started again (4.5 /resume, 5.1 /start) is stalledUP",
    v45: "stalledUP",
    v51: "stalledUP",
    test: STOPPING,
  },
  recheckRunning: {
    fact:
      "/torrents/recheck of a running seed: the states it passes through (checkingUP while hashing, then stalledUP); content_path, save_path and files " +
      "stay meanwhile; while checking, progress is below 1 (0, or a stale part in 4.5) and completion_on is kept",
    v45: {
      states: [
        { state: "checkingUP", content_path: "<root>/save/Big.T", save_path: "<root>/save", files: ["Big.T/big.bin", "Big.T/small.txt"] },
        { state: "stalledUP", content_path: "<root>/save/Big.T", save_path: "<root>/save" },
      ],
      whileChecking: { progressBelow1: true, completionOnKept: true },
    },
    v51: {
      states: [
        { state: "checkingUP", content_path: "<root>/save/Big.T", save_path: "<root>/save", files: ["Big.T/big.bin", "Big.T/small.txt"] },
        { state: "stalledUP", content_path: "<root>/save/Big.T", save_path: "<root>/save" },
      ],
      whileChecking: { progressBelow1: true, completionOnKept: true },
    },
    test: CHECKING,
  },
  recheckStopped: {
    fact: "/torrents/recheck of a stopped seed: checkingUP while hashing (it runs for the check), then stopped again",
    v45: {
      states: [
        { state: "checkingUP", content_path: "<root>/save/Big.T", save_path: "<root>/save", files: ["Big.T/big.bin", "Big.T/small.txt"] },
        { state: "pausedUP", content_path: "<root>/save/Big.T", save_path: "<root>/save" },
      ],
      whileChecking: { progressBelow1: true, completionOnKept: true },
    },
    v51: {
      states: [
        { state: "checkingUP", content_path: "<root>/save/Big.T", save_path: "<root>/save", files: ["Big.T/big.bin", "Big.T/small.txt"] },
        { state: "stoppedUP", content_path: "<root>/save/Big.T", save_path: "<root>/save" },
      ],
      whileChecking: { progressBelow1: true, completionOnKept: true },
    },
    test: CHECKING,
  },
  moving: {
    fact:
      "/torrents/setLocation to another file system: the state is moving while the data is copied, content_path still the old one, save_path already the NEW one in 4.5 " +
      "but still the OLD one in 5.1; then stalledUP in the new place, the old folder gone",
    v45: {
      seen: [{ state: "moving", save_path: "<tmpfs>" }, { state: "stalledUP", save_path: "<tmpfs>" }],
      first: { state: "moving", content_path: "<root>/save/Big.T", save_path: "<tmpfs>" },
      on: ["Big.T/", "Big.T/big.bin", "Big.T/small.txt"],
      left: false,
    },
    v51: {
      seen: [{ state: "moving", save_path: "<root>/save" }, { state: "stalledUP", save_path: "<tmpfs>" }],
      first: { state: "moving", content_path: "<root>/save/Big.T", save_path: "<root>/save" },
      on: ["Big.T/", "Big.T/big.bin", "Big.T/small.txt"],
      left: false,
    },
    test: CHECKING,
  },
  queued: {
    fact: "With queueing on and no active slot (max_active_* 0), a seed is queuedUP; content_path and files unchanged",
    v45: { state: "queuedUP", progress: 1, content_path: "<root>/save/Queued.T/a.mkv", files: ["Queued.T/a.mkv"] },
    v51: { state: "queuedUP", progress: 1, content_path: "<root>/save/Queued.T/a.mkv", files: ["Queued.T/a.mkv"] },
    test: QUEUEING,
  },
  unqueued: {
    fact: "Queueing turned off again: the queued seed is stalledUP",
    v45: "stalledUP",
    v51: "stalledUP",
    test: QUEUEING,
  },
  seedingTimeIdle: {
    fact:
      "seeding_time (seconds) of an idle seed (no peers, no transfer) is NOT kept up to date: /torrents/info (and /torrents/properties) keep the value of the " +
      "torrent's last status update, so it lags behind the time since completion_on (seen frozen for over 2 minutes, /torrents/reannounce did not help); " +
      "a change to the torrent (here /torrents/addTags; once measured, not re-checked here: also setForceStart, setUploadLimit, toggleSequentialDownload, " +
      "setSuperSeeding, stop and start, but not setShareLimits) refreshes it, and then it is the seconds since completion_on",
    v45: { lagsBehind: true, refreshedIsSecondsSinceCompletion: true },
    v51: { lagsBehind: true, refreshedIsSecondsSinceCompletion: true },
    test: SEEDING_TIME,
  },
  seedingTimeStopped: {
    fact: "seeding_time does not advance while stopped; but a recheck of a stopped seed adds the whole stopped period to it",
    v45: { advancesWhileStopped: false, recheckAddsTheStoppedTime: true, stateAfterRecheck: "pausedUP" },
    v51: { advancesWhileStopped: false, recheckAddsTheStoppedTime: true, stateAfterRecheck: "stoppedUP" },
    test: SEEDING_TIME,
  },
  reAdded: {
    fact: "Removed (deleteFiles=false: the data stays) and added again from the same data: the same hash, seeding_time starts again from 0, added_on and completion_on are new",
    v45: { dataKept: ["a.mkv"], sameHash: true, seedingTimeBefore: true, seedingTimeAfter: true, addedOnLater: true, completionOnLater: true },
    v51: { dataKept: ["a.mkv"], sameHash: true, seedingTimeBefore: true, seedingTimeAfter: true, addedOnLater: true, completionOnLater: true },
    test: READDING,
  },
  renamedFile: {
    fact: "/torrents/renameFile (hash, oldPath, newPath): /torrents/files reports the new name and the file moved on disk",
    v45: { files: ["Ren.T/renamed.mkv", "Ren.T/sub/b.srt"], disk: ["renamed.mkv", "sub/", "sub/b.srt"], content_path: "<root>/save/Ren.T" },
    v51: { files: ["Ren.T/renamed.mkv", "Ren.T/sub/b.srt"], disk: ["renamed.mkv", "sub/", "sub/b.srt"], content_path: "<root>/save/Ren.T" },
    test: RENAMING,
  },
  renamedFolders: {
    fact: "/torrents/renameFolder of a subfolder and of the root folder: names and disk follow, content_path becomes the new root folder, the torrent keeps seeding",
    v45: { files: ["Ren.Root/renamed.mkv", "Ren.Root/subs/b.srt"], disk: { old: "ABSENT", new: ["renamed.mkv", "subs/", "subs/b.srt"] }, content_path: "<root>/save/Ren.Root", state: "stalledUP", progress: 1 },
    v51: { files: ["Ren.Root/renamed.mkv", "Ren.Root/subs/b.srt"], disk: { old: "ABSENT", new: ["renamed.mkv", "subs/", "subs/b.srt"] }, content_path: "<root>/save/Ren.Root", state: "stalledUP", progress: 1 },
    test: RENAMING,
  },
  crossSeed: {
    fact: "Two torrents of one folder (A: a, b; B: a, b, c): both seed, with the same content_path, each listing its own files",
    v45: {
      first: { state: "stalledUP", progress: 1, content_path: "<root>/save/Cross.T", files: ["Cross.T/a.mkv", "Cross.T/b.mkv"] },
      second: { state: "stalledUP", progress: 1, content_path: "<root>/save/Cross.T", files: ["Cross.T/a.mkv", "Cross.T/b.mkv", "Cross.T/c.mkv"] },
      differentHashes: true,
    },
    v51: {
      first: { state: "stalledUP", progress: 1, content_path: "<root>/save/Cross.T", files: ["Cross.T/a.mkv", "Cross.T/b.mkv"] },
      second: { state: "stalledUP", progress: 1, content_path: "<root>/save/Cross.T", files: ["Cross.T/a.mkv", "Cross.T/b.mkv", "Cross.T/c.mkv"] },
      differentHashes: true,
    },
    test: CROSS_SEED,
  },
  crossSeedRemoved: {
    fact:
      "Removing A with deleteFiles=true deletes a and b, which B also seeds; B goes on reporting stalledUP, progress 1 (it does not notice) " +
      "until a recheck finds its data gone (stalledDL, progress 0 here: a, b, c share one piece)",
    v45: {
      disk: ["c.mkv"],
      second: { state: "stalledUP", progress: 1, content_path: "<root>/save/Cross.T", files: ["Cross.T/a.mkv", "Cross.T/b.mkv", "Cross.T/c.mkv"] },
      secondRechecked: { state: "stalledDL", progress: 0 },
    },
    v51: {
      disk: ["c.mkv"],
      second: { state: "stalledUP", progress: 1, content_path: "<root>/save/Cross.T", files: ["Cross.T/a.mkv", "Cross.T/b.mkv", "Cross.T/c.mkv"] },
      secondRechecked: { state: "stalledDL", progress: 0 },
    },
    test: CROSS_SEED,
  },
  deleteFilesFalse: {
    fact: "/torrents/delete with deleteFiles=false leaves every file on disk",
    v45: ["a.mkv", "sub/", "sub/b.srt"],
    v51: ["a.mkv", "sub/", "sub/b.srt"],
    test: REMOVING,
  },
  deleteFilesTrueFolder: {
    fact:
      "deleteFiles=true removes the torrent's listed files, and then removes empty folders in its root folder; a folder keeps everything " +
      "unlisted while a file other than junk (see deleteFilesTrueJunk) is in it",
    v45: {
      unlisted: ["notes.txt", "Thumbs.db", "desktop.ini", ".DS_Store", "draft~", "sub/extra.txt", "sub2/Thumbs.db", "sub3/.directory", "emptydir/"],
      left: [".DS_Store", "Thumbs.db", "desktop.ini", "draft~", "notes.txt", "sub/", "sub/extra.txt", "sub3/", "sub3/.directory"],
    },
    v51: {
      unlisted: ["notes.txt", "Thumbs.db", "desktop.ini", ".DS_Store", "draft~", "sub/extra.txt", "sub2/Thumbs.db", "sub3/.directory", "emptydir/"],
      left: [".DS_Store", "Thumbs.db", "desktop.ini", "draft~", "notes.txt", "sub/", "sub/extra.txt", "sub3/", "sub3/.directory"],
    },
    test: REMOVING,
  },
  deleteFilesTrueJunk: {
    fact:
      "deleteFiles=true ALSO deletes files it never listed when they are all junk to qBittorrent: Thumbs.db, desktop.ini (any case) and names ending in ~; " +
      "the whole root folder goes",
    v45: { unlisted: ["Thumbs.db", "THUMBS.DB", "desktop.ini", "draft.txt~", "sub/Thumbs.db"], left: "ABSENT" },
    v51: { unlisted: ["Thumbs.db", "THUMBS.DB", "desktop.ini", "draft.txt~", "sub/Thumbs.db"], left: "ABSENT" },
    test: REMOVING,
  },
  deleteFilesTrueHiddenJunk: {
    fact: "That clean-up does not see hidden files (.DS_Store, .directory): one is kept, and keeps the folder, but the visible junk beside it is still deleted",
    v45: { unlisted: ["Thumbs.db", ".DS_Store"], left: [".DS_Store"] },
    v51: { unlisted: ["Thumbs.db", ".DS_Store"], left: [".DS_Store"] },
    test: REMOVING,
  },
  deleteFilesTrueNoSubfolder: {
    fact:
      "deleteFiles=true of a torrent without a root folder (NoSubfolder): its files go, the save path and unlisted files in it stay; " +
      "a subfolder it emptied is removed by 4.5 but KEPT by 5.1",
    v45: ["other.txt"],
    v51: ["d/", "other.txt"],
    test: REMOVING,
  },
  deleteFilesTrueSingleFile: {
    fact: "deleteFiles=true of a single-file torrent: only the file goes, not the junk beside it",
    v45: ["Thumbs.db"],
    v51: ["Thumbs.db"],
    test: REMOVING,
  },
  skippedFile: {
    fact:
      "A download with one file at priority 0, finished: stalledUP, progress 1 (of the wanted data), size = the bytes of the wanted PIECES (x, z and the piece x shares with y), total_size all; " +
      "the skipped file is NOT on disk; " +
      "the bytes of pieces it shares with a wanted file are kept in .<hash>.parts in the SAVE PATH (beside the root folder); files lists the skipped file with priority 0 (its progress counts the shared piece)",
    v45: {
      state: "stalledUP", progress: 1, amount_left: 0, size: 1314720, total_size: 2101152, completionOnSet: true,
      files: [{ name: "Part.T/x.mkv", priority: 1, progress: 1 }, { name: "Part.T/y.nfo", priority: 0, progress: 0.25 }, { name: "Part.T/z.srt", priority: 1, progress: 1 }],
      disk: [".<hash>.parts", "Part.T/", "Part.T/x.mkv", "Part.T/z.srt"],
    },
    v51: {
      state: "stalledUP", progress: 1, amount_left: 0, size: 1314720, total_size: 2101152, completionOnSet: true,
      files: [{ name: "Part.T/x.mkv", priority: 1, progress: 1 }, { name: "Part.T/y.nfo", priority: 0, progress: 0.25 }, { name: "Part.T/z.srt", priority: 1, progress: 1 }],
      disk: [".<hash>.parts", "Part.T/", "Part.T/x.mkv", "Part.T/z.srt"],
    },
    test: SKIPPED,
  },
  unskippedFile: {
    fact: "Setting the skipped file's priority back to 1 makes the finished torrent a download again (a DL state, progress < 1, completion_on reset to the never value)",
    v45: { stateEndsWithDL: true, progressBelow1: true, completion_on: 0 },
    v51: { stateEndsWithDL: true, progressBelow1: true, completion_on: -1 },
    test: SKIPPED,
  },
  deleteFilesTruePartsFile: {
    fact: "deleteFiles=true also removes the .<hash>.parts file from the save path",
    v45: [],
    v51: [],
    test: SKIPPED,
  },
  missingWhileRunning: {
    fact: "Files deleted on disk under a running seed: qBittorrent does not notice (stalledUP, progress 1, files at progress 1)",
    v45: { state: "stalledUP", progress: 1, content_path: "<root>/save/Gone.Recheck/a.mkv", files: [{ name: "Gone.Recheck/a.mkv", progress: 1 }] },
    v51: { state: "stalledUP", progress: 1, content_path: "<root>/save/Gone.Recheck/a.mkv", files: [{ name: "Gone.Recheck/a.mkv", progress: 1 }] },
    test: MISSING,
  },
  missingRechecked: {
    fact: "Rechecked after its files were deleted: stalledDL, progress 0 (it is a download again, not missingFiles); content_path unchanged",
    v45: { state: "stalledDL", progress: 0, content_path: "<root>/save/Gone.Recheck/a.mkv", files: [{ name: "Gone.Recheck/a.mkv", progress: 0 }] },
    v51: { state: "stalledDL", progress: 0, content_path: "<root>/save/Gone.Recheck/a.mkv", files: [{ name: "Gone.Recheck/a.mkv", progress: 0 }] },
    test: MISSING,
  },
  missingStoppedStarted: {
    fact: "Stopped and started after its files were deleted (no recheck): it does not notice either, and seeds on as stalledUP, progress 1",
    v45: {
      stopped: "pausedUP",
      started: { state: "stalledUP", progress: 1, content_path: "<root>/save/Gone.Cycle/a.mkv", files: [{ name: "Gone.Cycle/a.mkv", progress: 1 }] },
    },
    v51: {
      stopped: "stoppedUP",
      started: { state: "stalledUP", progress: 1, content_path: "<root>/save/Gone.Cycle/a.mkv", files: [{ name: "Gone.Cycle/a.mkv", progress: 1 }] },
    },
    test: MISSING,
  },
  restartFirstAnswer: {
    fact:
      "The first /torrents/info after qBittorrent restarts (as soon as its WebUI answers) lists the torrents already, with content_path absolute (in 4.5 too), " +
      "checkingResumeData at first (5.1 is sometimes already past it: stalledUP)",
    v45: { listed: true, content_path: "<root>/save/Kept.Restart/a.mkv", state: "checkingResumeData or stalledUP" },
    v51: { listed: true, content_path: "<root>/save/Kept.Restart/a.mkv", state: "checkingResumeData or stalledUP" },
    test: MISSING,
  },
  missingAfterRestart: {
    fact: "A seed whose files were deleted, after a restart: missingFiles, progress 0, files listed at progress 0; completion_on kept",
    v45: { state: "missingFiles", progress: 0, content_path: "<root>/save/Gone.Restart/a.mkv", files: [{ name: "Gone.Restart/a.mkv", progress: 0 }], completionOnKept: true },
    v51: { state: "missingFiles", progress: 0, content_path: "<root>/save/Gone.Restart/a.mkv", files: [{ name: "Gone.Restart/a.mkv", progress: 0 }], completionOnKept: true },
    test: MISSING,
  },
  restartSeedingTime: {
    fact:
      "seeding_time across a restart of qBittorrent is not reset, but may go BACK: some torrents keep the seconds seeded up to the shutdown, others fall back " +
      "to their value at their last change (the seconds an idle seed seeded since are lost, give or take 1 s); which, varies from torrent to torrent and run " +
      "to run, in both versions (4 idle seeds, 3 restarts: each outcome seen in each version). What is checked: it lies between the two",
    v45: "between its value at its last change and the time it seeded",
    v51: "between its value at its last change and the time it seeded",
    test: MISSING,
  },
  missingAfterRestartRechecked: {
    fact: "A missingFiles torrent rechecked: stalledDL",
    v45: "stalledDL",
    v51: "stalledDL",
    test: MISSING,
  },
} as const satisfies Record<string, QbittorrentFact>;

export type QbittorrentFactId = keyof typeof QBITTORRENT_FACTS;

/** The value of a fact for a version. */
export function qbittorrentFact<K extends QbittorrentFactId>(id: K, version: "4.5" | "5.1"): (typeof QBITTORRENT_FACTS)[K]["v45"] | (typeof QBITTORRENT_FACTS)[K]["v51"] {
  const fact: QbittorrentFact = QBITTORRENT_FACTS[id];
  return (version === "4.5" ? fact.v45 : fact.v51) as (typeof QBITTORRENT_FACTS)[K]["v45"] | (typeof QBITTORRENT_FACTS)[K]["v51"];
}
