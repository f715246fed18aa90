/**
 * A model of qBittorrent as the runtime sees it through the WebUI API v2: the torrents of a session,
 * their states, paths and file lists, what removing one does to the disk, and how seeding time
 * grows. It stands in for qbittorrent-nox because the property needs thousands of histories and a
 * real one takes seconds per torrent. Each modelled behaviour follows a fact measured on the real
 * 4.5.2 and 5.1 (test/support/qbittorrent-facts.ts, checked by test/runtime/qbittorrent-behaviour.test.ts;
 * facts.ts reads them), named below as F.<id>; test/property/model.test.ts checks the model's
 * answers against the facts' situations.
 *
 * The model changes the disk only where qBittorrent does: moving a finished download out of the
 * temp folder or to a new location, renaming files, deleting a torrent's files when asked to.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { facts, isJunk, type QbtVersion } from "./facts.ts";

export type { QbtVersion };

/** Where a torrent is in its life; the reported state string also depends on stopped/queued and the version. */
export type Phase = "metaDL" | "downloading" | "moving" | "checking" | "checkingResumeData" | "complete" | "missingFiles";

export interface ModelFile {
  /** Relative to the save path (or the download path while there), root folder included: `Name/file.mkv`. */
  name: string;
  size: number;
  /** 0: "do not download" (the file is never written). */
  priority: number;
  /** Where its data is: the download (temp) folder while incomplete, then the save path. */
  at: "temp" | "save";
}

export interface ModelTorrent {
  hash: string;
  name: string;
  category: string;
  savePath: string;
  /** qBittorrent's download (temp) path for this torrent, "" when it has none. */
  downloadPath: string;
  files: ModelFile[];
  phase: Phase;
  /** The phase a check interrupted, to return to. */
  resume?: Phase;
  /** Just added with its data complete: F.firstAnswer (checkingResumeData, progress 0, 4.5's content_path relative). */
  fresh: boolean;
  stopped: boolean;
  queued: boolean;
  /** A move to another location under way (F.moving): the new save path. */
  movingTo?: string;
  progress: number;
  /** Seconds seeded, as qBittorrent counts them (F.seedingTimeStopped: not while stopped; unmeasured: not while queued). */
  seedingSeconds: number;
  /** What /torrents/info reports: the value at the torrent's last status update (F.seedingTimeIdle). */
  seedingReported: number;
  /** Seconds stopped as a complete seed since its last recheck (F.seedingTimeStopped: a recheck adds them). */
  stoppedSeconds: number;
  /**
   * Seconds it really seeded (complete, running, not queued, qBittorrent up): what the seeding period
   * is about. Unlike qBittorrent's count it never falls back at a restart, and a recheck adds nothing.
   */
  seededPhysically: number;
  addedOn: number;
  completionOn: number;
}

const baseOf = (t: ModelTorrent, f: ModelFile) => (f.at === "temp" && t.downloadPath ? t.downloadPath : t.savePath);
/** Where a file of `t` is on disk now. */
export const fileLocation = (t: ModelTorrent, f: ModelFile) => join(baseOf(t, f), f.name);

/** The root folder the torrent's files share (`Name` of `Name/a`, `Name/b`), or undefined (F.layoutNoSubfolder, F.layoutSingleFile). */
export function rootFolder(files: readonly { name: string }[]): string | undefined {
  if (files.length === 0) return undefined;
  const firsts = files.map((f) => (f.name.includes("/") ? f.name.slice(0, f.name.indexOf("/")) : undefined));
  const first = firsts[0];
  return first !== undefined && firsts.every((x) => x === first) ? first : undefined;
}

/** The state string the version reports. */
export function stateOf(t: ModelTorrent, version: QbtVersion): string {
  const s = facts(version).states;
  if (t.fresh) return s.checkingResumeData;
  switch (t.phase) {
    case "metaDL":
      return t.stopped ? s.stoppedDL : s.metaDL; // F.magnet, F.magnetStopped
    case "downloading":
      return t.stopped ? s.stoppedDL : s.stalledDL; // F.missingRechecked (no peers: stalled)
    case "moving":
      return s.moving; // F.moving
    case "checking":
      return s.checkingUP; // F.recheckRunning, F.recheckStopped (only seeds are rechecked here)
    case "checkingResumeData":
      return s.checkingResumeData; // F.restartFirstAnswer
    case "missingFiles":
      return s.missingFiles; // F.missingAfterRestart
    case "complete":
      return t.stopped ? s.stoppedUP : t.queued ? s.queuedUP : s.stalledUP; // F.stoppedSeed, F.queued, F.seeding
  }
}

/**
 * content_path: "" without metadata (F.magnet); the torrent's name alone right after adding in 4.5
 * (F.firstAnswer); else the file of a one-file torrent, even inside a folder (F.layoutSingleFile,
 * F.layoutOneFileFolder, F.layoutSubfolderSingleFile), the root folder (F.layoutFolder,
 * F.renamedFolders), or the save path itself (F.layoutNoSubfolder); during a move, still the old
 * place (F.moving).
 */
export function contentPathOf(t: ModelTorrent, version: QbtVersion): string {
  if (t.phase === "metaDL") return facts(version).magnet.content_path;
  if (t.fresh && facts(version).firstContentPathRelative) return t.name;
  const base = storageOf(t);
  if (t.files.length === 1) return join(base, t.files[0]!.name);
  const root = rootFolder(t.files);
  return root === undefined ? base : join(base, root);
}

/** Where the torrent's data is: the temp folder while it is downloaded there, else the save path (the old one during a move). */
const storageOf = (t: ModelTorrent) => (t.phase !== "complete" && t.downloadPath && t.files.some((f) => f.at === "temp") ? t.downloadPath : t.savePath);

/** One torrent as /api/v2/torrents/info lists it (the fields the runtime reads, and a few beside). */
export function infoOf(t: ModelTorrent, version: QbtVersion) {
  const f = facts(version);
  const meta = t.phase !== "metaDL";
  const wanted = t.files.filter((x) => x.priority > 0).reduce((n, x) => n + x.size, 0);
  const progress = t.fresh ? f.firstProgress : t.phase === "checking" ? f.checkingProgress : t.progress;
  return {
    added_on: t.addedOn,
    amount_left: meta ? Math.round(wanted * (1 - progress)) : 0,
    category: t.category,
    completion_on: t.completionOn,
    content_path: contentPathOf(t, version),
    download_path: t.downloadPath,
    hash: t.hash,
    infohash_v1: t.hash,
    infohash_v2: "",
    name: t.name,
    progress,
    // F.moving: the new save path already (4.5) or still the old one (5.1).
    save_path: t.movingTo !== undefined && f.movingReportsNewSavePath ? t.movingTo : t.savePath,
    seeding_time: t.seedingReported,
    size: meta ? wanted : f.magnet.size,
    state: stateOf(t, version),
    tags: "",
    total_size: meta ? t.files.reduce((n, x) => n + x.size, 0) : f.magnet.total_size,
    ...(f.hasMetadataField ? { has_metadata: meta } : {}),
    // F.seeding: 5.1 has root_path. Its value is not measured: qBittorrent's TorrentImpl::rootPath (the root folder, or "" without one); the runtime does not read it.
    ...(f.rootPathField ? { root_path: meta && rootFolder(t.files) !== undefined ? join(storageOf(t), rootFolder(t.files)!) : "" } : {}),
  };
}

/** /api/v2/torrents/files: nothing without metadata (F.magnet), else every file by its current name (F.renamedFile), is_seed on the first only (F.fileEntries). */
export function filesOf(t: ModelTorrent, version: QbtVersion): unknown[] {
  const f = facts(version);
  if (t.phase === "metaDL") return [...f.magnet.files];
  const progress = t.fresh ? f.firstProgress : t.phase === "checking" ? f.checkingProgress : t.progress;
  return t.files.map((x, index) => ({
    availability: -1,
    index,
    ...(index === 0 || !f.isSeedOnFirstOnly ? { is_seed: t.phase === "complete" && !t.fresh } : {}),
    name: x.name,
    piece_range: [0, 0],
    priority: x.priority,
    progress: x.priority === 0 ? 0 : progress,
    size: x.size,
  }));
}

/** A removal the runtime asked for over the API, with the torrent's seeding time then. */
export interface ApiDeletion {
  hash: string;
  name: string;
  seedingReported: number;
  deleteFiles: boolean;
  /** Where each file it listed was when it was removed. */
  paths: string[];
}

/** `.<hash>.parts` in the save path: the bytes of skipped files' shared pieces (F.skippedFile). */
export const partsFile = (t: ModelTorrent) => join(t.savePath, `.${t.hash}.parts`);

/**
 * One qBittorrent session: its torrents, the torrents it lost (a profile whose resume data went
 * missing), and whether it answers at all.
 */
export class QbtSession {
  torrents: ModelTorrent[] = [];
  /** Torrents the session lost (restart without their resume data): gone from every answer. */
  lost: ModelTorrent[] = [];
  /** The whole session is lost: qBittorrent answers an empty list (F.emptySession) until it is restored. */
  sessionLost = false;
  /** "error": every request answers HTTP 500. */
  mode: "ok" | "error" = "ok";
  /** Removals the runtime asked for since the world last looked. */
  apiDeletions: ApiDeletion[] = [];

  constructor(readonly version: QbtVersion) {}

  /** What /torrents/info lists now. */
  reported(): ModelTorrent[] {
    return this.sessionLost ? [] : this.torrents;
  }

  byHash(hash: string): ModelTorrent | undefined {
    return this.reported().find((t) => t.hash === hash);
  }

  /** A change to the torrent refreshes its status, seeding_time included (F.seedingTimeIdle). */
  touch(t: ModelTorrent): void {
    t.seedingReported = t.seedingSeconds;
  }

  /**
   * Removes a torrent. deleteFiles=false: nothing on disk changes (F.deleteFilesFalse; unmeasured:
   * its .parts file stays too). deleteFiles=true: its listed files go (F.deleteFilesTrueFolder), its
   * .parts file (F.deleteFilesTruePartsFile), then the folders of its root folder as qBittorrent
   * clears them (F.deleteFilesTrueJunk, F.deleteFilesTrueHiddenJunk); without a root folder, the
   * subfolders it emptied go in 4.5 and stay in 5.1 (F.deleteFilesTrueNoSubfolder), the save path
   * stays, and nothing beside a single file goes (F.deleteFilesTrueSingleFile). Another torrent
   * listing the same files does not notice (F.crossSeedRemoved).
   */
  remove(t: ModelTorrent, deleteFiles: boolean): void {
    this.torrents = this.torrents.filter((x) => x !== t);
    if (!deleteFiles) return;
    const dirs = new Set<string>();
    for (const f of t.files) {
      const path = fileLocation(t, f);
      try {
        if (lstatSync(path).isFile()) rmSync(path, { force: true });
      } catch {
        /* already gone */
      }
      const base = baseOf(t, f);
      for (let dir = dirname(path); dir.startsWith(`${base}/`); dir = dirname(dir)) dirs.add(dir);
    }
    rmSync(partsFile(t), { force: true });
    const root = rootFolder(t.files);
    if (root !== undefined) {
      for (const base of new Set(t.files.map((f) => baseOf(t, f)))) clearFolderTree(join(base, root));
    } else if (!facts(this.version).noSubfolderKeepsEmptiedFolders) {
      for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
        try {
          rmdirSync(dir);
        } catch {
          /* not empty */
        }
      }
    }
  }

  /**
   * Time passes. Checks end: a seed missing data after a recheck is a download again
   * (F.missingRechecked), after a restart it is missingFiles (F.missingAfterRestart); a recheck of
   * a stopped seed adds its stopped time (F.seedingTimeStopped). A move ends in the new place, the
   * old folders gone (F.moving). Seeding time grows for running, unqueued seeds; what is reported
   * catches up only at a status update (`refresh`, F.seedingTimeIdle).
   */
  tick(seconds: number, refresh: boolean, fileExists: (path: string) => boolean): void {
    if (this.sessionLost) return;
    const missing = (t: ModelTorrent) => t.files.some((f) => f.priority > 0 && !fileExists(fileLocation(t, f)));
    for (const t of this.torrents) {
      t.fresh = false;
      if (t.phase === "checking") {
        if (missing(t)) {
          t.phase = "downloading";
          t.progress = 0;
        } else t.phase = t.resume ?? "complete";
        if (t.stopped && facts(this.version).recheckAddsStoppedTime) t.seedingSeconds += t.stoppedSeconds;
        t.stoppedSeconds = 0;
        t.resume = undefined;
        this.touch(t);
      } else if (t.phase === "checkingResumeData") {
        const back = t.resume ?? "complete";
        t.phase = back === "complete" && missing(t) ? "missingFiles" : back;
        if (t.phase === "missingFiles") t.progress = 0;
        t.resume = undefined;
      } else if (t.phase === "moving" && t.movingTo !== undefined) {
        this.relocate(t, t.movingTo);
        t.movingTo = undefined;
        t.phase = t.resume ?? "complete";
        t.resume = undefined;
      }
      if (t.phase === "complete") {
        if (t.stopped) t.stoppedSeconds += seconds;
        else if (!t.queued) {
          t.seedingSeconds += seconds;
          t.seededPhysically += seconds;
        }
      }
      if (refresh) this.touch(t);
    }
  }

  /**
   * A restart: every torrent is listed again at once, checkingResumeData first (F.restartFirstAnswer);
   * seeding time is not reset but may fall back to its value at the last change (F.restartSeedingTime):
   * `fallsBack` says which torrents.
   */
  restart(fallsBack: (index: number) => boolean): void {
    this.torrents.forEach((t, i) => {
      if (fallsBack(i)) t.seedingSeconds = t.seedingReported;
      this.touch(t);
      if (t.phase === "checkingResumeData" || t.phase === "checking" || t.phase === "moving") return;
      t.resume = t.phase === "missingFiles" ? "complete" : t.phase;
      t.phase = "checkingResumeData";
      t.fresh = false;
    });
  }

  /** Moves a finished download's files from the temp folder to its save path (rename, one file system), `count` of them. */
  moveFiles(t: ModelTorrent, count: number): void {
    let moved = 0;
    for (const f of t.files) {
      if (f.at !== "temp" || moved >= count) continue;
      const from = fileLocation(t, f);
      f.at = "save";
      const to = fileLocation(t, f);
      if (existsSync(from)) {
        mkdirSync(dirname(to), { recursive: true });
        renameSync(from, to);
        for (let dir = dirname(from); dir.startsWith(`${t.downloadPath}/`); dir = dirname(dir)) {
          try {
            rmdirSync(dir);
          } catch {
            break;
          }
        }
      }
      moved++;
    }
  }

  /** /torrents/setLocation: "moving" until the next tick, content_path still the old place, save_path per version (F.moving). */
  startMove(t: ModelTorrent, to: string): void {
    t.movingTo = to;
    t.resume = "complete";
    t.phase = "moving";
    this.touch(t);
  }

  /** The end of a move to `to` (F.moving): the files are there, the folders they left are gone. */
  private relocate(t: ModelTorrent, to: string): void {
    const from = t.savePath;
    for (const f of t.files) {
      if (f.at !== "save") continue;
      const src = join(from, f.name);
      const dest = join(to, f.name);
      if (!existsSync(src)) continue;
      mkdirSync(dirname(dest), { recursive: true });
      renameSync(src, dest);
      for (let dir = dirname(src); dir.startsWith(`${from}/`); dir = dirname(dir)) {
        try {
          rmdirSync(dir);
        } catch {
          break;
        }
      }
    }
    t.savePath = to;
  }
}

/** F.deleteFilesTrueJunk, F.deleteFilesTrueHiddenJunk: qBittorrent's clean-up of a removed torrent's root folder, deepest folder first. */
function clearFolderTree(root: string): void {
  const dirs: string[] = [];
  const visit = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    dirs.push(d);
    for (const e of entries) if (e.isDirectory()) visit(`${d}/${e.name}`);
  };
  visit(root);
  for (const dir of dirs.sort((a, b) => b.length - a.length)) {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    // A folder with a subfolder left is kept, and so is one with a visible file that is not junk.
    if (entries.some((e) => e.isDirectory())) continue;
    const visible = entries.filter((e) => !e.name.startsWith("."));
    if (visible.some((e) => !isJunk(e.name))) continue;
    for (const e of visible) rmSync(join(dir, e.name), { force: true });
    try {
      rmdirSync(dir);
    } catch {
      /* a hidden file keeps it */
    }
  }
}

/**
 * One HTTP server for every world of the run: `/w<id>/api/v2/...` reaches world <id>'s session, so
 * the runtime's configured URL is `http://127.0.0.1:<port>/w<id>`.
 */
export class ModelServer {
  private readonly sessions = new Map<number, { session: QbtSession; seedingPeriod: number; problems: string[] }>();
  private server?: Server;
  port = 0;
  /** How often each state string (and content_path kind) was in an answer: what the runtime was shown. */
  readonly served = new Map<string, number>();

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  register(id: number, session: QbtSession, seedingPeriod: number, problems: string[]): string {
    this.sessions.set(id, { session, seedingPeriod, problems });
    return `http://127.0.0.1:${this.port}/w${id}`;
  }

  unregister(id: number): void {
    this.sessions.delete(id);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    const m = url.pathname.match(/^\/w([0-9]+)(\/.*)$/);
    const entry = m ? this.sessions.get(Number(m[1])) : undefined;
    if (!m || !entry) return void res.writeHead(404).end();
    const { session } = entry;
    const json = (data: unknown) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(data));
    if (session.mode === "error") return void res.writeHead(500).end("Internal Server Error");
    switch (m[2]) {
      case "/api/v2/app/webapiVersion":
        return void res.end(facts(session.version).webapiVersion);
      case "/api/v2/torrents/info": {
        // F.unknownHash: ?hashes= filters, an unknown hash gives [].
        const hashes = url.searchParams.get("hashes")?.split("|");
        const answer = session.reported().filter((t) => !hashes || hashes.includes(t.hash)).map((t) => infoOf(t, session.version));
        const count = (k: string) => this.served.set(k, (this.served.get(k) ?? 0) + 1);
        if (answer.length === 0) count("(empty list)");
        for (const t of answer) {
          count(t.state);
          if (t.content_path === "") count('content_path ""');
          else if (!t.content_path.startsWith("/")) count("content_path relative");
          else if (t.content_path === t.save_path) count("content_path = save_path");
        }
        return json(answer);
      }
      case "/api/v2/torrents/files": {
        const t = session.byHash(url.searchParams.get("hash") ?? "");
        // F.unknownHash: a hash it does not know is a 404.
        if (!t) return void res.writeHead(404).end("Not Found");
        return json(filesOf(t, session.version));
      }
      case "/api/v2/torrents/delete": {
        let body = "";
        req.on("data", (d: Buffer) => (body += d.toString()));
        req.on("end", () => {
          const form = new URLSearchParams(body);
          const deleteFiles = form.get("deleteFiles") === "true";
          for (const hash of (form.get("hashes") ?? "").split("|")) {
            const t = session.byHash(hash);
            if (!t) continue;
            // Too early when it seeded less than the period both in truth and by qBittorrent's own up-to-date count
            // (which a recheck of a stopped seed inflates, F.seedingTimeStopped: the runtime may trust it).
            if (Math.max(t.seededPhysically, t.seedingSeconds) < entry.seedingPeriod) {
              entry.problems.push(
                `cleanup removed torrent ${JSON.stringify(t.name)} (${t.hash.slice(0, 8)}, ${stateOf(t, session.version)}) after seeding ${t.seededPhysically}s ` +
                  `(qBittorrent's count ${t.seedingSeconds}s, reported seeding_time ${t.seedingReported}s, completed ${t.completionOn}), before the seeding period of ${entry.seedingPeriod}s`,
              );
            }
            session.apiDeletions.push({ hash, name: t.name, seedingReported: t.seedingReported, deleteFiles, paths: t.files.map((f) => fileLocation(t, f)) });
            session.remove(t, deleteFiles);
          }
          res.writeHead(200).end();
        });
        return;
      }
      default:
        return void res.writeHead(404).end();
    }
  }
}
