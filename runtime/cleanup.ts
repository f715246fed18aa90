/**
 * `cleanup`: frees the disk once media is safely on the remote. The one place this project deletes
 * the user's data, so it only ever deletes:
 *   - torrents past the seeding period whose every file (ignorable ones aside) is marked uploaded,
 *     through a library hard link's marker or the item's own, AND whose remote copy is confirmed
 *     now (size, and SHA-1 where the remote has one);
 *   - marked items that no torrent references (orphans), after the same remote check;
 * and nothing at all when qBittorrent cannot be reached or answers nonsense, when the remote cannot
 * be listed, or for any path outside the configured folders. Deletions per run are capped.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmdirSync, rmSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { RuntimeConfigModel } from "./config.ts";
import { isArchiveVolume } from "./archives.ts";
import { clientFor } from "./categories.ts";
import { withLock } from "./lock.ts";
import { formatBytes, formatSeconds, log, q } from "./log.ts";
import { isMarkerName, markedPath, markerPath, readMarker, type Marker } from "./markers.ts";
import type { Torrent } from "./qbittorrent.ts";
import { listRemote } from "./rclone.ts";

export class CleanupError extends Error {}

const toPosix = (p: string) => p.split(sep).join("/");
const isInside = (path: string, root: string) => path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
const key = (st: Stats) => `${st.dev}:${st.ino}`;

/** Glob with `*` and `?` only, matched against a file's base name. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** `x.part01.rar`, `x.rar`, `x.r00`, `x.zip` all belong to the set `dir/x`. */
function archiveSet(path: string): string {
  return path.replace(/(\.part[0-9]+)?\.(rar|zip|r[0-9]{2,3})$/i, "");
}

interface RemoteNeed {
  remotePath: string;
  size: number;
  /** The local file to hash, when it still exists. */
  local?: string;
}

interface Deletion {
  kind: "torrent" | "orphan";
  label: string;
  reason: string;
  torrent?: Torrent;
  /** Files and folders to delete, besides what qBittorrent deletes. */
  paths: string[];
  markers: string[];
  needs: RemoteNeed[];
  bytes: number;
}

/** One file found by the walk; kept small, as there is one per library file. */
interface Indexed {
  path: string;
  root: string;
  /** `dev:ino`, shared by every hard link of the file. */
  key: string;
  ino: number;
  size: number;
}

export interface CleanupOptions {
  dryRun: boolean;
}

export interface CleanupSummary {
  torrentsRemoved: number;
  orphansRemoved: number;
  keptNotUploaded: number;
  keptRemoteMismatch: number;
  seeding: number;
  freedBytes: number;
  capReached: boolean;
  locked: boolean;
}

/** One walk over a root: every regular file by device+inode, and every marker. Symlinks are never followed. */
function indexRoot(root: string, suffix: string, byInode: Map<string, Indexed[]>, markers: string[], byPath: Map<string, Indexed>): void {
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) {
        if (isMarkerName(entry.name, suffix)) {
          markers.push(path);
          continue;
        }
        const stat = lstatSync(path);
        const item: Indexed = { path, root, key: key(stat), ino: stat.ino, size: stat.size };
        const k = item.key;
        const list = byInode.get(k);
        if (list) list.push(item);
        else byInode.set(k, [item]);
        byPath.set(path, item);
      }
    }
  };
  visit(root);
}

/** SHA-1 of a local file: read at once when small, streamed when large (media files are GBs). */
async function sha1(path: string): Promise<string> {
  const hash = createHash("sha1");
  if (statSync(path).size <= 16 * 2 ** 20) return hash.update(readFileSync(path)).digest("hex");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function cleanup(config: RuntimeConfigModel, options: CleanupOptions): Promise<{ exitCode: number; summary: CleanupSummary }> {
  const started = Date.now();
  const summary: CleanupSummary = { torrentsRemoved: 0, orphansRemoved: 0, keptNotUploaded: 0, keptRemoteMismatch: 0, seeding: 0, freedBytes: 0, capReached: false, locked: false };
  const ran = await withLock(join(config.lockDir, "cleanup.lock"), "cleanup", options.dryRun, () => runCleanup(config, options, summary));
  if (!ran) {
    summary.locked = true;
    return { exitCode: 0, summary };
  }
  const line =
    `cleanup ${options.dryRun ? "(dry run) " : ""}finished in ${formatSeconds(Date.now() - started)}: ` +
    `${summary.torrentsRemoved} torrent${summary.torrentsRemoved === 1 ? "" : "s"} and ${summary.orphansRemoved} orphan${summary.orphansRemoved === 1 ? "" : "s"} ${options.dryRun ? "would be " : ""}removed (${formatBytes(summary.freedBytes)}), ` +
    `${summary.keptNotUploaded} kept (not uploaded), ${summary.keptRemoteMismatch} kept (remote copy missing or different), ${summary.seeding} still seeding`;
  if (summary.keptRemoteMismatch > 0) log.warn(line);
  else log.info(line);
  return { exitCode: summary.keptRemoteMismatch > 0 ? 1 : 0, summary };
}

async function runCleanup(config: RuntimeConfigModel, options: CleanupOptions, summary: CleanupSummary): Promise<void> {
  const suffix = config.upload.marker;
  const uncategorized = config.upload.sources.find((s) => s.kind === "uncategorized");
  if (!uncategorized) throw new CleanupError("the config has no uncategorized source (qBittorrent's completed folder)");
  const libraries = config.upload.sources.filter((s) => s.kind === "library");
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      throw new CleanupError(`the configured folder ${q(p)} does not exist; refusing to clean up`);
    }
  };
  const completedRoot = real(uncategorized.path);
  const libraryRoots = libraries.map((s) => ({ source: s, root: real(s.path) }));
  const allRoots = [completedRoot, ...libraryRoots.map((l) => l.root)];
  const protectedDirs = new Set([...allRoots, ...config.upload.categoryPaths.map((p) => resolve(p)), resolve(config.upload.tempPath), resolve(config.upload.extractDir)]);
  const ignorable = config.cleanup.ignorable.map(globToRegExp);
  const isIgnorable = (path: string) => ignorable.some((re) => re.test(basename(path)));

  // qBittorrent first: if it cannot be reached or answers nonsense, this throws and nothing is deleted.
  const client = clientFor(config);
  await client.login();
  const torrents = await client.torrents();

  const byInode = new Map<string, Indexed[]>();
  const byPath = new Map<string, Indexed>();
  const libraryMarkers: string[] = [];
  const completedMarkers: string[] = [];
  for (const { root } of libraryRoots) indexRoot(root, suffix, byInode, libraryMarkers, byPath);
  indexRoot(completedRoot, suffix, byInode, completedMarkers, byPath);

  /** The path of a file or folder, only if it is inside one of the configured folders (checked through its real parent). */
  const inside = (path: string): string | undefined => {
    const abs = resolve(path);
    let parent: string;
    try {
      parent = realpathSync(dirname(abs));
    } catch {
      return undefined;
    }
    const full = join(parent, basename(abs));
    return allRoots.some((r) => isInside(full, r)) && !protectedDirs.has(full) ? full : undefined;
  };

  /** The top-level item in completed/ that holds `path` (a torrent name), unless it is a category folder. */
  const completedItem = (path: string): string | undefined => {
    if (!isInside(path, completedRoot) || path === completedRoot) return undefined;
    const slash = path.indexOf("/", completedRoot.length + 1);
    const top = slash === -1 ? path : path.slice(0, slash);
    return protectedDirs.has(top) ? undefined : top;
  };

  const libraryMarkerFor = (link: Indexed): { marker: string; entry: Marker["files"][number] } | undefined => {
    const lib = libraryRoots.find((l) => isInside(link.path, l.root));
    if (!lib) return undefined;
    const marker = markerPath(link.path, suffix);
    const data = readMarker(marker);
    const remotePath = `${lib.source.prefix}${toPosix(relative(lib.root, link.path))}`;
    const entry = data?.files.find((f) => f.remotePath === remotePath && f.size === link.size && (f.inode === undefined || f.inode === link.ino));
    return entry ? { marker, entry } : undefined;
  };

  const itemMarkerFor = (item: string): Marker | undefined => readMarker(markerPath(item, suffix));

  /** Which remote copies make `file` safe to delete, or why it is not. */
  const coverage = (file: string, stat: { key: string; size: number }): { needs: RemoteNeed[] } | { missing: string } => {
    if (isIgnorable(file)) return { needs: [] };
    const needs: RemoteNeed[] = [];
    for (const link of byInode.get(stat.key) ?? []) {
      if (link.root === completedRoot) continue;
      const found = libraryMarkerFor(link);
      if (found) return { needs: [{ remotePath: found.entry.remotePath, size: found.entry.size, local: link.path }] };
    }
    const item = completedItem(file);
    const marker = item ? itemMarkerFor(item) : undefined;
    if (marker && item) {
      const rel = toPosix(relative(completedRoot, file));
      const own = marker.files.find((f) => !f.extractedFrom && f.remotePath === `${uncategorized.prefix}${rel}` && f.size === stat.size);
      if (own) return { needs: [{ remotePath: own.remotePath, size: own.size, local: file }] };
      if (isArchiveVolume(basename(file), config.upload.archiveTypes)) {
        const set = archiveSet(toPosix(relative(completedRoot, file)));
        const extracted = marker.files.filter((f) => f.extractedFrom && archiveSet(f.extractedFrom) === set);
        if (extracted.length > 0) {
          for (const f of extracted) needs.push({ remotePath: f.remotePath, size: f.size });
          return { needs };
        }
      }
    }
    return { missing: `${q(toPosix(relative(completedRoot, file)))} has no upload marker` };
  };

  const plan: Deletion[] = [];
  /** Every path some planned deletion already covers. */
  const planned = new Set<string>();
  // While qBittorrent checks a torrent it reports a relative content path: what that torrent
  // references is unknown, so it is left alone and no item counts as an orphan this run.
  const unsettled = torrents.filter((t) => !t.content_path.startsWith("/") || !t.save_path.startsWith("/"));
  for (const t of unsettled) log.info(`kept torrent ${q(t.name)}: qBittorrent reports no absolute path for it yet (state ${t.state})`);
  // What qBittorrent still references: every file at or below a torrent's content path.
  const contentPaths = new Set(torrents.filter((t) => !unsettled.includes(t)).map((t) => resolve(t.content_path)));
  const torrentsInCompleted = [...contentPaths].filter((p) => isInside(p, completedRoot));
  const referencedItems = new Set(torrentsInCompleted.map(completedItem).filter((i): i is string => i !== undefined));
  const referencedInodes = new Set<string>();
  const filesOfItem = new Map<string, Indexed[]>();
  for (const entry of byPath.values()) {
    if (entry.root !== completedRoot) continue;
    for (let p = entry.path; p !== completedRoot && isInside(p, completedRoot); p = dirname(p)) {
      if (contentPaths.has(p)) {
        referencedInodes.add(entry.key);
        break;
      }
    }
    const item = completedItem(entry.path);
    if (item) filesOfItem.set(item, [...(filesOfItem.get(item) ?? []), entry]);
  }

  // The file lists of the torrents past the seeding period, fetched eight at a time.
  const eligible = torrents.filter((t) => !unsettled.includes(t) && t.progress >= 1 && t.seeding_time >= config.cleanup.seedingPeriodSeconds);
  const fileLists = new Map<string, Awaited<ReturnType<typeof client.files>>>();
  for (let i = 0; i < eligible.length; i += 8) {
    const batch = eligible.slice(i, i + 8);
    const lists = await Promise.all(batch.map((t) => client.files(t.hash)));
    batch.forEach((t, j) => fileLists.set(t.hash, lists[j]!));
  }

  for (const t of torrents) {
    if (unsettled.includes(t)) continue;
    if (t.progress < 1 || t.seeding_time < config.cleanup.seedingPeriodSeconds) {
      summary.seeding++;
      continue;
    }
    const content = resolve(t.content_path);
    if (!isInside(content, completedRoot) || content === completedRoot) {
      log.warn(`kept torrent ${q(t.name)}: its content ${q(t.content_path)} is outside ${q(completedRoot)}`);
      summary.keptNotUploaded++;
      continue;
    }
    const files = fileLists.get(t.hash) ?? [];
    const needs: RemoteNeed[] = [];
    const paths: string[] = [];
    const markers: string[] = [];
    let bytes = 0;
    let refusal: string | undefined;
    for (const f of files) {
      const abs = resolve(t.save_path, f.name);
      const safe = inside(abs);
      if (!safe || !isInside(safe, completedRoot)) {
        refusal = `its file ${q(f.name)} resolves outside ${q(completedRoot)}`;
        break;
      }
      let stat: Stats;
      try {
        stat = lstatSync(safe);
      } catch {
        continue; // already gone: nothing here to protect or to delete
      }
      if (!stat.isFile()) {
        refusal = `${q(f.name)} is not a regular file (a symlink?)`;
        break;
      }
      const covered = coverage(safe, { key: key(stat), size: stat.size });
      if ("missing" in covered) {
        refusal = covered.missing;
        break;
      }
      needs.push(...covered.needs);
      bytes += stat.size;
      // Its hard links in the library and their markers go with it.
      for (const link of byInode.get(key(stat)) ?? []) {
        if (link.root === completedRoot) continue;
        paths.push(link.path);
        const m = markerPath(link.path, suffix);
        if (existsSync(m)) markers.push(m);
      }
    }
    if (refusal) {
      log.info(`kept torrent ${q(t.name)}: ${refusal}`);
      summary.keptNotUploaded++;
      continue;
    }
    const item = completedItem(content);
    if (item && item === content && existsSync(markerPath(item, suffix))) markers.push(markerPath(item, suffix));
    const leftover = inside(content);
    if (leftover) paths.push(leftover);
    for (const p of paths) planned.add(p);
    plan.push({ kind: "torrent", label: t.name, torrent: t, reason: `seeded ${formatSeconds(t.seeding_time * 1000)}, ${files.length} file${files.length === 1 ? "" : "s"}`, paths, markers, needs, bytes });
  }

  // Orphans: marked items no torrent references. Guard against a path mismatch (qbit_manage #631):
  // when qBittorrent has torrents but none under the completed folder, it is looking elsewhere.
  if (unsettled.length > 0) {
    log.info(`not looking for orphans this run: ${unsettled.length} torrent${unsettled.length === 1 ? " is" : "s are"} still being checked`);
  } else if (torrents.length > 0 && torrentsInCompleted.length === 0) {
    log.warn(`no torrent of qBittorrent's ${torrents.length} is under ${q(completedRoot)}; not treating marked items as orphans`);
  } else {
    for (const marker of completedMarkers) {
      const item = markedPath(marker, suffix);
      if (dirname(marker) !== completedRoot || referencedItems.has(item) || !existsSync(item)) continue;
      const data = readMarker(marker);
      if (!data) continue;
      const itemFiles = filesOfItem.get(item) ?? [];
      const needs: RemoteNeed[] = [];
      let missing: string | undefined;
      for (const e of itemFiles) {
        const covered = coverage(e.path, e);
        if ("missing" in covered) missing = covered.missing;
        else needs.push(...covered.needs);
      }
      if (missing) {
        log.info(`kept orphan ${q(toPosix(relative(completedRoot, item)))}: ${missing}`);
        summary.keptNotUploaded++;
        continue;
      }
      const links = itemFiles.flatMap((e) => (byInode.get(e.key) ?? []).filter((l) => l.root !== completedRoot));
      const safe = inside(item);
      if (!safe) continue;
      for (const l of links) planned.add(l.path);
      plan.push({
        kind: "orphan",
        label: toPosix(relative(completedRoot, item)),
        reason: "marked uploaded, no torrent references it",
        paths: [safe, ...links.map((l) => l.path)],
        markers: [marker, ...links.map((l) => markerPath(l.path, suffix)).filter((m) => existsSync(m))],
        needs,
        bytes: itemFiles.reduce((n, e) => n + e.size, 0),
      });
    }
    for (const marker of libraryMarkers) {
      const file = markedPath(marker, suffix);
      const entry = byPath.get(file);
      if (!entry || referencedInodes.has(entry.key)) continue;
      const found = libraryMarkerFor(entry);
      if (!found || planned.has(file)) continue;
      const links = (byInode.get(entry.key) ?? []).map((l) => l.path);
      for (const l of links) planned.add(l);
      plan.push({
        kind: "orphan",
        label: toPosix(relative(libraryRoots.find((l) => isInside(file, l.root))!.root, file)),
        reason: "marked uploaded, no torrent references it",
        paths: links.map((l) => inside(l)).filter((p): p is string => p !== undefined),
        markers: links.map((l) => markerPath(l, suffix)).filter((m) => existsSync(m)),
        needs: [{ remotePath: found.entry.remotePath, size: found.entry.size, local: file }],
        bytes: entry.size,
      });
    }
  }

  if (plan.length === 0) return;

  // The remote is checked only for as many deletions as this run may make (the cap): one listing
  // per batch, and a batch is refilled only when a remote copy turned out missing or different.
  // A failed listing throws, and then nothing more is deleted.
  const cap = config.cleanup.maxDeletionsPerRun;
  let done = 0;
  let next = 0;
  while (next < plan.length && done < cap) {
    const batch = plan.slice(next, next + (cap - done));
    next += batch.length;
    const remote = await listRemote(config.remote, batch.flatMap((d) => d.needs.map((n) => n.remotePath)));
    for (const d of batch) {
      const problem = await remoteProblem(d, remote);
      if (problem) {
        log.warn(`kept ${d.kind} ${q(d.label)}: ${problem}; upload it again (delete its marker) before it can be cleaned up`);
        summary.keptRemoteMismatch++;
        continue;
      }
      const what = `${d.kind === "torrent" ? "torrent" : "orphan"} ${q(d.label)} (${d.reason}; ${d.needs.length} remote cop${d.needs.length === 1 ? "y" : "ies"} confirmed)`;
      if (options.dryRun) {
        log.info(`would remove ${what}: ${formatBytes(d.bytes)}, ${d.paths.length} path${d.paths.length === 1 ? "" : "s"}`);
      } else {
        if (d.torrent) await client.deleteTorrent(d.torrent.hash);
        for (const path of [...d.paths, ...d.markers]) removeAndPrune(path, allRoots, protectedDirs);
        log.info(`removed ${what}: freed ${formatBytes(d.bytes)}, ${d.paths.length} path${d.paths.length === 1 ? "" : "s"} and ${d.markers.length} marker${d.markers.length === 1 ? "" : "s"} deleted`);
      }
      done++;
      summary.freedBytes += d.bytes;
      if (d.kind === "torrent") summary.torrentsRemoved++;
      else summary.orphansRemoved++;
    }
  }
  if (next < plan.length) {
    summary.capReached = true;
    log.warn(`cleanup: the cap of ${cap} deletions per run is reached; ${plan.length - next} more wait for the next run`);
  }
}

/** Why a planned deletion's remote copies are not good enough, or undefined when every one matches. */
async function remoteProblem(d: Deletion, remote: Map<string, { size: number; sha1?: string }>): Promise<string | undefined> {
  for (const need of d.needs) {
    const copy = remote.get(need.remotePath);
    if (!copy) return `${q(need.remotePath)} is missing on the remote`;
    if (copy.size !== need.size) return `${q(need.remotePath)} is ${copy.size} bytes on the remote, ${need.size} here`;
    if (copy.sha1 && need.local && existsSync(need.local) && (await sha1(need.local)) !== copy.sha1) return `${q(need.remotePath)} has a different SHA-1 on the remote`;
  }
  return undefined;
}

/** Deletes a path that was checked to be inside the roots, then its parents up to (never including) the roots while empty. */
function removeAndPrune(path: string, roots: readonly string[], protectedDirs: ReadonlySet<string>): void {
  const root = roots.find((r) => isInside(path, r) && path !== r);
  if (!root || protectedDirs.has(path)) throw new CleanupError(`refusing to delete ${q(path)}: outside the configured folders`);
  rmSync(path, { recursive: true, force: true });
  let dir = dirname(path);
  while (dir !== root && isInside(dir, root) && !protectedDirs.has(dir)) {
    try {
      if (readdirSync(dir).length > 0) break;
      rmdirSync(dir);
    } catch {
      break;
    }
    dir = dirname(dir);
  }
}
