/**
 * `upload`: sends new library items (clean names) and uncategorized downloads (torrent names) to
 * the remote, and marks each item once every one of its files is confirmed there.
 *
 * One rclone process per scan root (plus one for extracted archives), never one per item: each
 * rclone process costs B2 transactions. Nothing is read from qBittorrent's temp folder, and an item
 * modified within the quiet period waits for a later run.
 */
import { lstatSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { RuntimeConfigModel } from "./config.ts";
import { extractItem, isArchiveVolume, isFirstVolume } from "./archives.ts";
import { withLock } from "./lock.ts";
import { formatBytes, formatSeconds, log, q } from "./log.ts";
import { isMarkerName, markerPath, readMarker, writeMarker, type MarkerFile } from "./markers.ts";
import { copyFiles, copyOne, type CopyResult } from "./rclone.ts";
import { openUploadIndex, type UploadIndex } from "./upload-index.ts";

type Source = RuntimeConfigModel["upload"]["sources"][number];

interface LocalFile {
  /** Path relative to the root it is uploaded from. */
  rel: string;
  abs: string;
  size: number;
  inode?: number;
  mtimeMs?: number;
  extractedFrom?: string;
}

interface Item {
  source: Source;
  /** Relative to the source root: `Show/Season 1/S01E01.mkv`, or a torrent name. */
  name: string;
  path: string;
  marker: string;
  hasMarker: boolean;
  files: LocalFile[];
  archives: { path: string; relativeDir: string }[];
  newestMtimeMs: number;
}

export interface UploadOptions {
  dryRun: boolean;
  now?: () => number;
}

export interface UploadSummary {
  uploaded: number;
  uploadedBytes: number;
  failed: number;
  waiting: number;
  alreadyUploaded: number;
  rcloneRuns: number;
  locked: boolean;
}

const toPosix = (p: string) => p.split(sep).join("/");
const isHidden = (name: string) => name.startsWith(".");

interface WalkedFile {
  path: string;
  /** Relative to the walked folder, with `/`. */
  rel: string;
  size: number;
  ino: number;
  mtimeMs: number;
  /** Whether the folder holds this file's marker (seen in the same listing, at no extra cost). */
  hasMarker: boolean;
}

/**
 * Regular files below `dir`, one at a time, never following symlinks out of it. A generator, so
 * the idle pass over a large library holds one folder's listing at a time, not the whole tree.
 */
function* walk(dir: string, skip: (name: string, path: string) => boolean, suffix: string, relDir = ""): Generator<WalkedFile> {
  const entries = readdirSync(dir, { withFileTypes: true });
  const markers = new Set(entries.filter((e) => isMarkerName(e.name, suffix)).map((e) => e.name));
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (skip(entry.name, path)) continue;
    const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) yield* walk(path, skip, suffix, rel);
    else if (entry.isFile()) {
      const stat = lstatSync(path);
      yield { path, rel, size: stat.size, ino: stat.ino, mtimeMs: stat.mtimeMs, hasMarker: markers.has(`.${entry.name}${suffix}`) };
    }
  }
}

/** What a marker vouches for: each file's size, inode and modification time. */
const fingerprint = (item: Item) =>
  item.files.length === 1 ? `${item.files[0]!.size}:${item.files[0]!.inode}:${item.files[0]!.mtimeMs}` : item.files.map((f) => `${f.rel}:${f.size}:${f.inode}:${f.mtimeMs}`).join("/");

/**
 * The marker is current when it names exactly these files with the same sizes and inodes. Markers
 * already checked are remembered in the upload index (a cache in the lock folder, keyed by the
 * files' size, inode and mtime), so the idle pass, which the timer runs every few minutes, reads
 * no marker whose files did not change.
 */
function markerIsCurrent(item: Item, index: UploadIndex): boolean {
  if (!item.hasMarker) return false;
  const print = fingerprint(item);
  if (index.entries.get(item.marker) === print) {
    index.remember(item.marker, print);
    return true;
  }
  const marker = readMarker(item.marker);
  if (!marker) return false;
  const recorded = new Map(marker.files.filter((f) => !f.extractedFrom).map((f) => [f.remotePath, f]));
  const current = item.files.every((f) => {
    const r = recorded.get(`${item.source.prefix}${f.rel}`);
    return r !== undefined && r.size === f.size && (r.inode === undefined || r.inode === f.inode);
  });
  if (current) index.remember(item.marker, print);
  return current;
}

function* scanLibrary(source: Source, config: RuntimeConfigModel): Generator<Item> {
  const suffix = config.upload.marker;
  for (const file of walk(source.path, (name) => isHidden(name), suffix)) {
    yield {
      source,
      name: file.rel,
      path: file.path,
      marker: markerPath(file.path, suffix),
      hasMarker: file.hasMarker,
      files: [{ rel: file.rel, abs: file.path, size: file.size, inode: file.ino, mtimeMs: file.mtimeMs }],
      archives: [],
      newestMtimeMs: file.mtimeMs,
    };
  }
}

function scanUncategorized(source: Source, config: RuntimeConfigModel): Item[] {
  const { marker: suffix, archiveTypes, categoryPaths, tempPath, extractDir } = config.upload;
  const excluded = new Set([...categoryPaths, tempPath, extractDir]);
  const items: Item[] = [];
  const entries = readdirSync(source.path, { withFileTypes: true });
  const topMarkers = new Set(entries.filter((e) => isMarkerName(e.name, suffix)).map((e) => join(source.path, e.name)));
  for (const entry of entries) {
    const path = join(source.path, entry.name);
    if (isHidden(entry.name) || isMarkerName(entry.name, suffix) || excluded.has(path)) continue;
    const found: { path: string; size: number; ino: number; mtimeMs: number }[] = entry.isDirectory()
      ? [...walk(path, (name, p) => isMarkerName(name, suffix) || excluded.has(p), suffix)]
      : entry.isFile()
        ? [lstatSync(path)].map((st) => ({ path, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs }))
        : [];
    const files: LocalFile[] = [];
    const archives: Item["archives"] = [];
    let newest = 0;
    for (const { path: file, ...stat } of found) {
      newest = Math.max(newest, stat.mtimeMs);
      const rel = toPosix(relative(source.path, file));
      const base = rel.split("/").pop()!;
      if (isArchiveVolume(base, archiveTypes)) {
        // Only the first volume goes to unar; no volume is uploaded (the archive stays for seeding).
        if (isFirstVolume(base, archiveTypes)) archives.push({ path: file, relativeDir: toPosix(relative(path, join(file, ".."))) });
      } else {
        files.push({ rel, abs: file, size: stat.size, inode: stat.ino, mtimeMs: stat.mtimeMs });
      }
    }
    if (files.length === 0 && archives.length === 0) continue;
    const marker = markerPath(path, suffix);
    items.push({ source, name: entry.name, path, marker, hasMarker: topMarkers.has(marker), files, archives, newestMtimeMs: newest });
  }
  return items;
}

function remoteDest(config: RuntimeConfigModel, source: Source): string {
  return `${config.remote}/${source.prefix}`;
}

export async function upload(config: RuntimeConfigModel, options: UploadOptions): Promise<{ exitCode: number; summary: UploadSummary }> {
  const started = Date.now();
  const now = options.now ?? Date.now;
  const summary: UploadSummary = { uploaded: 0, uploadedBytes: 0, failed: 0, waiting: 0, alreadyUploaded: 0, rcloneRuns: 0, locked: false };

  const ran = await withLock(join(config.lockDir, "upload.lock"), "upload", options.dryRun, () => runUpload(config, options, summary, now));
  if (!ran) {
    summary.locked = true;
    return { exitCode: 0, summary };
  }
  const parts = [
    `${summary.uploaded} uploaded (${formatBytes(summary.uploadedBytes)})`,
    `${summary.failed} failed`,
    `${summary.waiting} waiting for the quiet period`,
    `${summary.alreadyUploaded} already uploaded`,
    `${summary.rcloneRuns} rclone run${summary.rcloneRuns === 1 ? "" : "s"}`,
  ];
  const line = `upload ${options.dryRun ? "(dry run) " : ""}finished in ${formatSeconds(Date.now() - started)}: ${parts.join(", ")}`;
  if (summary.failed > 0) log.warn(line);
  else log.info(line);
  return { exitCode: summary.failed > 0 ? 1 : 0, summary };
}

async function runUpload(config: RuntimeConfigModel, options: UploadOptions, summary: UploadSummary, now: () => number): Promise<void> {
  const index = openUploadIndex(join(config.lockDir, "upload-index.json"));
  try {
    await scanAndUpload(config, options, summary, now, index);
  } finally {
    if (!options.dryRun) index.save();
  }
}

async function scanAndUpload(config: RuntimeConfigModel, options: UploadOptions, summary: UploadSummary, now: () => number, index: UploadIndex): Promise<void> {
  const quietMs = config.upload.quietPeriodSeconds * 1000;
  const pending: Item[] = [];
  /** Items are judged one at a time as the scan yields them; only those to upload are kept. */
  const consider = (item: Item): void => {
    if (markerIsCurrent(item, index)) {
      summary.alreadyUploaded++;
      return;
    }
    const age = now() - item.newestMtimeMs;
    if (age < quietMs) {
      log.info(`waiting: ${q(item.source.prefix + item.name)} was modified ${formatSeconds(Math.max(age, 0))} ago; quiet period ${config.upload.quietPeriodSeconds}s`);
      summary.waiting++;
      return;
    }
    pending.push(item);
  };
  for (const source of config.upload.sources) {
    try {
      statSync(source.path);
      for (const item of source.kind === "library" ? scanLibrary(source, config) : scanUncategorized(source, config)) consider(item);
    } catch (error) {
      log.error(`upload: cannot scan ${q(source.path)}: ${(error as Error).message}`);
      summary.failed++;
    }
  }
  if (pending.length === 0) return;

  if (options.dryRun) {
    for (const item of pending) {
      const size = item.files.reduce((n, f) => n + f.size, 0);
      const extract = item.archives.length > 0 ? `, extracting ${item.archives.map((a) => q(a.path)).join(", ")}` : "";
      log.info(`would upload ${q(item.name)} → ${remoteDest(config, item.source)}${item.name} (${item.files.length} file${item.files.length === 1 ? "" : "s"}, ${formatBytes(size)}${extract})`);
    }
    return;
  }

  // Extract archives first, so their contents travel in one more rclone run.
  const extractRoot = config.upload.extractDir;
  const failedItems = new Map<Item, string>();
  const extracted: string[] = [];
  for (const item of pending.filter((i) => i.archives.length > 0)) {
    const target = join(extractRoot, item.name);
    const result = await extractItem(item.archives, target);
    if (!result.ok) {
      failedItems.set(item, `extraction failed: ${result.message}`);
      continue;
    }
    extracted.push(target);
    for (const file of walk(target, () => false, config.upload.marker)) {
      item.files.push({ rel: toPosix(relative(extractRoot, file.path)), abs: file.path, size: file.size, extractedFrom: item.archives[0]!.path });
    }
  }

  try {
    // One batch per (root, destination): each library root, the completed folder, the extracted copies.
    const batches = new Map<string, { root: string; dest: string; files: LocalFile[] }>();
    for (const item of pending) {
      if (failedItems.has(item)) continue;
      for (const file of item.files) {
        const root = file.extractedFrom ? extractRoot : item.source.path;
        const key = `${root}\0${item.source.prefix}`;
        const batch = batches.get(key) ?? { root, dest: remoteDest(config, item.source), files: [] };
        batch.files.push(file);
        batches.set(key, batch);
      }
    }
    const results = new Map<string, { result: CopyResult; started: number }>();
    for (const [key, batch] of batches) {
      const batchStart = Date.now();
      const plain = batch.files.filter((f) => !/[\n\r]/.test(f.rel));
      const awkward = batch.files.filter((f) => /[\n\r]/.test(f.rel));
      const merged: CopyResult = { confirmed: new Map(), errors: new Map(), exitCode: 0, signal: null, general: [] };
      const runs: Promise<CopyResult>[] = [];
      if (plain.length > 0) {
        summary.rcloneRuns++;
        runs.push(copyFiles({ root: batch.root, dest: batch.dest, files: plain.map((f) => f.rel), flags: config.upload.rcloneFlags, log }));
      }
      for (const file of awkward) {
        // A name with a line break cannot be listed in --files-from; it gets a run of its own.
        summary.rcloneRuns++;
        runs.push(copyOne({ source: file.abs, dest: `${batch.dest}${file.rel}`, object: file.rel, flags: config.upload.rcloneFlags, log }));
      }
      for (const run of runs) {
        const result = await run;
        for (const [k, v] of result.confirmed) merged.confirmed.set(k, v);
        for (const [k, v] of result.errors) merged.errors.set(k, v);
        merged.general.push(...result.general);
        if (result.exitCode !== 0) {
          merged.exitCode = result.exitCode;
          merged.signal = result.signal;
        }
      }
      for (const message of merged.general) log.error(`rclone (${batch.root} → ${batch.dest}): ${message}`);
      results.set(key, { result: merged, started: batchStart });
    }

    for (const item of pending) {
      const failure = failedItems.get(item) ?? checkItem(item, results, extractRoot);
      if (failure) {
        summary.failed++;
        log.error(`failed: ${q(item.source.prefix + item.name)}: ${failure}; it will be retried on the next run`);
        continue;
      }
      const files: MarkerFile[] = item.files.map((f) => ({
        remotePath: `${item.source.prefix}${f.rel}`,
        size: f.size,
        ...(f.inode !== undefined && !f.extractedFrom ? { inode: f.inode } : {}),
        ...(f.extractedFrom ? { extractedFrom: toPosix(relative(item.source.path, f.extractedFrom)) } : {}),
      }));
      writeMarker(item.marker, { version: 1, uploadedAt: new Date(now()).toISOString(), remote: `${remoteDest(config, item.source)}${item.name}`, files });
      item.files = item.files.filter((f) => !f.extractedFrom);
      index.remember(item.marker, fingerprint(item));
      const bytes = item.files.reduce((n, f) => n + f.size, 0);
      const { took } = timing(item, results, extractRoot);
      summary.uploaded++;
      summary.uploadedBytes += bytes;
      log.info(`uploaded ${q(item.source.prefix + item.name)}: ${item.files.length} file${item.files.length === 1 ? "" : "s"}, ${formatBytes(bytes)}, ${formatSeconds(took)}`);
    }
  } finally {
    // The extracted copy is only a vehicle for the upload: it goes at once, uploaded or not.
    for (const dir of extracted) rmSync(dir, { recursive: true, force: true });
  }
}

function resultFor(item: Item, file: LocalFile, results: Map<string, { result: CopyResult; started: number }>, extractRoot: string) {
  const root = file.extractedFrom ? extractRoot : item.source.path;
  return results.get(`${root}\0${item.source.prefix}`);
}

/** Why an item is not confirmed, or undefined when every file is on the remote. */
function checkItem(item: Item, results: Map<string, { result: CopyResult; started: number }>, extractRoot: string): string | undefined {
  for (const file of item.files) {
    const entry = resultFor(item, file, results, extractRoot);
    if (!entry) return `no rclone run covered ${q(file.rel)}`;
    const error = entry.result.errors.get(file.rel);
    if (error) return `${q(file.rel)}: ${error}`;
    if (!entry.result.confirmed.has(file.rel)) {
      const how = entry.result.signal ? `rclone was killed (${entry.result.signal})` : `rclone exited ${entry.result.exitCode}`;
      return `${q(file.rel)} was not confirmed on the remote (${how})`;
    }
  }
  return undefined;
}

function timing(item: Item, results: Map<string, { result: CopyResult; started: number }>, extractRoot: string): { took: number } {
  let took = 0;
  for (const file of item.files) {
    const entry = resultFor(item, file, results, extractRoot)!;
    took = Math.max(took, (entry.result.confirmed.get(file.rel) ?? entry.started) - entry.started);
  }
  return { took };
}
