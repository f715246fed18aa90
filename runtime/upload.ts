/**
 * `upload`: sends to the remote every file that has no current upload record, and records each one
 * rclone confirmed, with the SHA-1 the remote then reports (records.ts). Three kinds of item:
 *   - library files (clean names): `tv/Show/Season 1/S01E01.mkv`, one item per file;
 *   - uncategorized downloads in the completed folder (torrent names), one item per top-level entry:
 *     loose files go to `downloads/<item>/…`; each archive set is extracted into its own folder and
 *     what comes out goes to `extracted/<path of its first volume>/…` (the volumes stay for seeding);
 *   - extras: files of a torrent past its seeding period that no record covers (samples, .nfo, an
 *     episode Sonarr skipped), to `downloads/<torrent name>/…`, so cleanup can free the torrent.
 * One rclone process per scan root and destination, never one per item (each process costs B2
 * transactions). `--checksum` always, so "unchanged" means the same hash; `--immutable` outside the
 * libraries, so a download never overwrites another's remote copy. An item modified within the quiet
 * period waits; one item's failure is logged and the others proceed (attention.ts).
 */
import { createHash } from "node:crypto";
import { readdirSync, realpathSync, rmSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { archiveSets, extractSet } from "./archives.ts";
import { Attention } from "./attention.ts";
import { readCleanupState } from "./cleanup/sightings.ts";
import { spell, walkFiles, type LocalFile } from "./files.ts";
import type { RuntimeConfigModel } from "./config.ts";
import { runJob, plural, type JobContext, type JobOptions } from "./job.ts";
import { formatBytes, formatSeconds, log, q } from "./log.ts";
import { copyFiles, listRemote, rcloneName, type CopyResult } from "./rclone.ts";
import type { Torrent, TorrentFileInfo } from "./qbittorrent.ts";
import { identityKey, openRecords, statIdentity, untouched, type FileIdentity, type RecordStore, type RemoteCopy } from "./records.ts";
import { classify, torrentFilePaths } from "./torrents.ts";

const toPosix = (p: string) => p.split(sep).join("/");
const inside = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/** One file to send: `root/rel` goes to `destBase + remote` in the bucket. */
export interface SendFile {
  abs: string;
  root: string;
  rel: string;
  /** `rel` as rclone names it (control characters as control pictures); see rcloneName. */
  remote: string;
  destBase: string;
  id: FileIdentity;
}

/** A file to send, or why it cannot be sent (a name rclone cannot tell apart from another). */
function sendFile(abs: string, root: string, rel: string, destBase: string, id: FileIdentity): SendFile | string {
  const remote = rcloneName(rel);
  if (remote === undefined) return `${q(rel)} has a control picture (␀…␡) or rclone's quote ‛ in its name, which rclone cannot tell apart from other names; rename it`;
  return { abs, root, rel, remote, destBase, id };
}

interface SetWork {
  first: string;
  /** Every file named like a volume of the set; after extraction, only those unar read (lsar's list). */
  volumes: { abs: string; id: FileIdentity }[];
  /** Each volume as a loose file, for those that turn out not to be part of the archive. */
  asLoose: Map<string, SendFile | string>;
  /** Where it is extracted: `${extractDir}/${relative path of the first volume}`. */
  target: string;
  /** `extracted/<relative path of the first volume>/`. */
  destBase: string;
  /** Filled in after extraction. */
  extracted: SendFile[];
}

export interface Item {
  key: string;
  files: SendFile[];
  /** Why the item cannot be uploaded as it is, found by the scan. */
  refusal?: string;
  sets: SetWork[];
  newestMtimeMs: number;
  immutable: boolean;
  fingerprint: string;
}

export interface UploadSummary {
  uploaded: number;
  uploadedFiles: number;
  uploadedBytes: number;
  failed: number;
  setAside: number;
  waiting: number;
  alreadyUploaded: number;
  rcloneRuns: number;
}

const mtimeMs = (id: FileIdentity) => Number(BigInt(id.mtimeNs) / 1_000_000n);

function fingerprint(ids: { path: string; id: FileIdentity }[]): string {
  const text = ids.map((f) => `${f.path}\0${f.id.dev}:${f.id.ino}:${f.id.size}:${f.id.mtimeNs}:${f.id.ctimeNs}`).sort().join("\n");
  return createHash("sha1").update(text).digest("hex");
}

/** Whether `id` has a current record naming `remotePath` among its copies. */
const isRecordedAt = (store: RecordStore, id: FileIdentity, remotePath: string) => store.current(id)?.copies.some((c) => c.remotePath === remotePath) ?? false;

interface Scan {
  items: Item[];
  alreadyUploaded: number;
  /** Identities seen by the scans: their records are alive. */
  seen: Set<string>;
  /** Identities of files an item of this run sends: extras leave them to their item. */
  claimed: Set<string>;
}

/** What qBittorrent says about the completed folder this run. */
interface Downloads {
  /** Paths qBittorrent is still writing or checking (files of incomplete or unsettled torrents). */
  busy: Set<string>;
  /** Due torrents, with their files, for the extras. */
  due: { torrent: Torrent; files: TorrentFileInfo[] }[];
}

/** Adds a file to an item, or records why it cannot go. */
function add(item: Item, file: SendFile | string): void {
  if (typeof file === "string") item.refusal ??= file;
  else item.files.push(file);
}

function scanLibrary(source: { path: string; prefix: string }, store: RecordStore, scan: Scan): void {
  const root = realpathSync(source.path);
  const files: LocalFile[] = [];
  walkFiles(root, new Set(), files);
  for (const f of files) {
    scan.seen.add(identityKey(f.id));
    const rel = toPosix(relative(root, f.path));
    const send = sendFile(f.path, root, rel, source.prefix, f.id);
    if (typeof send !== "string" && isRecordedAt(store, f.id, `${source.prefix}${send.remote}`)) {
      scan.alreadyUploaded++;
      continue;
    }
    const item: Item = { key: `${source.prefix}${rel}`, files: [], sets: [], newestMtimeMs: mtimeMs(f.id), immutable: false, fingerprint: fingerprint([f]) };
    add(item, send);
    scan.items.push(item);
  }
}

function scanUncategorized(config: RuntimeConfigModel, source: { path: string; prefix: string }, store: RecordStore, scan: Scan, downloads: Downloads | undefined, waiting: (item: string, why: string) => void): void {
  const root = realpathSync(source.path);
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const excluded = new Set([...config.upload.categoryPaths, config.upload.tempPath, config.upload.extractDir].map(real));
  const types = config.upload.archiveTypes;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = `${root}/${entry.name}`;
    if (excluded.has(path) || !(entry.isDirectory() || entry.isFile())) continue;
    const found: LocalFile[] = [];
    if (entry.isDirectory()) walkFiles(path, excluded, found);
    else {
      const id = statIdentity(path);
      if (id) found.push({ path, id });
    }
    if (found.length === 0) continue;
    for (const f of found) scan.seen.add(identityKey(f.id));
    const key = `${source.prefix}${entry.name}`;
    // Only what qBittorrent has finished: a file still downloading or being checked (or its
    // `.!qB` stand-in) is not uploaded, or the remote would keep a half-written copy.
    if (!downloads) {
      waiting(key, "qBittorrent cannot be asked whether it is complete");
      continue;
    }
    const busy = found.find((f) => downloads.busy.has(f.path) || f.path.endsWith(".!qB"));
    if (busy) {
      waiting(key, `qBittorrent is still downloading or checking ${q(toPosix(relative(root, busy.path)))}`);
      continue;
    }
    const byRel = new Map(found.map((f) => [toPosix(relative(root, f.path)), f]));
    const { sets, loose, orphanVolumes } = archiveSets([...byRel.keys()], types);
    const item: Item = { key, files: [], sets: [], newestMtimeMs: Math.max(...found.map((f) => mtimeMs(f.id))), immutable: true, fingerprint: fingerprint(found) };
    let current = 0;
    const looseFile = (rel: string) => sendFile(byRel.get(rel)!.path, root, rel, source.prefix, byRel.get(rel)!.id);
    // A volume whose set has no first volume is uploaded as a file: nothing would otherwise cover it.
    for (const rel of [...loose, ...orphanVolumes]) {
      const send = looseFile(rel);
      if (typeof send !== "string" && isRecordedAt(store, send.id, `${source.prefix}${send.remote}`)) current++;
      else add(item, send);
    }
    for (const set of sets) {
      const destBase = `${config.upload.extractedPrefix}${rcloneName(set.first) ?? set.first}/`;
      const volumes = set.volumes.map((rel) => ({ abs: byRel.get(rel)!.path, id: byRel.get(rel)!.id }));
      const asLoose = new Map(set.volumes.map((rel) => [byRel.get(rel)!.path, looseFile(rel)]));
      // Current when the first volume is recorded as this set's, and every file named like a volume
      // is recorded either so or (not being part of the archive after all) as a file of its own.
      const first = store.current(volumes[0]!.id);
      const recorded =
        first?.kind === "archive-volume" &&
        first.copies.every((c) => c.remotePath.startsWith(destBase)) &&
        volumes.every((v) => {
          const r = store.current(v.id);
          const alone = asLoose.get(v.abs);
          return (r?.kind === "archive-volume" && r.copies.every((c) => c.remotePath.startsWith(destBase))) || (typeof alone !== "string" && alone !== undefined && isRecordedAt(store, v.id, `${source.prefix}${alone.remote}`));
        });
      if (recorded) current++;
      else if (rcloneName(set.first) === undefined) add(item, `${q(set.first)} has a name rclone cannot tell apart from other names; rename it`);
      else item.sets.push({ first: join(root, set.first), volumes, asLoose, target: join(config.upload.extractDir, set.first), destBase, extracted: [] });
    }
    if (item.files.length === 0 && item.sets.length === 0) {
      if (current > 0) scan.alreadyUploaded++;
      continue;
    }
    scan.items.push(item);
  }
}

/** What qBittorrent is doing in the completed folder: the files it is still writing, and its due torrents. */
async function askQbittorrent(ctx: JobContext, completed: string): Promise<Downloads> {
  const client = await ctx.qbittorrent();
  const cache = new Map<string, string>();
  const downloads: Downloads = { busy: new Set(), due: [] };
  for (const t of await client.torrents()) {
    const kind = classify(t, ctx.config.cleanup.seedingPeriodSeconds, ctx.now());
    if (kind === "seeding") continue;
    const files = await client.files(t.hash);
    if (kind === "due") downloads.due.push({ torrent: t, files });
    else {
      for (const f of files) {
        for (const p of torrentFilePaths(t, f.name)) {
          const abs = spell(p, cache);
          if (inside(abs, completed)) downloads.busy.add(abs).add(`${abs}.!qB`);
        }
      }
    }
  }
  return downloads;
}

/** Files of due torrents that no record covers, to `downloads/<torrent name>/…`. */
function scanExtras(config: RuntimeConfigModel, source: { path: string; prefix: string }, store: RecordStore, scan: Scan, downloads: Downloads): void {
  const completed = realpathSync(source.path);
  const skipped = [config.upload.tempPath, config.upload.extractDir];
  const cache = new Map<string, string>();
  for (const { torrent: t, files: listed } of downloads.due) {
    const saveRoot = spell(t.save_path.replace(/\/+$/, "") || "/", cache);
    if (!inside(saveRoot, completed)) continue;
    const item: Item = { key: `${source.prefix}${t.name} (torrent ${t.hash.slice(0, 8)})`, files: [], sets: [], newestMtimeMs: 0, immutable: true, fingerprint: "" };
    for (const f of listed) {
      const abs = spell(join(saveRoot, f.name), cache);
      if (!inside(abs, completed) || skipped.some((s) => inside(abs, s))) continue;
      const id = statIdentity(abs);
      // Covered already, or sent this run by its own item (a library file, an uncategorized download).
      if (!id || store.current(id) || scan.claimed.has(identityKey(id))) continue;
      const rel = toPosix(relative(saveRoot, abs));
      // `Name/x.nfo` of torrent `Name` goes to `downloads/Name/x.nfo`, not `downloads/Name/Name/x.nfo`.
      add(item, sendFile(abs, saveRoot, rel, rel.startsWith(`${t.name}/`) ? source.prefix : `${source.prefix}${t.name}/`, id));
    }
    if (item.files.length === 0 && !item.refusal) continue;
    item.fingerprint = fingerprint(item.files.map((f) => ({ path: f.abs, id: f.id })));
    scan.items.push(item);
  }
}

export async function upload(config: RuntimeConfigModel, options: JobOptions) {
  const summary: UploadSummary = { uploaded: 0, uploadedFiles: 0, uploadedBytes: 0, failed: 0, setAside: 0, waiting: 0, alreadyUploaded: 0, rcloneRuns: 0 };
  return runJob("upload", config, options, summary, async (ctx) => {
    await runUpload(ctx, summary);
    const parts = [
      `${plural(summary.uploaded, "item")} uploaded (${plural(summary.uploadedFiles, "file")}, ${formatBytes(summary.uploadedBytes)})`,
      `${summary.failed} failed`,
      `${summary.setAside} set aside (media-pipeline attention)`,
      `${summary.waiting} waiting (quiet period, or still in qBittorrent)`,
      `${summary.alreadyUploaded} already uploaded`,
      plural(summary.rcloneRuns, "rclone run"),
    ];
    return { parts, failed: summary.failed > 0 };
  });
}

async function runUpload(ctx: JobContext, summary: UploadSummary): Promise<void> {
  const { config } = ctx;
  const store = openRecords(config.stateDir);
  const attention = Attention.open(config.stateDir);
  // Files cleanup found missing or different on the remote: forget their records, so they go again.
  const mismatched = readCleanupState(config.stateDir).mismatched;
  const byKey = mismatched.size > 0 ? new Map(store.entries()) : new Map();
  for (const [key, at] of mismatched) {
    const record = byKey.get(key);
    if (record && Date.parse(record.uploadedAt) < at) {
      log.warn(`upload: the remote copy of ${q(record.paths[0] ?? key)} was missing or different at cleanup's last check; sending it again`);
      store.delete(key);
    }
  }
  const scan: Scan = { items: [], alreadyUploaded: 0, seen: new Set(), claimed: new Set() };
  const uncategorized = config.upload.sources.find((s) => s.kind === "uncategorized");
  let downloads: Downloads | undefined;
  if (uncategorized) {
    try {
      downloads = await askQbittorrent(ctx, realpathSync(uncategorized.path));
    } catch (error) {
      log.warn(`upload: qBittorrent cannot be asked (${(error as Error).message}): no uncategorized download and no extra is uploaded this run`);
    }
  }
  /** Every item key this run saw, uploaded or not: attention forgets the others. */
  const seenKeys = new Set<string>();
  const waiting = (key: string, why: string) => {
    seenKeys.add(key);
    log.info(`waiting: ${q(key)}: ${why}`);
    summary.waiting++;
  };
  for (const source of config.upload.sources) {
    try {
      if (source.kind === "library") scanLibrary(source, store, scan);
      else scanUncategorized(config, source, store, scan, downloads, waiting);
    } catch (error) {
      log.error(`upload: cannot scan ${q(source.path)}: ${(error as Error).message}`);
      summary.failed++;
    }
  }
  for (const item of scan.items) {
    if (attention.isSetAside(item.key, item.fingerprint)) continue;
    for (const f of item.files) scan.claimed.add(identityKey(f.id));
    for (const s of item.sets) for (const v of s.volumes) scan.claimed.add(identityKey(v.id));
  }
  if (uncategorized && downloads) scanExtras(config, uncategorized, store, scan, downloads);
  summary.alreadyUploaded = scan.alreadyUploaded;

  const quietMs = config.upload.quietPeriodSeconds * 1000;
  const pending: Item[] = [];
  for (const item of scan.items) {
    seenKeys.add(item.key);
    if (attention.isSetAside(item.key, item.fingerprint)) {
      summary.setAside++;
      continue;
    }
    const age = ctx.now() - item.newestMtimeMs;
    if (age < quietMs) {
      log.info(`waiting: ${q(item.key)} was modified ${formatSeconds(Math.max(age, 0))} ago; quiet period ${config.upload.quietPeriodSeconds}s`);
      summary.waiting++;
      continue;
    }
    pending.push(item);
  }
  if (summary.setAside > 0) log.warn(`upload: ${plural(summary.setAside, "item")} set aside after failing repeatedly; see media-pipeline attention`);

  if (ctx.dryRun) {
    for (const item of pending) {
      const size = item.files.reduce((n, f) => n + f.id.size, 0);
      const extract = item.sets.length > 0 ? `, extracting ${item.sets.map((s) => q(s.first)).join(", ")}` : "";
      log.info(`would upload ${q(item.key)}: ${plural(item.files.length, "file")}, ${formatBytes(size)}${extract}`);
    }
    return;
  }

  const failures = new Map<Item, string>();
  for (const item of pending) if (item.refusal) failures.set(item, item.refusal);
  try {
    // Extract each archive set into its own folder; a set that fails fails its item.
    for (const item of pending) {
      if (failures.has(item)) continue;
      for (const set of item.sets) {
        const result = await extractSet(set.first, set.target);
        if (!result.ok) {
          failures.set(item, `extraction failed: ${result.message}`);
          break;
        }
        // Only the volumes unar read hold what came out; a file merely named like one goes up as itself.
        const read = new Set(result.volumes);
        for (const v of set.volumes.filter((x) => !read.has(x.abs))) add(item, set.asLoose.get(v.abs)!);
        set.volumes = set.volumes.filter((x) => read.has(x.abs));
        const out: LocalFile[] = [];
        walkFiles(set.target, new Set(), out);
        for (const f of out) {
          const send = sendFile(f.path, config.upload.extractDir, toPosix(relative(config.upload.extractDir, f.path)), config.upload.extractedPrefix, f.id);
          if (typeof send === "string") item.refusal ??= `extracted from ${q(set.first)}: ${send}`;
          else set.extracted.push(send);
        }
        if (item.refusal) {
          failures.set(item, item.refusal);
          break;
        }
      }
    }

    refuseSharedRemoteNames(pending, failures, store, scan.seen);
    const sendable = pending.filter((i) => !failures.has(i));
    const copies = await copyAll(config, sendable, summary);
    const sentPaths = sendable.flatMap((i) => [...i.files, ...i.sets.flatMap((s) => s.extracted)]).map((f) => f.destBase + f.remote);
    let listing = new Map<string, { size: number; sha1?: string }>();
    if (sentPaths.length > 0) {
      try {
        listing = await listRemote(config.remote, sentPaths);
      } catch (error) {
        log.error(`upload: cannot list what was sent: ${(error as Error).message}; nothing is recorded this run`);
      }
    }
    const now = new Date(ctx.now()).toISOString();
    for (const item of sendable) {
      const problem = record(item, copies, listing, store, now);
      if (problem) failures.set(item, problem);
      else {
        attention.succeeded(item.key);
        const files = [...item.files, ...item.sets.flatMap((s) => s.extracted)];
        const bytes = files.reduce((n, f) => n + f.id.size, 0);
        summary.uploaded++;
        summary.uploadedFiles += files.length;
        summary.uploadedBytes += bytes;
        const sets = item.sets.length > 0 ? ` (${plural(item.sets.reduce((n, s) => n + s.extracted.length, 0), "file")} extracted from ${plural(item.sets.length, "archive set")})` : "";
        log.info(`uploaded ${q(item.key)}: ${plural(files.length, "file")}, ${formatBytes(bytes)}${sets}`);
      }
    }
  } finally {
    // The extracted copy is only a vehicle for the upload: it goes at once, uploaded or not.
    for (const item of pending) for (const set of item.sets) rmSync(set.target, { recursive: true, force: true });
  }

  for (const [item, problem] of failures) {
    summary.failed++;
    const entry = attention.failed(item.key, item.key, item.fingerprint, problem, new Date(ctx.now()), config.upload.attentionAfterFailures);
    if (entry.setAside) log.error(`failed: ${q(item.key)}: ${problem}; failed ${entry.failures} times in a row the same way, so it is set aside until its files change or \`media-pipeline retry ${JSON.stringify(item.key)}\``);
    else log.error(`failed: ${q(item.key)}: ${problem}; it will be retried on the next run`);
  }
  if (!ctx.dryRun) attention.forgetAllBut(seenKeys);
  pruneRecords(store, scan.seen);
  store.save();
  attention.save();
}

/**
 * One remote name, one local file. Two files sent to the same name in one run would leave the
 * remote holding the last, and both records would name its hash: the other file could then be
 * deleted with its content nowhere (cleanup's check cannot tell: the hash it compares is the one
 * recorded). A name recorded for another file that still exists would be overwritten the same way
 * (cleanup would keep it, its hash no longer matching, and both would be sent again and again).
 * The later item fails instead, saying with what it collides.
 */
export function refuseSharedRemoteNames(pending: readonly Item[], failures: Map<Item, string>, store: RecordStore, seen: ReadonlySet<string>): void {
  const owner = new Map<string, { key: string; item: string }>();
  // An archive's volumes share their extracted files' names, and a set sent again sends the same names: only files own names across runs.
  for (const [key, record] of store.entries()) {
    if (!seen.has(key) || record.kind !== "file") continue;
    for (const c of record.copies) owner.set(c.remotePath, { key, item: record.paths[0] ?? key });
  }
  for (const item of pending) {
    if (failures.has(item)) continue;
    const files = [...item.files.map((f) => ({ f, key: identityKey(f.id) })), ...item.sets.flatMap((s) => s.extracted.map((f) => ({ f, key: `set:${s.first}` })))];
    const claims: [string, string][] = [];
    for (const { f, key } of files) {
      const remotePath = f.destBase + f.remote;
      const first = owner.get(remotePath);
      if (first && first.key !== key) {
        failures.set(item, `${q(remotePath)} on the remote is also the name of ${q(first.item)}, a different file; one would overwrite the other. Give the two sources folders of their own`);
        break;
      }
      claims.push([remotePath, key]);
    }
    if (!failures.has(item)) for (const [remotePath, key] of claims) owner.set(remotePath, { key, item: item.key });
  }
}

type Copies = Map<string, CopyResult>;
const batchKey = (f: SendFile, immutable: boolean) => `${f.root}\0${f.destBase}\0${immutable}`;

/** One rclone run per (root, destination, immutability), naming files as rclone does (rcloneName). */
async function copyAll(config: RuntimeConfigModel, items: Item[], summary: UploadSummary): Promise<Copies> {
  const batches = new Map<string, { root: string; destBase: string; immutable: boolean; files: SendFile[] }>();
  for (const item of items) {
    for (const f of [...item.files, ...item.sets.flatMap((s) => s.extracted)]) {
      const key = batchKey(f, item.immutable);
      const batch = batches.get(key) ?? { root: f.root, destBase: f.destBase, immutable: item.immutable, files: [] };
      batch.files.push(f);
      batches.set(key, batch);
    }
  }
  const flags = [...new Set(["--checksum", ...config.upload.rcloneFlags])];
  const results: Copies = new Map();
  for (const [key, batch] of batches) {
    const dest = `${config.remote}/${batch.destBase}`;
    summary.rcloneRuns++;
    const result = await copyFiles({ root: batch.root, dest, files: batch.files.map((f) => f.remote), flags: batch.immutable ? [...flags, "--immutable"] : flags, log });
    for (const message of result.general) log.error(`rclone (${batch.root} → ${dest}): ${message}`);
    results.set(key, result);
  }
  return results;
}

/** Records every file of an item, or says why the item is not done. Nothing is recorded for a partly confirmed item's missing parts. */
function record(item: Item, copies: Copies, listing: Map<string, { size: number; sha1?: string }>, store: RecordStore, now: string): string | undefined {
  const confirm = (f: SendFile): RemoteCopy | string => {
    const result = copies.get(batchKey(f, item.immutable));
    if (!result) return `no rclone run covered ${q(f.rel)}`;
    const error = result.errors.get(f.remote);
    if (error) return `${q(f.rel)}: ${error}`;
    if (!result.confirmed.has(f.remote)) return `${q(f.rel)} was not confirmed on the remote (${result.signal ? `rclone was killed (${result.signal})` : `rclone exited ${result.exitCode}`})`;
    const remotePath = f.destBase + f.remote;
    const listed = listing.get(remotePath);
    if (!listed) return `${q(remotePath)} is not in the remote's listing after the upload`;
    if (listed.size !== f.id.size) return `${q(remotePath)} is ${listed.size} bytes on the remote, ${f.id.size} here`;
    return { remotePath, size: listed.size, sha1: listed.sha1 ?? null };
  };
  // The local file must still be the one that was read: same inode, size and time after the upload.
  const unchanged = (abs: string, id: FileIdentity) => {
    const now = statIdentity(abs);
    return now !== undefined && untouched(now, id);
  };
  const plain: { f: SendFile; copy: RemoteCopy }[] = [];
  /** Files written, linked, renamed or deleted while they were uploaded: not recorded, looked at again next run. */
  const changed: string[] = [];
  let problem: string | undefined;
  for (const f of item.files) {
    const copy = confirm(f);
    if (typeof copy === "string") problem ??= copy;
    else if (!unchanged(f.abs, f.id)) changed.push(f.rel);
    else plain.push({ f, copy });
  }
  // Confirmed files are recorded even when another file of the item failed: the next run sends only the rest.
  for (const { f, copy } of plain) {
    const before = store.current(f.id);
    const others = before && before.kind === "file" ? before.copies.filter((c) => c.remotePath !== copy.remotePath) : [];
    store.put(f.id, { size: f.id.size, mtimeNs: f.id.mtimeNs, ctimeNs: f.id.ctimeNs, paths: [...new Set([f.abs, ...(before?.paths ?? [])])], kind: "file", copies: [copy, ...others], uploadedAt: now });
  }
  for (const set of item.sets) {
    const setCopies: RemoteCopy[] = [];
    let setProblem: string | undefined;
    for (const f of set.extracted) {
      const copy = confirm(f);
      if (typeof copy === "string") setProblem ??= copy;
      else setCopies.push(copy);
    }
    if (!setProblem && !set.volumes.every((v) => unchanged(v.abs, v.id))) {
      changed.push(set.first);
      continue;
    }
    if (setProblem) {
      problem ??= setProblem;
      continue;
    }
    for (const v of set.volumes) store.put(v.id, { size: v.id.size, mtimeNs: v.id.mtimeNs, ctimeNs: v.id.ctimeNs, paths: [v.abs], kind: "archive-volume", copies: setCopies, uploadedAt: now });
  }
  if (changed.length > 0 && !problem) log.info(`${q(item.key)}: ${changed.map(q).join(", ")} changed while ${changed.length === 1 ? "it was" : "they were"} uploaded (or another name of it was removed); not recorded, looked at again next run`);
  return problem;
}

/** Forgets records of files that no longer exist under any path they were seen at. */
function pruneRecords(store: RecordStore, seen: ReadonlySet<string>): void {
  const gone: string[] = [];
  for (const [key, record] of store.entries()) {
    if (seen.has(key)) continue;
    const alive = record.paths.some((p) => {
      const id = statIdentity(p);
      return id !== undefined && identityKey(id) === key;
    });
    if (!alive) gone.push(key);
  }
  for (const key of gone) store.delete(key);
}
