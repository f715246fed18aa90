/**
 * A small world for the property test: the builder's folders under a temp directory on an ordinary
 * disk file system (inode numbers are reused there as on the host, so a stale upload record can meet
 * a new file with its old inode), the real rclone with an alias of a local folder standing in for B2
 * (B2 cannot run here), the real unar, real hard links, and a model of qBittorrent's WebUI API
 * (qbittorrent-model.ts, following the measured facts) served on loopback. The runtime's own state
 * and lock files go to a tmpfs (their fsyncs cost milliseconds on a disk and tell the property nothing).
 *
 * The world keeps what the property needs and the runtime does not see:
 *   - every content (sha256) that was ever in the completed folder or a library, and for each the
 *     remote paths an upload record ever named for a file with that content (records are read after
 *     every runtime step, so one that upload prunes later still counts);
 *   - what each archive holds, so an archive volume counts as safe when every file of its set is
 *     byte-identical at the path its record names;
 *   - when each file (device, inode, size, mtime: cleanup's sighting key) first existed, for the orphan rule;
 *   - what each torrent's files should hold, to download them again.
 * Files get modification times of their own (the clock plus a counter), so no two contents share an
 * identity by a coincidence no program could tell apart, except where a step does it on purpose
 * (`rewriteInPlace`: same size, same mtime, only the ctime differs).
 * A content the world itself removes from the disk (a WebUI removal with files, a user deleting a
 * file, qBittorrent downloading over it, a rewrite), and one left only on the remote when the world
 * damages that copy, is forgiven: the property blames only the runtime.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { execa } from "execa";
import { execFileSync } from "node:child_process";
import builder from "../../spec/builder.ts";
import type { RuntimeConfigModel } from "../../runtime/config.ts";
import { requireTool } from "../helpers.ts";
import { fixture, oldStyleVolumes } from "../runtime/sandbox.ts";
import { scratchHost } from "../support/scratch-host.ts";
import { facts, JUNK_NAMES } from "./facts.ts";
import { fileLocation, ModelServer, partsFile, QbtSession, rootFolder, type ModelFile, type ModelTorrent, type QbtVersion } from "./qbittorrent-model.ts";
import { rcloneWrapper, type RcloneMode } from "./rclone-wrapper.ts";
import { zip } from "./zip.ts";

export const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
const sha1hex = (data: string) => createHash("sha1").update(data).digest("hex");

/** An archive set from the fixtures, with what unar extracts from it. */
export interface FixtureSet {
  volumes: { name: string; data: Buffer }[];
  inner: [string, string][];
}

export interface Fixtures {
  /** `rar4-nolink.rar`: two files, one volume. */
  rarLone: FixtureSet;
  /** `multivolume.part1.rar` … `part3.rar`. */
  rarParts: FixtureSet;
  /** The same volumes with the old naming: `set.rar`, `set.r00`, `set.r01`. */
  rarOld: FixtureSet;
  /** `zip-split.zip`, `.z01`, `.z02`. */
  zipSplit: FixtureSet;
  rarEncrypted: Buffer;
  rarCorrupt: Buffer;
}

/** What every world of a run shares: the model server, the rclone wrapper, the fixtures. */
export interface Bench {
  server: ModelServer;
  rclone: ReturnType<typeof rcloneWrapper>;
  fixtures: Fixtures;
  /** The worlds' data (an ordinary disk file system: inode numbers are reused as on the host). */
  dir: string;
  /** The runtime's own state and lock files, and its temp files (a tmpfs: every state write is fsync'ed, which costs milliseconds on a disk and tells the property nothing). */
  fast: string;
  nextId: number;
  /** Removals of finished worlds still under way. */
  removals: Promise<void>[];
}

async function fixtureSet(names: string[], data?: { name: string; data: Buffer }[]): Promise<FixtureSet> {
  const volumes = data ?? names.map((name) => ({ name, data: readFileSync(fixture(name)) }));
  const dir = mkdtempSync(join(tmpdir(), "mp-fixture-"));
  for (const v of volumes) writeFileSync(join(dir, v.name), v.data);
  const out = join(dir, "out");
  await execa(requireTool("unar"), ["-q", "-f", "-D", "-o", out, join(dir, volumes[0]!.name)], { stdin: "ignore" });
  const inner = walk(out).map((p) => [relative(out, p), sha256(readFileSync(p))] as [string, string]);
  rmSync(dir, { recursive: true, force: true });
  return { volumes, inner };
}

export async function startBench(): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), "mp-property-"));
  const fast = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "mp-property-state-"));
  const server = new ModelServer();
  await server.start();
  const rclone = rcloneWrapper(join(dir, "rclone"));
  const fixtures: Fixtures = {
    rarLone: await fixtureSet(["rar4-nolink.rar"]),
    rarParts: await fixtureSet(["multivolume.part1.rar", "multivolume.part2.rar", "multivolume.part3.rar"]),
    rarOld: await fixtureSet([], oldStyleVolumes()),
    zipSplit: await fixtureSet(["zip-split.zip", "zip-split.z01", "zip-split.z02"]),
    rarEncrypted: readFileSync(fixture("rar4-encrypted.rar")),
    rarCorrupt: readFileSync(fixture("rar5-corrupt.rar")),
  };
  process.env.MEDIA_PIPELINE_RCLONE = rclone.path;
  process.env.RCLONE_CONFIG = "/dev/null";
  // The runtime's --files-from lists (os.tmpdir()).
  process.env.TMPDIR = fast;
  return { server, rclone, fixtures, dir, fast, nextId: 1, removals: [] };
}

export async function stopBench(bench: Bench): Promise<void> {
  await bench.server.stop();
  await Promise.all(bench.removals);
  rmSync(bench.dir, { recursive: true, force: true });
  rmSync(bench.fast, { recursive: true, force: true });
}

/** Every regular file below `dir`. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) visit(p);
      else if (e.isFile()) out.push(p);
    }
  };
  visit(dir);
  return out;
}

/**
 * The name rclone uses inside for a file the local backend stores as `name` (rclone's "standard"
 * encoding, which upload records use): control characters as control pictures, \n as ␊, DEL as ␡.
 * The local backend (encoding Slash,Dot) writes them back as the raw characters.
 */
export const standardName = (name: string) => name.replace(/[\x00-\x1f\x7f]/g, (c) => String.fromCodePoint(c === "\x7f" ? 0x2421 : 0x2400 + c.charCodeAt(0)));

export type NameStyle = "plain" | "unicode" | "newline" | "quotes" | "long";
export type ItemKind = "episode" | "season" | "movie" | "loose" | "single" | "nosub" | "archives" | "bad-archive";
/** How a download starts: its data already complete, a magnet without metadata, downloading in the temp folder, or downloading in place (no temp folder for it: in completed/ while incomplete). */
export type Start = "complete" | "magnet" | "downloading" | "in-place";

/** One local file as the world sees it. */
interface LocalEntry {
  sha: string;
  /** dev:ino:size:mtimeNs:ctimeNs, as upload records know a file. */
  id: string;
  /** dev:ino:size:mtimeNs, as cleanup's sightings of unreferenced files key it. */
  sid: string;
  /** dev:ino. */
  ino: string;
}

type BigStat = { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint };
const idOf = (st: BigStat) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
const sidOf = (st: BigStat) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;

/** What the world knew just before a runtime step: to tell what that step deleted and whether it could. */
export interface Before {
  local: Map<string, LocalEntry>;
  /** Paths and inodes each reported torrent lists (save and download path spellings), by hash. */
  listed: Map<string, { name: string; paths: Set<string>; inodes: Set<string> }>;
}

const byteLength = (s: string) => Buffer.byteLength(s);
/** `name` + `ext` when that fits in a path component (255 bytes), else `short` + `ext`. */
const withExt = (name: string, ext: string, short: string) => (byteLength(name) + byteLength(ext) <= 255 ? `${name}${ext}` : `${short}${ext}`);

/** A path component in `style`, `stem` first, ending in `ext`, at most 255 bytes. */
export function component(stem: string, ext: string, style: NameStyle, n: number): string {
  switch (style) {
    case "plain":
      return `${stem}.${n}${ext}`;
    case "unicode":
      return `${stem}.Ünïcødé.日本語.🎬.${n}${ext}`;
    case "newline":
      return `${stem}.Line\nBreak.${n}${ext}`;
    case "quotes":
      return `${stem}.It's "Q" $HOME & \`x\` ${n}${ext}`;
    case "long": {
      // 234 … 255 bytes: longer than the 233 a `.partial`-style suffix leaves, within NAME_MAX.
      const target = 234 + ((n * 7) % 22);
      const head = `${stem}.${n}.Ω`;
      const pad = target - byteLength(head) - byteLength(ext);
      return `${head}${"x".repeat(Math.max(0, pad))}${ext}`;
    }
  }
}

export interface WorldStats {
  /** Torrents cleanup removed, by the class of download they were. */
  removedByClass: Record<string, number>;
  torrentsAdded: number;
  deletedByCleanup: number;
  torrentsRemovedByCleanup: number;
  forgiven: number;
}

export class World {
  readonly id: number;
  readonly root: string;
  readonly remoteRoot: string;
  readonly bucket: string;
  readonly remoteName: string;
  readonly config: RuntimeConfigModel;
  readonly completed: string;
  readonly categories: { tv: string; movies: string };
  readonly temp: string;
  readonly library: { tv: string; movies: string };
  readonly session: QbtSession;
  /** The world's clock (ms); the runtime is given it as `now`. */
  clock = Date.UTC(2026, 0, 5, 12);
  /** Problems found by the model while the runtime talked to it (a torrent removed too early). */
  readonly problems: string[] = [];
  readonly stats: WorldStats = { removedByClass: {}, torrentsAdded: 0, deletedByCleanup: 0, torrentsRemovedByCleanup: 0, forgiven: 0 };
  /** Every content that was ever local (completed or a library), with a path it had. */
  readonly ever = new Map<string, string>();
  /** Contents of archive volumes the world wrote: what their set extracts to. */
  readonly archives = new Map<string, [string, string][]>();
  /** Content by identity (with ctime), and by identity without ctime for the files the world wrote. */
  private readonly identities = new Map<string, string>();
  private readonly written = new Map<string, string>();
  /** When each sighting identity (without ctime) first existed. */
  private readonly firstSeen = new Map<string, number>();
  private readonly recordedFiles = new Map<string, Set<string>>();
  private readonly recordedSets = new Map<string, Map<string, string[]>>();
  /** What each torrent's files should hold (for a re-download), by hash and file name. */
  private readonly data = new Map<string, Map<string, Buffer>>();
  /** The class of each torrent (by hash), for the statistics. */
  readonly labels = new Map<string, string>();
  private seq = 0;
  private stampSeq = 0;
  /** The contents on disk after the last step. */
  private localShas = new Set<string>();
  private url: string;
  private readonly fastRoot: string;

  constructor(
    private readonly bench: Bench,
    version: QbtVersion,
  ) {
    this.id = bench.nextId++;
    this.root = mkdtempSync(join(bench.dir, `w${this.id}-`));
    const host = scratchHost(this.root, { quietPeriodSeconds: 120 });
    this.remoteName = `w${this.id}`;
    this.remoteRoot = join(this.root, "remote");
    this.bucket = join(this.remoteRoot, builder.b2.bucket);
    mkdirSync(this.bucket, { recursive: true });
    this.session = new QbtSession(version);
    const base = host.config;
    const fast = mkdtempSync(join(bench.fast, `w${this.id}-`));
    this.fastRoot = fast;
    this.config = {
      ...base,
      stateDir: join(fast, "state"),
      lockDir: join(fast, "run"),
      remote: `${this.remoteName}:${builder.b2.bucket}`,
      cleanup: { ...base.cleanup, maxDeletionsPerRun: 4 },
      qbittorrent: { ...base.qbittorrent, waitSeconds: 0 },
    };
    this.url = bench.server.register(this.id, this.session, this.config.cleanup.seedingPeriodSeconds, this.problems);
    this.config.qbittorrent.url = this.url;
    mkdirSync(this.config.stateDir, { recursive: true });
    mkdirSync(this.config.lockDir, { recursive: true });
    this.completed = this.config.upload.sources.find((s) => s.kind === "uncategorized")!.path;
    this.categories = { tv: this.config.qbittorrent.categories["tv-sonarr"]!, movies: this.config.qbittorrent.categories["radarr"]! };
    this.temp = this.config.upload.tempPath;
    this.library = { tv: host.path("/media/arr/tv"), movies: host.path("/media/arr/movies") };
    process.env[`RCLONE_CONFIG_W${this.id}_TYPE`] = "alias";
    process.env[`RCLONE_CONFIG_W${this.id}_REMOTE`] = this.remoteRoot;
  }

  dispose(): void {
    this.bench.server.unregister(this.id);
    this.bench.rclone.setMode(this.remoteName, "ok");
    delete process.env[`RCLONE_CONFIG_W${this.id}_TYPE`];
    delete process.env[`RCLONE_CONFIG_W${this.id}_REMOTE`];
    // Off the main thread: removing a world's folders is most of a world step's cost otherwise.
    const removal = Promise.all([rm(this.root, { recursive: true, force: true }), rm(this.fastRoot, { recursive: true, force: true })]).then(() => {
      this.bench.removals.splice(this.bench.removals.indexOf(removal), 1);
    });
    this.bench.removals.push(removal);
  }

  get settings() {
    return this.config.cleanup;
  }

  /** The config the runtime gets: qBittorrent down is a port nothing listens on. */
  configFor(api: "ok" | "down" | "error"): RuntimeConfigModel {
    this.session.mode = api === "error" ? "error" : "ok";
    if (api !== "down") return this.config;
    return { ...this.config, qbittorrent: { ...this.config.qbittorrent, url: "http://127.0.0.1:9" } };
  }

  setRclone(mode: RcloneMode): void {
    this.bench.rclone.setMode(this.remoteName, mode);
  }

  // ---- files -------------------------------------------------------------------------------

  private n(): number {
    return ++this.seq;
  }

  /** Unique content: `label`, a counter, and `pad` bytes, so two files never share one by accident. */
  content(label: string, pad = 0): Buffer {
    return Buffer.from(`${label} #${String(this.n()).padStart(6, "0")} ${"~".repeat(pad)}\n`);
  }

  /**
   * Gives a file a modification time of its own (the clock plus a counter, in microseconds) and
   * remembers its identity. Real downloads get nanosecond times far apart; a reused inode with the
   * same size and time as a file that was deleted would be a coincidence no runtime can detect.
   */
  private stamp(path: string, data: Buffer): void {
    for (;;) {
      const t = this.clock / 1000 + ++this.stampSeq * 1e-5;
      utimesSync(path, t, t);
      const st = lstatSync(path, { bigint: true });
      const sid = sidOf(st);
      const known = this.written.get(sid);
      if (known !== undefined && known !== sha256(data)) continue;
      this.written.set(sid, sha256(data));
      this.identities.set(idOf(st), sha256(data));
      if (!this.firstSeen.has(sid)) this.firstSeen.set(sid, this.clock);
      return;
    }
  }

  write(path: string, data: Buffer): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
    this.stamp(path, data);
  }

  // ---- torrents ----------------------------------------------------------------------------

  private hash(label: string): string {
    return sha1hex(`${this.id} ${label} ${this.n()}`);
  }

  /** Adds a torrent whose files (names relative to `savePath`, root folder included) hold `data`: complete (written to the save path), a magnet (nothing written), or downloading (written to the temp folder). */
  addTorrent(input: { name: string; category: string; savePath: string; files: { name: string; data: Buffer; priority?: number }[]; start: Start }): ModelTorrent {
    const hash = this.hash(input.name);
    const files: ModelFile[] = input.files.map((f) => ({ name: f.name, size: f.data.length, priority: f.priority ?? 1, at: input.start === "complete" || input.start === "in-place" ? "save" : "temp" }));
    const complete = input.start === "complete";
    const t: ModelTorrent = {
      hash,
      name: input.name,
      category: input.category,
      savePath: input.savePath,
      downloadPath: input.start === "in-place" ? "" : this.temp,
      files,
      phase: complete ? "complete" : input.start === "magnet" ? "metaDL" : "downloading",
      // Added with its data complete: checkingResumeData until the next tick (F.firstAnswer).
      fresh: complete,
      stopped: false,
      queued: false,
      progress: complete ? 1 : input.start === "magnet" ? 0 : 0.5,
      seedingSeconds: 0,
      seedingReported: 0,
      stoppedSeconds: 0,
      seededPhysically: 0,
      addedOn: Math.floor(this.clock / 1000),
      completionOn: complete ? Math.floor(this.clock / 1000) : facts(this.session.version).neverCompleted,
    };
    this.data.set(hash, new Map(input.files.map((f) => [f.name, f.data])));
    if (input.start !== "magnet") {
      // Downloading in place: full size, its last piece not there yet (a zero byte).
      const partial = (data: Buffer) => Buffer.concat([data.subarray(0, data.length - 1), Buffer.alloc(1)]);
      for (const [i, f] of files.entries()) if (f.priority > 0) this.write(fileLocation(t, f), input.start === "in-place" ? partial(input.files[i]!.data) : input.files[i]!.data);
    }
    if (complete) this.completed_(t);
    this.session.torrents.push(t);
    this.stats.torrentsAdded++;
    return t;
  }

  /** A download that finished: with a skipped file, the bytes of its shared pieces stay in .<hash>.parts in the save path (F.skippedFile). */
  private completed_(t: ModelTorrent): void {
    if (t.files.some((f) => f.priority === 0)) this.write(partsFile(t), this.content("parts of skipped pieces"));
  }

  private registerZip(entries: { name: string; data: Buffer }[], options: { encrypted?: boolean; corrupt?: boolean } = {}): Buffer {
    const data = zip(entries, options);
    if (!options.encrypted && !options.corrupt) this.archives.set(sha256(data), entries.map((e) => [e.name, sha256(e.data)]));
    return data;
  }

  private registerSet(set: FixtureSet): void {
    for (const v of set.volumes) this.archives.set(sha256(v.data), set.inner);
  }

  /** A download of one of the classes the property covers; returns the torrent. */
  add(kind: ItemKind, style: NameStyle, v: number, start: Start): ModelTorrent {
    const t = this.addOfKind(kind, style, v, start);
    this.labels.set(t.hash, kind);
    return t;
  }

  private addOfKind(kind: ItemKind, style: NameStyle, v: number, start: Start): ModelTorrent {
    const n = this.n();
    const media = (label: string) => this.content(`${label} media`, v % 5);
    const fx = this.bench.fixtures;
    switch (kind) {
      case "episode": {
        const stem = `Show.S01E0${(v % 9) + 1}.1080p-GRP`;
        if (v % 2 === 0) {
          // A single-file torrent: its content path is the file itself.
          const file = component(stem, ".mkv", style, n);
          return this.addTorrent({ name: file, category: "tv-sonarr", savePath: this.categories.tv, files: [{ name: file, data: media(file) }], start });
        }
        const name = component(stem, "", style, n);
        const files = [{ name: `${name}/${component("Show.S01E01", ".mkv", style === "long" ? "plain" : style, n)}`, data: media(name) }];
        if (v % 3 === 0) files.push({ name: `${name}/Sample/sample.mkv`, data: this.content("a real sample") });
        files.push({ name: `${name}/${withExt(name, ".nfo", "info")}`, data: this.content("nfo") });
        return this.addTorrent({ name, category: "tv-sonarr", savePath: this.categories.tv, files, start });
      }
      case "season": {
        const name = component("Show.S02.1080p-PACK", "", style, n);
        const files = [1, 2, 3].map((e) => ({
          // The second episode is named like a sample: it is one, as far as a name can tell.
          name: `${name}/${e === 2 ? `Show.S02E02.Sample.Size.Episode.mkv` : `Show.S02E0${e}.mkv`}`,
          data: media(`${name} E${e}`),
        }));
        files.push({ name: `${name}/pack.nfo`, data: this.content("nfo") });
        return this.addTorrent({ name, category: "tv-sonarr", savePath: this.categories.tv, files, start });
      }
      case "movie": {
        const name = component("Movie.2020.1080p", "", style, n);
        const files: { name: string; data: Buffer; priority?: number }[] = [
          { name: `${name}/${withExt(name, ".mkv", "movie")}`, data: media(name) },
          { name: `${name}/Sample/movie-sample.mkv`, data: this.content("movie sample") },
        ];
        // "Do not download": the file is never written, and the torrent is complete without it.
        if (v % 3 === 1) files.push({ name: `${name}/Extras/skipped.mkv`, data: this.content("never downloaded"), priority: 0 });
        return this.addTorrent({ name, category: "radarr", savePath: this.categories.movies, files, start });
      }
      case "loose": {
        const name = component("Some.Release", "", style, n);
        const files = [
          { name: `${name}/${component("video", ".mkv", style === "long" ? "plain" : style, n)}`, data: media(name) },
          // Media named like a sample: nothing is exempt by its name.
          { name: `${name}/sample.mkv`, data: media("sample-named") },
          { name: `${name}/release.nfo`, data: this.content("nfo") },
        ];
        return this.addTorrent({ name, category: "", savePath: this.completed, files, start });
      }
      case "single": {
        // A single-file torrent directly in completed/: a video, or a lone archive.
        if (v % 3 === 0) {
          const name = component("Lone.Video", ".mkv", style, n);
          return this.addTorrent({ name, category: "", savePath: this.completed, files: [{ name, data: media(name) }], start });
        }
        if (v % 3 === 1) {
          const name = component("Lone.Zip", ".zip", style, n);
          const data = this.registerZip([{ name: "movie.mkv", data: media("inside lone zip") }, { name: "Subs/en.srt", data: this.content("subs") }]);
          return this.addTorrent({ name, category: "", savePath: this.completed, files: [{ name, data }], start });
        }
        const name = component("Lone.Rar", ".rar", style, n);
        this.registerSet(fx.rarLone);
        return this.addTorrent({ name, category: "", savePath: this.completed, files: [{ name, data: fx.rarLone.volumes[0]!.data }], start });
      }
      case "nosub": {
        // Added without a subfolder: its files sit in completed/ itself, its content path is the save path.
        const stem = component("NoSub", "", style === "long" ? "plain" : style, n);
        const files = [
          { name: `${stem}.mkv`, data: media(stem) },
          { name: `${stem}.nfo`, data: this.content("nfo") },
        ];
        return this.addTorrent({ name: stem, category: "", savePath: this.completed, files, start });
      }
      case "archives": {
        const name = component("Archived.Release", "", style, n);
        // Two sets holding the same inner name with different content, and a loose file of that name.
        const files = [
          { name: `${name}/cd1.zip`, data: this.registerZip([{ name: "movie.mkv", data: media("cd1") }]) },
          { name: `${name}/cd2.zip`, data: this.registerZip([{ name: "movie.mkv", data: media("cd2") }]) },
          { name: `${name}/movie.mkv`, data: media("loose, named like the inner file") },
        ];
        const extra = v % 4;
        const set = extra === 1 ? fx.rarParts : extra === 2 ? fx.rarOld : extra === 3 ? fx.zipSplit : undefined;
        if (set) {
          this.registerSet(set);
          for (const vol of set.volumes) files.push({ name: `${name}/${vol.name}`, data: vol.data });
        }
        return this.addTorrent({ name, category: "", savePath: this.completed, files, start });
      }
      case "bad-archive": {
        const name = component("Broken.Archive", "", style, n);
        const which = v % 4;
        const bad =
          which === 0
            ? { file: "release.zip", data: this.registerZip([{ name: "movie.mkv", data: media("encrypted") }], { encrypted: true }) }
            : which === 1
              ? { file: "release.zip", data: this.registerZip([{ name: "movie.mkv", data: media("corrupt") }], { corrupt: true }) }
              : which === 2
                ? { file: "release.rar", data: fx.rarEncrypted }
                : { file: "release.rar", data: fx.rarCorrupt };
        const files = [
          { name: `${name}/${bad.file}`, data: bad.data },
          { name: `${name}/release.nfo`, data: this.content("nfo") },
        ];
        return this.addTorrent({ name, category: "", savePath: this.completed, files, start });
      }
    }
  }

  private pick<T>(list: readonly T[], index: number): T | undefined {
    return list.length === 0 ? undefined : list[index % list.length];
  }

  torrent(index: number): ModelTorrent | undefined {
    return this.pick(this.session.torrents, index);
  }

  /** A cross-seed: another torrent of the same folder with one more file, written just now (F.crossSeed). */
  crossSeed(index: number): ModelTorrent | undefined {
    const t = this.pick(
      this.session.torrents.filter((x) => x.phase === "complete" && rootFolder(x.files) !== undefined),
      index,
    );
    return t && this.crossSeedOf(t, `extra.${this.n()}.mkv`);
  }

  crossSeedOf(t: ModelTorrent, extraName: string): ModelTorrent {
    const root = rootFolder(t.files)!;
    const known = this.data.get(t.hash) ?? new Map<string, Buffer>();
    const extra = { name: `${root}/${extraName}`, data: this.content("cross-seed extra") };
    const files = [...t.files.map((f) => ({ name: f.name, data: known.get(f.name) ?? Buffer.alloc(0), priority: f.priority })), { ...extra, priority: 1 }];
    const hash = this.hash(`${t.name} cross-seed`);
    const c: ModelTorrent = {
      ...t,
      hash,
      files: files.map((f) => ({ name: f.name, size: f.data.length, priority: f.priority, at: "save" })),
      fresh: true,
      seedingSeconds: 0,
      seedingReported: 0,
      stoppedSeconds: 0,
      seededPhysically: 0,
      stopped: false,
      queued: false,
      addedOn: Math.floor(this.clock / 1000),
      completionOn: Math.floor(this.clock / 1000),
    };
    this.data.set(hash, new Map(files.map((f) => [f.name, f.data])));
    this.labels.set(hash, "cross-seed");
    this.write(join(t.savePath, extra.name), extra.data);
    this.session.torrents.push(c);
    this.stats.torrentsAdded++;
    return c;
  }

  /**
   * The same torrent name again with new content (a repack): the old torrent is removed (with its
   * files, or without and then overwritten in place by the new download), the new one has a new hash
   * and, when `sameSize`, files of the very same sizes.
   */
  reAdd(index: number, deleteOld: boolean, sameSize: boolean): void {
    const t = this.pick([...this.session.torrents, ...this.session.lost].filter((x) => x.phase !== "metaDL"), index);
    if (!t) return;
    if (this.session.torrents.includes(t)) this.session.remove(t, deleteOld);
    else this.session.lost = this.session.lost.filter((x) => x !== t);
    const files = t.files.map((f) => {
      const old = this.data.get(t.hash)?.get(f.name);
      // Same size: a short unique head padded to the old length (every content here is longer than it).
      const data = sameSize && old ? Buffer.concat([Buffer.from(`R${this.n()}\n`), Buffer.alloc(old.length, 0x2e)]).subarray(0, old.length) : this.content("repack", 3);
      return { name: f.name, data, priority: f.priority };
    });
    const repack = this.addTorrent({ name: t.name, category: t.category, savePath: t.savePath, files, start: "complete" });
    this.labels.set(repack.hash, "re-added with new content");
  }

  /** Sonarr or Radarr importing: a hard link (or a copy) with a clean name in the library. */
  importToLibrary(index: number, allButOne: boolean, copy: boolean): void {
    const t = this.pick(
      this.session.torrents.filter((x) => x.category !== "" && x.phase === "complete"),
      index,
    );
    if (!t) return;
    const media = t.files.filter((f) => f.name.endsWith(".mkv") && !f.name.includes("/Sample/") && f.priority > 0 && existsSync(fileLocation(t, f)));
    const chosen = allButOne ? media.slice(0, Math.max(1, media.length - 1)) : media.slice(0, 1);
    const show = t.category === "tv-sonarr";
    for (const f of chosen) {
      const tag = sha1hex(`${t.hash}/${f.name}`).slice(0, 8);
      const base = Array.from(t.name.split("\n").join(" ")).slice(0, 60).join("");
      const target = show ? join(this.library.tv, `Show ${base}`, "Season 01", `Show - ${tag}.mkv`) : join(this.library.movies, `Movie ${base}`, `Movie ${tag}.mkv`);
      if (existsSync(target)) continue;
      this.replacesOnRemote(target);
      mkdirSync(dirname(target), { recursive: true });
      if (copy) {
        copyFileSync(fileLocation(t, f), target);
        this.stamp(target, readFileSync(target));
      } else linkSync(fileLocation(t, f), target);
    }
  }

  /**
   * An import to a library path whose earlier file is no longer on disk (cleanup freed it once it was
   * on the remote) replaces that file, as a Sonarr or Radarr upgrade does: libraries are uploaded
   * without --immutable (runtime/upload.ts), so the next upload puts the new file over the remote copy
   * at that path, by design (docs/bad-input.md: "Library file replaced under the same name", test/runtime/upload.test.ts).
   * A content that then has no other safe copy is the world's loss, as if it had replaced the file on disk.
   */
  private replacesOnRemote(target: string): void {
    const source = this.config.upload.sources.find((s) => s.kind === "library" && target.startsWith(`${s.path}/`));
    if (!source) return;
    const remotePath = `${source.prefix}${standardName(relative(source.path, target))}`;
    const remote = this.observeRemote();
    if (!remote.has(remotePath)) return;
    const without = new Map(remote);
    without.delete(remotePath);
    for (const [sha] of this.ever) {
      if (this.localShas.has(sha) || !this.safeOnRemote(sha, remote) || this.safeOnRemote(sha, without)) continue;
      this.ever.delete(sha);
      this.stats.forgiven++;
    }
  }

  /** Moves a torrent one step along its life (metadata → download → moving → complete; missing files downloaded again). */
  advance(index: number): void {
    const t = this.pick(
      this.session.torrents.filter((x) => x.phase === "metaDL" || x.phase === "downloading" || x.phase === "moving" || x.phase === "missingFiles"),
      index,
    );
    if (!t) return;
    const data = this.data.get(t.hash)!;
    const finish = () => {
      t.phase = "complete";
      t.progress = 1;
      t.completionOn = Math.floor(this.clock / 1000);
      this.completed_(t);
      this.session.touch(t);
    };
    switch (t.phase) {
      case "metaDL":
        // The metadata arrives and the download runs: its files in the temp folder.
        t.phase = "downloading";
        t.progress = 0.5;
        for (const f of t.files) if (f.priority > 0) this.write(fileLocation(t, f), data.get(f.name)!);
        return;
      case "downloading":
        if (t.files.some((f) => f.at === "temp") && t.movingTo === undefined) {
          // Finished: moved out of the temp folder, half of the files at this step.
          t.phase = "moving";
          this.session.moveFiles(t, Math.ceil(t.files.length / 2));
          return;
        }
        // Downloading where it is (in place, or rechecked with data missing, F.missingRechecked): the missing bytes arrive.
        for (const f of t.files) {
          const path = fileLocation(t, f);
          const want = data.get(f.name)!;
          if (f.priority > 0 && (!existsSync(path) || !readFileSync(path).equals(want))) this.write(path, want);
        }
        return finish();
      case "moving":
        if (t.movingTo !== undefined) return;
        this.session.moveFiles(t, t.files.length);
        return finish();
      case "missingFiles":
        // The user rechecks it (F.missingAfterRestartRechecked: then a download).
        t.resume = "complete";
        t.phase = "checking";
        return;
      default:
        return;
    }
  }

  setState(index: number, to: "stop" | "start" | "queue" | "recheck"): void {
    const t = this.torrent(index);
    if (!t) return;
    if (to === "stop") t.stopped = true;
    else if (to === "start") {
      t.stopped = false;
      t.queued = false;
    } else if (to === "queue") t.queued = t.phase === "complete";
    else if (t.phase === "complete" && !t.fresh) {
      t.resume = "complete";
      t.phase = "checking";
    }
    this.session.touch(t);
  }

  /** WebUI renameFile / renameFolder of a torrent picked by index: a file gets a new name in its folder, or the root folder a new name. */
  rename(index: number, file: number, folder: boolean): void {
    const t = this.pick(
      this.session.torrents.filter((x) => x.phase !== "metaDL"),
      index,
    );
    if (!t || t.files.length === 0) return;
    const n = this.n();
    const root = rootFolder(t.files);
    if (folder && root !== undefined) return this.renamePath(t, root, `${Array.from(root).slice(0, 150).join("")}.renamed${n}`);
    const f = t.files[file % t.files.length]!;
    const slash = f.name.lastIndexOf("/");
    const dot = f.name.lastIndexOf(".");
    const ext = dot > slash ? f.name.slice(dot) : "";
    this.renamePath(t, f.name, `${f.name.slice(0, slash + 1)}renamed.${n}${ext}`);
  }

  /**
   * /torrents/renameFile and /torrents/renameFolder: the file `old`, or every file under the folder
   * `old/`, is renamed in the list and on disk (F.renamedFile); a renamed folder is gone from the
   * disk afterwards, unless something else is left in it (F.renamedFolders).
   */
  renamePath(t: ModelTorrent, old: string, to: string): void {
    const data = this.data.get(t.hash)!;
    const isFolder = t.files.some((f) => f.name.startsWith(`${old}/`));
    for (const f of t.files) {
      if (f.name !== old && !f.name.startsWith(`${old}/`)) continue;
      const from = fileLocation(t, f);
      const name = `${to}${f.name.slice(old.length)}`;
      const content = data.get(f.name);
      data.delete(f.name);
      if (content) data.set(name, content);
      f.name = name;
      const dest = fileLocation(t, f);
      if (existsSync(from)) {
        mkdirSync(dirname(dest), { recursive: true });
        renameSync(from, dest);
      }
    }
    if (!isFolder) return;
    for (const base of new Set([t.savePath, t.downloadPath].filter(Boolean))) {
      for (const p of walkDirs(join(base, old)).sort((a, b) => b.length - a.length)) {
        try {
          rmdirSync(p);
        } catch {
          /* not empty */
        }
      }
    }
  }

  /**
   * Content rewritten in place with its size kept and its modification time put back (a tagger that
   * preserves times, a bad sector remapped): only the change time tells. The old content is the
   * world's loss; the new one must not pass for uploaded.
   */
  rewriteInPlace(index: number, file: number): void {
    const t = this.pick(
      this.session.torrents.filter((x) => x.phase === "complete"),
      index,
    );
    const f = t && this.pick(t.files.filter((x) => existsSync(fileLocation(t, x))), file);
    if (!t || !f) return;
    const path = fileLocation(t, f);
    const old = readFileSync(path);
    const st = lstatSync(path, { bigint: true });
    const fresh = Buffer.concat([Buffer.from(`W${this.n()}\n`), Buffer.alloc(old.length, 0x2c)]).subarray(0, old.length);
    writeFileSync(path, fresh);
    const ns = st.mtimeNs % 1_000_000_000n;
    execFileSync("touch", ["-m", "-d", `@${st.mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, "0")}`, path]);
    this.data.get(t.hash)?.set(f.name, fresh);
  }

  /** The user deletes one file of a torrent by hand (qBittorrent notices at its next check). */
  userDeletes(index: number, file: number): void {
    const t = this.pick(
      this.session.torrents.filter((x) => x.phase === "complete"),
      index,
    );
    const f = t && this.pick(t.files, file);
    if (!t || !f) return;
    rmSync(fileLocation(t, f), { force: true });
  }

  webuiRemove(index: number, deleteFiles: boolean): void {
    const t = this.torrent(index);
    if (t) this.session.remove(t, deleteFiles);
  }

  /** qBittorrent restarted and lost part of its session: every other torrent is gone from its answers. */
  loseSome(pick: number): void {
    const keep: ModelTorrent[] = [];
    this.session.torrents.forEach((t, i) => ((i + pick) % 2 === 0 ? this.session.lost.push(t) : keep.push(t)));
    this.session.torrents = keep;
  }

  /** The user adds a lost torrent again: the same hash, checked, seeding from zero, added and completed anew (F.reAdded). */
  reAddLost(pick: number): void {
    const t = this.pick(this.session.lost, pick);
    if (!t) return;
    this.session.lost = this.session.lost.filter((x) => x !== t);
    this.addAgain(t);
  }

  addAgain(t: ModelTorrent): ModelTorrent {
    const at = Math.floor(this.clock / 1000);
    const again: ModelTorrent = { ...t, files: t.files.map((f) => ({ ...f })), phase: "checking", resume: "complete", fresh: true, seedingSeconds: 0, seedingReported: 0, stoppedSeconds: 0, seededPhysically: 0, stopped: false, queued: false, addedOn: at, completionOn: at };
    this.session.torrents.push(again);
    return again;
  }

  /** The user moves a seed to another folder (setLocation, or a category change): "moving" until the next tick (F.moving). */
  relocate(index: number, target: number): void {
    const t = this.pick(
      this.session.torrents.filter((x) => x.phase === "complete" && !x.fresh),
      index,
    );
    if (!t) return;
    const places = [this.completed, this.categories.tv, this.categories.movies].filter((p) => p !== t.savePath);
    this.session.startMove(t, places[target % places.length]!);
  }

  /** A file manager leaves junk (Thumbs.db, desktop.ini, x~, a hidden .DS_Store) or the user a note in a torrent's folder. */
  leaveJunk(index: number, which: number): void {
    const t = this.pick(
      this.session.torrents.filter((x) => x.phase === "complete" && rootFolder(x.files) !== undefined),
      index,
    );
    if (!t) return;
    const names = [...JUNK_NAMES, ".DS_Store", "notes.txt"];
    const name = names[which % names.length]!;
    const path = join(t.savePath, rootFolder(t.files)!, name);
    if (!existsSync(path)) this.write(path, this.content(`junk ${name}`));
  }

  /** A remote object disappears, or its bytes change with its size kept. */
  damageRemote(pick: number, how: "vanish" | "corrupt"): void {
    const objects = walk(this.bucket).sort();
    const victim = this.pick(objects, pick);
    if (!victim) return;
    if (how === "vanish") rmSync(victim);
    else {
      const data = readFileSync(victim);
      if (data.length === 0) return;
      data[0] = data[0]! ^ 0x20;
      writeFileSync(victim, data);
    }
  }

  passTime(seconds: number, refresh: boolean): void {
    this.clock += seconds * 1000;
    this.session.tick(seconds, refresh, (p) => existsSync(p));
  }

  restart(pick: number): void {
    this.session.restart((i) => (i + pick) % 2 === 0);
  }

  // ---- the property ------------------------------------------------------------------------

  private observeLocal(withTemp: boolean): Map<string, LocalEntry> {
    const local = new Map<string, LocalEntry>();
    const roots = [this.completed, this.library.tv, this.library.movies, ...(withTemp ? [this.temp] : [])];
    for (const root of roots) {
      for (const path of walk(root)) {
        const st = lstatSync(path, { bigint: true });
        const id = idOf(st);
        const sid = sidOf(st);
        let sha = this.identities.get(id);
        if (sha === undefined) {
          // A new name or link (the change time moved), or content the world rewrote in place.
          sha = sha256(readFileSync(path));
          this.identities.set(id, sha);
        }
        if (!this.firstSeen.has(sid)) this.firstSeen.set(sid, this.clock);
        local.set(path, { sha, id, sid, ino: `${st.dev}:${st.ino}` });
      }
    }
    return local;
  }

  /** The bucket's objects by the name rclone gives them (standardName: a line break is ␊). */
  private observeRemote(): Map<string, string> {
    const remote = new Map<string, string>();
    for (const p of walk(this.bucket)) remote.set(standardName(relative(this.bucket, p)), sha256(readFileSync(p)));
    return remote;
  }

  /** Reads the upload records: which remote paths vouch for which content. */
  private readRecords(): void {
    let doc: { records?: Record<string, { size: number; mtimeNs: string; ctimeNs: string; kind: string; copies: { remotePath: string }[] }> };
    try {
      doc = JSON.parse(readFileSync(join(this.config.stateDir, "uploads.json"), "utf8"));
    } catch {
      return;
    }
    for (const [key, r] of Object.entries(doc.records ?? {})) {
      const sha = this.identities.get(`${key}:${r.size}:${r.mtimeNs}:${r.ctimeNs}`);
      if (sha === undefined) continue;
      const paths = r.copies.map((c) => c.remotePath);
      if (r.kind === "archive-volume") {
        const sets = this.recordedSets.get(sha) ?? new Map<string, string[]>();
        sets.set(JSON.stringify(paths), paths);
        this.recordedSets.set(sha, sets);
      } else {
        const set = this.recordedFiles.get(sha) ?? new Set<string>();
        for (const p of paths) set.add(p);
        this.recordedFiles.set(sha, set);
      }
    }
  }

  /** Whether `sha` is byte-identical on the remote at a path a record of it named (or, for a volume, its whole set is). */
  private safeOnRemote(sha: string, remote: Map<string, string>): boolean {
    for (const p of this.recordedFiles.get(sha) ?? []) if (remote.get(p) === sha) return true;
    const inner = this.archives.get(sha);
    if (!inner || inner.length === 0) return false;
    for (const copies of this.recordedSets.get(sha)?.values() ?? []) {
      const [firstRel] = inner[0]!;
      const prefixes = copies.filter((c) => c.endsWith(`/${firstRel}`)).map((c) => c.slice(0, c.length - firstRel.length));
      if (prefixes.some((prefix) => inner.every(([rel, s]) => copies.includes(prefix + rel) && remote.get(prefix + rel) === s))) return true;
    }
    return false;
  }

  /** What the runtime step about to run could see and must respect. */
  before(): Before {
    const local = this.observeLocal(true);
    const inodeOf = (p: string) => local.get(p)?.ino;
    const listed = new Map<string, { name: string; paths: Set<string>; inodes: Set<string> }>();
    for (const t of this.session.reported()) {
      const paths = new Set<string>();
      const inodes = new Set<string>();
      if (t.phase !== "metaDL") {
        for (const f of t.files) {
          for (const base of [t.savePath, t.downloadPath].filter(Boolean)) {
            const p = join(base, f.name);
            paths.add(p);
            const ino = inodeOf(p);
            if (ino) inodes.add(ino);
          }
        }
      }
      listed.set(t.hash, { name: t.name, paths, inodes });
    }
    return { local, listed };
  }

  /**
   * The property after a step. After a world step, whatever is no longer anywhere is forgiven (the
   * world removed it). After a runtime step (`before` given): nothing may be lost, no torrent may
   * have left before its seeding period (the model checks that as it happens), every file the step
   * deleted must have been listed by a torrent it removed (or be a hard link of one) and listed by
   * no torrent that remains, or be an orphan no torrent listed that existed for the orphan grace
   * period, and the configured folders must all still be there.
   */
  check(before?: Before): string[] {
    const local = this.observeLocal(before !== undefined);
    const shas = new Set<string>();
    for (const [path, e] of local) {
      if (path.startsWith(`${this.temp}/`)) continue;
      shas.add(e.sha);
      if (!this.ever.has(e.sha)) this.ever.set(e.sha, path);
    }
    const previous = this.localShas;
    this.localShas = shas;
    if (!before) {
      // A world step: what it removed from the disk (deleted, or overwritten in place) is its own doing,
      // whatever the remote holds; and so is a remote copy it damaged of something no longer on disk.
      const remote = this.observeRemote();
      for (const [sha] of this.ever) {
        if (shas.has(sha) || (!previous.has(sha) && this.safeOnRemote(sha, remote))) continue;
        this.ever.delete(sha);
        this.stats.forgiven++;
      }
      return [];
    }
    this.readRecords();
    const remote = this.observeRemote();
    const lost: string[] = [];
    for (const [sha, path] of this.ever) if (!shas.has(sha) && !this.safeOnRemote(sha, remote)) lost.push(path);
    const problems = [...this.problems.splice(0), ...lost.map((p) => `lost ${JSON.stringify(relative(this.root, p))}: not on disk, and not byte-identical on the remote at a path its upload record names`)];
    const deletions = this.session.apiDeletions.splice(0);
    this.stats.torrentsRemovedByCleanup += deletions.length;
    for (const d of deletions) {
      const label = this.labels.get(d.hash) ?? "?";
      this.stats.removedByClass[label] = (this.stats.removedByClass[label] ?? 0) + 1;
    }
    const removed = new Set(deletions.map((d) => d.hash));
    const removedPaths = new Set<string>();
    const removedInodes = new Set<string>();
    for (const d of deletions) {
      const l = before.listed.get(d.hash);
      for (const p of [...(l?.paths ?? []), ...d.paths]) removedPaths.add(p);
      for (const i of l?.inodes ?? []) removedInodes.add(i);
    }
    const remaining = [...before.listed].filter(([hash]) => !removed.has(hash));
    for (const [path, e] of before.local) {
      if (local.has(path)) continue;
      this.stats.deletedByCleanup++;
      const rel = JSON.stringify(relative(this.root, path));
      if (path.startsWith(`${this.temp}/`)) problems.push(`cleanup deleted ${rel} in qBittorrent's temp folder`);
      const holder = remaining.find(([, l]) => l.paths.has(path) || l.inodes.has(e.ino));
      if (holder) {
        problems.push(`cleanup deleted ${rel}, which torrent ${JSON.stringify(holder[1].name)} (still in qBittorrent) lists`);
        continue;
      }
      if (removedPaths.has(path) || removedInodes.has(e.ino)) continue;
      const since = this.firstSeen.get(e.sid) ?? this.clock;
      if (this.clock - since < this.settings.orphanGraceSeconds * 1000) {
        problems.push(`cleanup deleted ${rel}, listed by no torrent it removed, ${Math.round((this.clock - since) / 1000)}s after it appeared (orphan grace ${this.settings.orphanGraceSeconds}s)`);
      }
    }
    const kept = [this.completed, this.categories.tv, this.categories.movies, this.library.tv, this.library.movies, this.temp, this.config.upload.extractDir];
    for (const dir of kept) if (!existsSync(dir)) problems.push(`the configured folder ${JSON.stringify(relative(this.root, dir))} was removed`);
    return problems;
  }
}

function walkDirs(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    out.push(d);
    for (const e of entries) if (e.isDirectory()) visit(`${d}/${e.name}`);
  };
  visit(dir);
  return out;
}
