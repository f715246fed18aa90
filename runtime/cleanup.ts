/**
 * `cleanup`: frees the disk once media is safely on the remote. The one place this project deletes
 * the user's data, so it only ever deletes:
 *   - torrents past the seeding period whose every file is marked uploaded, through a library hard
 *     link's marker or the item's own, AND whose remote copy is confirmed now (size, and SHA-1
 *     where the remote has one); no file is exempt by its name;
 *   - marked items that no torrent references (orphans), after the same remote check;
 * and of those, only the very files that were checked, one by one (never a folder recursively; a
 * folder goes only once empty), and never a file another torrent still lists. Nothing at all is
 * deleted when qBittorrent cannot be reached or answers nonsense, when the remote cannot be listed,
 * or outside the configured folders (which must be normalised absolute paths); no orphan is
 * deleted when qBittorrent's answer looks like a lost session. Deletions per run are capped.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmdirSync, statSync, unlinkSync, type Stats } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { RuntimeConfigModel } from "./config.ts";
import { isArchiveVolume } from "./archives.ts";
import { clientFor } from "./categories.ts";
import { withLock } from "./lock.ts";
import { formatBytes, formatSeconds, log, q } from "./log.ts";
import { isMarkerName, markedPath, markerPath, readMarker, type Marker } from "./markers.ts";
import type { Torrent, TorrentFileInfo } from "./qbittorrent.ts";
import { listRemote } from "./rclone.ts";

export class CleanupError extends Error {}

const toPosix = (p: string) => p.split(sep).join("/");
const isInside = (path: string, root: string) => path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
const key = (st: Stats) => `${st.dev}:${st.ino}`;

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

/** A regular file to delete, as it was when its remote copy was checked (device+inode and size). */
interface Doomed {
  path: string;
  key: string;
  size: number;
}

interface Deletion {
  kind: "torrent" | "orphan";
  label: string;
  reason: string;
  torrent?: Torrent;
  /** The files to delete, one by one (qBittorrent is told to keep them). */
  files: Doomed[];
  /** Markers to delete once what each marks is gone. */
  markers: string[];
  /** Folders whose empty subfolders go too (rmdir only). */
  folders: string[];
  needs: RemoteNeed[];
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

/** Whether a configured folder is written as the absolute path it means: no `..`, `.` or `//`. */
const isNormalised = (p: string) => p.startsWith("/") && (resolve(p) === p || `${resolve(p)}/` === p);

async function runCleanup(config: RuntimeConfigModel, options: CleanupOptions, summary: CleanupSummary): Promise<void> {
  const suffix = config.upload.marker;
  const configured = [...config.upload.sources.map((s) => s.path), ...config.upload.categoryPaths, config.upload.tempPath, config.upload.extractDir];
  for (const p of configured) {
    if (!isNormalised(p)) throw new CleanupError(`the configured folder ${q(p)} is not a normalised absolute path (it resolves to ${q(resolve(p))}); refusing to clean up`);
  }
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
  /** A path as the index spells it: its parent folder's real path, then its name. */
  const realParents = new Map<string, string>();
  const canonical = (path: string): string => {
    const abs = resolve(path);
    try {
      if (lstatSync(abs).isDirectory()) return realpathSync(abs);
    } catch {
      // not there (yet): spelled through its parent
    }
    const dir = dirname(abs);
    let parent = realParents.get(dir);
    if (parent === undefined) {
      try {
        parent = realpathSync(dir);
      } catch {
        parent = dir;
      }
      realParents.set(dir, parent);
    }
    return abs === dir ? parent : join(parent, basename(abs));
  };
  const completedRoot = real(uncategorized.path);
  const libraryRoots = libraries.map((s) => ({ source: s, root: real(s.path) }));
  const allRoots = [completedRoot, ...libraryRoots.map((l) => l.root)];
  const protectedDirs = new Set([...allRoots, ...[...config.upload.categoryPaths, config.upload.tempPath, config.upload.extractDir].map(canonical)]);

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

  /** Which remote copies make `file` safe to delete, or why it is not. No file is exempt by its name. */
  const coverage = (file: string, stat: { key: string; ino: number; size: number }): { needs: RemoteNeed[] } | { missing: string } => {
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
      // The marker vouches for the file it saw (its inode), as a library marker does: not for a same-size replacement.
      const own = marker.files.find((f) => !f.extractedFrom && f.remotePath === `${uncategorized.prefix}${rel}` && f.size === stat.size && (f.inode === undefined || f.inode === stat.ino));
      if (own) return { needs: [{ remotePath: own.remotePath, size: own.size, local: file }] };
      if (isArchiveVolume(basename(file), config.upload.archiveTypes)) {
        const set = archiveSet(toPosix(relative(completedRoot, file)));
        const extracted = marker.files.filter((f) => f.extractedFrom && archiveSet(f.extractedFrom) === set);
        // The extraction covers only volumes that were there when it ran: upload waits until every
        // file of the item is older than the quiet period, so a volume written after the marker (a
        // cross-seed's x.zip beside x.rar, a replaced x.rar) was never extracted.
        if (extracted.length > 0 && !(lstatSync(file).mtimeMs <= Date.parse(marker.uploadedAt))) {
          return { missing: `${q(toPosix(relative(completedRoot, file)))} was written after its item was uploaded, so its extraction does not cover it` };
        }
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
  // A magnet still fetching its metadata (content path "") has no files yet: it is kept, and the others proceed.
  const noMetadata = torrents.filter((t) => t.content_path === "");
  for (const t of noMetadata) log.info(`kept torrent ${q(t.name)}: qBittorrent has no metadata for it yet (state ${t.state})`);
  // While qBittorrent checks a torrent it reports a relative content path: what that torrent
  // references is unknown, so it is left alone and no item counts as an orphan this run.
  const unsettled = torrents.filter((t) => !noMetadata.includes(t) && (!t.content_path.startsWith("/") || !t.save_path.startsWith("/")));
  for (const t of unsettled) log.info(`kept torrent ${q(t.name)}: qBittorrent reports no absolute path for it yet (state ${t.state})`);
  const settled = torrents.filter((t) => !noMetadata.includes(t) && !unsettled.includes(t));

  // The file list of every settled torrent, fetched eight at a time: what qBittorrent still
  // references is exactly these files, whatever their torrent's content path (which is the save
  // folder itself for a torrent added without a subfolder).
  const fileLists = new Map<string, TorrentFileInfo[]>();
  for (let i = 0; i < settled.length; i += 8) {
    const batch = settled.slice(i, i + 8);
    const lists = await Promise.all(batch.map((t) => client.files(t.hash)));
    batch.forEach((t, j) => fileLists.set(t.hash, lists[j]!));
  }
  /** The torrents listing each device+inode, and every listed path. */
  const listedBy = new Map<string, Set<string>>();
  const listedPaths = new Set<string>();
  for (const t of settled) {
    for (const f of fileLists.get(t.hash)!) {
      const path = canonical(resolve(t.save_path, f.name));
      listedPaths.add(path);
      let stat: Stats;
      try {
        stat = lstatSync(path);
      } catch {
        continue;
      }
      const k = key(stat);
      listedBy.set(k, (listedBy.get(k) ?? new Set()).add(t.hash));
    }
  }
  const referencedItems = new Set<string>();
  for (const p of [...listedPaths, ...settled.map((t) => canonical(t.content_path))]) {
    const item = completedItem(p);
    if (item) referencedItems.add(item);
  }
  const torrentsInCompleted = [...listedPaths, ...settled.map((t) => canonical(t.content_path))].filter((p) => isInside(p, completedRoot));
  const filesOfItem = new Map<string, Indexed[]>();
  for (const entry of byPath.values()) {
    if (entry.root !== completedRoot) continue;
    const item = completedItem(entry.path);
    if (item) filesOfItem.set(item, [...(filesOfItem.get(item) ?? []), entry]);
  }

  for (const t of settled) {
    if (t.progress < 1 || t.seeding_time < config.cleanup.seedingPeriodSeconds) {
      summary.seeding++;
      continue;
    }
    const content = canonical(t.content_path);
    if (!isInside(content, completedRoot)) {
      log.warn(`kept torrent ${q(t.name)}: its content ${q(t.content_path)} is outside ${q(completedRoot)}`);
      summary.keptNotUploaded++;
      continue;
    }
    const files = fileLists.get(t.hash)!;
    const needs: RemoteNeed[] = [];
    const doomed: Doomed[] = [];
    const markers = new Set<string>();
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
      const covered = coverage(safe, { key: key(stat), ino: stat.ino, size: stat.size });
      if ("missing" in covered) {
        refusal = covered.missing;
        break;
      }
      needs.push(...covered.needs);
      doomed.push({ path: safe, key: key(stat), size: stat.size });
      const item = completedItem(safe);
      if (item) markers.add(markerPath(item, suffix));
      // Its hard links in the library and their markers go with it.
      for (const link of byInode.get(key(stat)) ?? []) {
        if (link.root === completedRoot) continue;
        doomed.push({ path: link.path, key: link.key, size: link.size });
        markers.add(markerPath(link.path, suffix));
      }
    }
    if (refusal) {
      log.info(`kept torrent ${q(t.name)}: ${refusal}`);
      summary.keptNotUploaded++;
      continue;
    }
    for (const d of doomed) planned.add(d.path);
    // Its content folder's empty subfolders go too, unless that is the completed folder or a category's.
    const folders = protectedDirs.has(content) ? [] : [content];
    plan.push({ kind: "torrent", label: t.name, torrent: t, reason: `seeded ${formatSeconds(t.seeding_time * 1000)}, ${files.length} file${files.length === 1 ? "" : "s"}`, files: doomed, markers: [...markers], folders, needs });
  }

  // Orphans: marked items no torrent references, only when qBittorrent's answer can be trusted.
  const marked = completedMarkers.length + libraryMarkers.length;
  if (unsettled.length > 0) {
    log.info(`not looking for orphans this run: ${unsettled.length} torrent${unsettled.length === 1 ? " is" : "s are"} still being checked`);
  } else if (settled.length === 0 && marked > 0) {
    // A lost session or a new profile answers an empty list: every marked item would look orphaned.
    log.warn(
      `qBittorrent reports no torrents ${noMetadata.length > 0 ? "with metadata" : "at all"}, yet ${marked} item${marked === 1 ? " is" : "s are"} marked uploaded (a lost session or a new profile?); not treating marked items as orphans`,
    );
  } else if (settled.length > 0 && torrentsInCompleted.length === 0) {
    // A path mismatch (qbit_manage #631): qBittorrent has torrents but none under the completed folder; it is looking elsewhere.
    log.warn(`no torrent of qBittorrent's ${settled.length} is under ${q(completedRoot)}; not treating marked items as orphans`);
  } else {
    for (const marker of completedMarkers) {
      const item = markedPath(marker, suffix);
      if (dirname(marker) !== completedRoot || referencedItems.has(item) || !existsSync(item)) continue;
      const data = readMarker(marker);
      if (!data) continue;
      const itemFiles = filesOfItem.get(item) ?? [];
      // A file of it hard-linked from a file some torrent lists is still seeding.
      if (itemFiles.length === 0 || itemFiles.some((e) => listedBy.has(e.key))) continue;
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
        files: [...itemFiles, ...links].map((e) => ({ path: e.path, key: e.key, size: e.size })),
        markers: [marker, ...links.map((l) => markerPath(l.path, suffix))],
        folders: [safe],
        needs,
      });
    }
    for (const marker of libraryMarkers) {
      const file = markedPath(marker, suffix);
      const entry = byPath.get(file);
      if (!entry || listedBy.has(entry.key)) continue;
      const found = libraryMarkerFor(entry);
      if (!found || planned.has(file)) continue;
      const links = byInode.get(entry.key) ?? [];
      for (const l of links) planned.add(l.path);
      plan.push({
        kind: "orphan",
        label: toPosix(relative(libraryRoots.find((l) => isInside(file, l.root))!.root, file)),
        reason: "marked uploaded, no torrent references it",
        files: links.map((l) => ({ path: l.path, key: l.key, size: l.size })),
        markers: links.map((l) => markerPath(l.path, suffix)),
        folders: [],
        needs: [{ remotePath: found.entry.remotePath, size: found.entry.size, local: file }],
      });
    }
  }

  if (plan.length === 0) return;

  /** Deletes one checked file if it is still inside the roots and still the file that was checked. */
  const removeFile = (file: Doomed | string): boolean => {
    const path = typeof file === "string" ? file : file.path;
    if (inside(path) !== path) throw new CleanupError(`refusing to delete ${q(path)}: outside the configured folders`);
    let stat: Stats;
    try {
      stat = lstatSync(path);
    } catch {
      return false; // already gone
    }
    if (!stat.isFile() || (typeof file !== "string" && (key(stat) !== file.key || stat.size !== file.size))) {
      log.warn(`kept ${q(path)}: it is not the file that was checked (replaced or changed since)`);
      return false;
    }
    unlinkSync(path);
    return true;
  };
  /** Removes `dir` and its parents up to (never including) a root or a protected folder, while each is empty. */
  const pruneUp = (dir: string) => {
    const root = allRoots.find((r) => isInside(dir, r));
    while (root && dir !== root && isInside(dir, root) && !protectedDirs.has(dir)) {
      try {
        rmdirSync(dir); // fails on a folder that is not empty
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  };
  /** Removes the empty folders at and below `dir`, deepest first; rmdir never removes a folder with anything in it. */
  const removeEmptyFolders = (dir: string) => {
    if (inside(dir) !== dir) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) removeEmptyFolders(join(dir, e.name));
    pruneUp(dir);
  };
  const gone = (path: string) => {
    try {
      lstatSync(path);
      return false;
    } catch {
      return true;
    }
  };
  /** Torrents removed this run: a file they list no longer keeps a file of another deletion. */
  const removed = new Set<string>();
  const listedByOther = (k: string, self: string | undefined) => [...(listedBy.get(k) ?? [])].some((h) => h !== self && !removed.has(h));

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
      // A file another torrent still lists stays, with its library links: that torrent still seeds it.
      const files = d.files.filter((f) => !listedByOther(f.key, d.torrent?.hash));
      const shared = d.files.length - files.length;
      const bytes = [...new Map(files.map((f) => [f.key, f.size])).values()].reduce((n, size) => n + size, 0);
      const what = `${d.kind === "torrent" ? "torrent" : "orphan"} ${q(d.label)} (${d.reason}; ${d.needs.length} remote cop${d.needs.length === 1 ? "y" : "ies"} confirmed)`;
      const keptShared = shared > 0 ? `; ${shared} file${shared === 1 ? "" : "s"} kept, another torrent lists ${shared === 1 ? "it" : "them"}` : "";
      if (options.dryRun) {
        log.info(`would remove ${what}: ${formatBytes(bytes)}, ${files.length} file${files.length === 1 ? "" : "s"}${keptShared}`);
      } else {
        // qBittorrent removes the torrent and keeps its files: only the files checked above are deleted.
        if (d.torrent) await client.deleteTorrent(d.torrent.hash, false);
        let deleted = 0;
        for (const f of files) if (removeFile(f)) deleted++;
        for (const f of files) pruneUp(dirname(f.path));
        for (const dir of d.folders) removeEmptyFolders(dir);
        // A marker goes once what it marks is gone, and then its folder if that left it empty.
        let markers = 0;
        for (const m of d.markers) if (gone(markedPath(m, suffix)) && removeFile(m)) markers++;
        for (const m of d.markers) pruneUp(dirname(m));
        log.info(`removed ${what}: freed ${formatBytes(bytes)}, ${deleted} file${deleted === 1 ? "" : "s"} and ${markers} marker${markers === 1 ? "" : "s"} deleted${keptShared}`);
      }
      if (d.torrent) removed.add(d.torrent.hash);
      done++;
      summary.freedBytes += bytes;
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
