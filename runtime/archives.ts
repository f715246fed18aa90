/**
 * Archives inside downloaded items: which files are archive volumes, how they group into sets (one
 * set per archive, however many volumes), and extraction of one set with unar into a staging folder
 * that is renamed into place only on success, so a failed extraction (encrypted, corrupt, unsafe,
 * disk full) leaves nothing behind. Each set gets its own target, so two archives that both hold
 * `readme.txt` cannot overwrite each other.
 *
 * The volume names follow what unar itself looks for (XADMaster's volume scanning), so a set's
 * volumes are the files unar reads when given its first volume:
 * - RAR, new naming: `x.part1.rar`, `x.part2.rar` … with any zero padding, the same width in one set;
 * - RAR, old naming: `x.rar`, then `x.r00` … `x.r99`, `x.s00` … `x.s99`;
 * - Zip: `x.zip`, split as `x.z01`, `x.z02` … (`x.zip` holds the central directory) or `x.zip.001` …;
 * - 7-Zip: `x.7z`, or `x.7z.001`, `x.7z.002` …;
 * - any other type: one file, `x.tar`.
 * A later volume given to unar alone extracts garbage or a partial file with exit 0, so only the
 * first volume is ever given to it.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";

export const unarBinary = () => process.env.MEDIA_PIPELINE_UNAR || "unar";

/**
 * lsar, unar's lister from the same package: MEDIA_PIPELINE_LSAR, else the one beside unar (the
 * Nix store path or /usr/bin), else from PATH.
 */
export function lsarBinary(): string {
  if (process.env.MEDIA_PIPELINE_LSAR) return process.env.MEDIA_PIPELINE_LSAR;
  const unar = unarBinary();
  if (unar.includes("/")) {
    const beside = join(dirname(unar), "lsar");
    if (existsSync(beside)) return beside;
  }
  return "lsar";
}

/**
 * What a file name says about it as a volume. `group` (the name's lower-case stem, after its folder
 * as spelled) joins a later volume to its set's first volume; a first volume can be found under
 * several groups (`x.part1.rar` starts the `.partN.rar` set and also an old-style `x.part1.r00`
 * one). `order` sorts a set's volumes.
 */
type Volume = { first: true; groups: string[] } | { first: false; group: string; order: number };

function volumeOf(name: string, types: readonly string[]): Volume | undefined {
  const lower = name.toLowerCase();
  const has = (type: string) => types.includes(type);
  let m: RegExpMatchArray | null;
  if (has(".rar")) {
    if ((m = lower.match(/^(.*)\.part([0-9]+)\.rar$/))) {
      // unar reads the volumes whose number has the same width: x.part01.rar goes with x.part02.rar, not x.part2.rar.
      const group = `rar-new:${m[1]}:${m[2]!.length}`;
      const n = Number(m[2]);
      return n === 1 ? { first: true, groups: [group, `rar-old:${lower.slice(0, -4)}`] } : { first: false, group, order: n };
    }
    if ((m = lower.match(/^(.*)\.rar$/))) return { first: true, groups: [`rar-old:${m[1]}`] };
    if ((m = lower.match(/^(.*)\.([rs])([0-9]{2})$/))) return { first: false, group: `rar-old:${m[1]}`, order: (m[2] === "s" ? 100 : 0) + Number(m[3]) };
  }
  for (const type of [".zip", ".7z"].filter(has)) {
    if ((m = lower.match(/^(.*)\.([0-9]{3,})$/)) && m[1]!.endsWith(type)) {
      const n = Number(m[2]);
      return n === 1 ? { first: true, groups: [`split:${m[1]}`] } : { first: false, group: `split:${m[1]}`, order: n };
    }
  }
  if (has(".zip")) {
    if ((m = lower.match(/^(.*)\.zip$/))) return { first: true, groups: [`zip:${m[1]}`] };
    if ((m = lower.match(/^(.*)\.z([0-9]{2,})$/))) return { first: false, group: `zip:${m[1]}`, order: Number(m[2]) };
  }
  if (types.some((type) => lower.endsWith(type))) return { first: true, groups: [] };
  return undefined;
}

/** True for any volume of an archive of the given types, by file name alone: a first volume or a later one. */
export function isArchiveVolume(name: string, types: readonly string[]): boolean {
  return volumeOf(basename(name), types) !== undefined;
}

export interface ArchiveSet {
  /** Relative path (with '/') of the volume unar is given: x.rar, x.part01.rar, x.zip, x.7z.001 … */
  first: string;
  /** Every volume of the set found among the files, including `first`, sorted. */
  volumes: string[];
}

/**
 * Groups relative file paths (as '/'-separated, relative to an item) into archive sets and loose (non-volume) files.
 * `orphanVolumes` are volume-looking files with no first volume present (e.g. only x.part2.rar): they are neither loose nor in a set.
 * Names match case-insensitively, as unar matches them; a set's `volumes` are in volume order, `first` first.
 */
export function archiveSets(files: readonly string[], types: readonly string[]): { sets: ArchiveSet[]; loose: string[]; orphanVolumes: string[] } {
  const loose: string[] = [];
  const later: { path: string; group: string; order: number }[] = [];
  const byGroup = new Map<string, { set: ArchiveSet; order: Map<string, number> }[]>();
  const sets: { set: ArchiveSet; order: Map<string, number> }[] = [];
  for (const path of files) {
    const slash = path.lastIndexOf("/");
    // The folder is matched as spelled: unar looks for volumes only beside the first one.
    const dir = path.slice(0, slash + 1);
    const volume = volumeOf(path.slice(slash + 1), types);
    if (!volume) loose.push(path);
    else if (!volume.first) later.push({ path, group: dir + volume.group, order: volume.order });
    else {
      const entry = { set: { first: path, volumes: [path] }, order: new Map([[path, -1]]) };
      sets.push(entry);
      for (const group of volume.groups) byGroup.set(dir + group, [...(byGroup.get(dir + group) ?? []), entry]);
    }
  }
  const orphanVolumes: string[] = [];
  for (const v of later) {
    const candidates = byGroup.get(v.group);
    if (!candidates) {
      orphanVolumes.push(v.path);
      continue;
    }
    // `X.rar` and `x.rar` can both exist on Linux: a volume goes with the one spelled as it is, else the first.
    const stem = (p: string) => p.replace(/\.(part[0-9]+\.rar|rar|[rs][0-9]{2}|zip|z[0-9]{2,}|[0-9]{3,})$/i, "");
    const owner = candidates.find((c) => stem(c.set.first) === stem(v.path)) ?? candidates[0]!;
    owner.set.volumes.push(v.path);
    owner.order.set(v.path, v.order);
  }
  for (const { set, order } of sets) set.volumes.sort((a, b) => order.get(a)! - order.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
  const result = sets.map((s) => s.set).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  return { sets: result, loose, orphanVolumes };
}

export interface ExtractResult {
  ok: boolean;
  message: string;
  /**
   * The volumes the archive itself says it is made of (lsar's XADVolumes), absolute: only these
   * hold what was extracted. A file merely named like a later volume is not among them.
   */
  volumes: string[];
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all. */
  error?: string;
}

/**
 * The environment unar and lsar get: none of rclone's. They parse archives from torrents, and the
 * upload job's environment holds its B2 key (RCLONE_CONFIG_*), which a parser bug has no business
 * reaching. (Not a boundary against the same account reading /proc: a narrower exposure only.)
 */
export function archiverEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("RCLONE_")));
}

/** Runs a program with stdin closed, so unar or lsar fail at once on an encrypted archive instead of asking for a password. */
function run(command: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: archiverEnv() });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    // Decoded once at the end: a name's UTF-8 bytes can be split between two chunks.
    const text = () => ({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    child.on("error", (error) => resolve({ code: null, signal: null, ...text(), error: `cannot run ${command}: ${error.message}` }));
    child.on("close", (code, signal) => resolve({ code, signal, ...text() }));
  });
}

const quote = (s: string) => JSON.stringify(s);

/** unar's complaint on one line, without its "Extraction to directory <staging> failed" summary (the staging path means nothing to a reader). */
function unarReason(result: Run): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split("\n")
    .map((l) => l.trim().replace(/\s+/g, " "))
    .filter((l) => l && !/^Extraction to directory .* failed/.test(l));
  const exit = result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
  const text = lines.join("; ");
  return `unar failed (${exit})${text ? `: ${text.length > 400 ? `${text.slice(0, 400)}…` : text}` : ""}`;
}

interface Listing {
  /** Why the archive is refused without extracting anything. */
  refusal?: string;
  /** Why the listing is incomplete; unar usually fails on the same archive and says it better. */
  incomplete?: string;
  /** The volumes lsar says the archive is made of, absolute. */
  volumes?: string[];
  /** How many entries are files (not folders). */
  files?: number;
  /** The bytes the file entries take in the archive (lsar's XADCompressedSize), if every entry says. */
  stored?: number;
}

/**
 * Checks what the archive says it holds before anything is written: unar rewrites `../x` to
 * `__Parent__/x` and `/abs/x` to `abs/x` and creates symbolic links with any target, so a hostile
 * entry is refused here by its own name and type. The tree unar writes is checked again afterwards.
 */
async function listArchive(archive: string): Promise<Listing> {
  const result = await run(lsarBinary(), ["-j", archive]);
  if (result.error) return { refusal: `${result.error}; lsar comes with unar and checks an archive before it is extracted` };
  let json: { lsarError?: number; lsarContents?: Record<string, unknown>[]; lsarProperties?: Record<string, unknown> };
  try {
    json = JSON.parse(result.stdout);
  } catch {
    return { incomplete: `lsar printed no listing (exit ${result.code})` };
  }
  const entries = Array.isArray(json.lsarContents) ? json.lsarContents : [];
  const encrypted = entries.find((e) => e.XADIsEncrypted);
  if (encrypted || json.lsarProperties?.XADIsEncrypted) {
    return { refusal: `encrypted${encrypted ? ` (${quote(String(encrypted.XADFileName))})` : ""}: it needs a password, which is never given` };
  }
  const listed = json.lsarProperties?.XADVolumes;
  const volumes = Array.isArray(listed) ? listed.map((v) => resolve(dirname(archive), String(v))) : [archive];
  const fileEntries = entries.filter((e) => !e.XADIsDirectory);
  const files = fileEntries.length;
  const sizes = fileEntries.map((e) => e.XADCompressedSize);
  const stored = sizes.every((n) => typeof n === "number" && Number.isFinite(n)) ? (sizes as number[]).reduce((a, b) => a + b, 0) : undefined;
  for (const e of entries) {
    const name = typeof e.XADFileName === "string" ? e.XADFileName : String(e.XADFileName);
    const kind = e.XADIsHardLink ? "a hard link" : e.XADIsLink ? "a symbolic link" : e.XADIsFIFO ? "a FIFO" : e.XADIsCharacterDevice || e.XADIsBlockDevice ? "a device" : undefined;
    if (kind) return { refusal: `holds ${kind} (${quote(name)}); only regular files and folders are extracted` };
    if (name.startsWith("/") || name.split("/").includes("..")) {
      return { refusal: `holds an entry that points outside its folder (${quote(name)}); such an archive is refused` };
    }
  }
  if (result.code !== 0 || json.lsarError) return { incomplete: `lsar could not list it all (exit ${result.code}, error ${json.lsarError ?? "none"})`, volumes, files, stored };
  return { volumes, files, stored };
}

/**
 * Walks what unar wrote: only folders and regular files with one link each may be there, so nothing
 * in the tree points outside it. Folders are made rwx for their owner on the way, so the tree can
 * always be deleted again (an archive can carry a read-only folder).
 */
function checkTree(root: string): { refusal?: string; files: number } {
  let files = 0;
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const mode = lstatSync(dir).mode;
    // Group rwx too: the extraction folder is shared through the media group, and a folder only its owner can empty outlives a change of account.
    if ((mode & 0o770) !== 0o770) chmodSync(dir, mode | 0o770);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const shown = quote(relative(root, path));
      if (st.isDirectory()) pending.push(path);
      else if (st.isFile()) {
        if (st.nlink > 1) return { refusal: `unar produced a hard link (${shown}); only regular files and folders are extracted`, files };
        files++;
      } else {
        const kind = st.isSymbolicLink() ? "a symbolic link" : st.isFIFO() ? "a FIFO" : st.isCharacterDevice() || st.isBlockDevice() ? "a device" : st.isSocket() ? "a socket" : "a special file";
        return { refusal: `unar produced ${kind} (${shown}); only regular files and folders are extracted`, files };
      }
    }
  }
  return { files };
}

/** Deletes a tree even where the archive made a folder read-only. */
function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    const pending = [path];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      try {
        if (!lstatSync(dir).isDirectory()) continue;
        chmodSync(dir, 0o700);
        for (const name of readdirSync(dir)) pending.push(join(dir, name));
      } catch {
        // Gone or unreadable: rmSync below reports what is left.
      }
    }
    rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Extracts one set (first volume path `archive`, absolute) into `target` (absolute; replaced if it exists)
 * through a staging folder beside it renamed into place only on success; all or nothing.
 * On failure `target` is left as it was, the staging folder is removed, and so are the folders
 * above `target` that this call created.
 */
export async function extractSet(archive: string, target: string): Promise<ExtractResult> {
  // One line, as the log writes it, even for a file name with a line break in it.
  const fail = (reason: string): ExtractResult => ({ ok: false, message: `${basename(archive)}: ${reason}`.replace(/\r?\n/g, "⏎"), volumes: [] });
  const parent = dirname(target);
  // A fixed name (not a random one) so a staging folder left by a killed run is removed by the next.
  const staging = join(parent, `.${basename(target)}.partial`);
  let created: string | undefined;
  let result: ExtractResult | undefined;
  try {
    created = mkdirSync(parent, { recursive: true });
    removeTree(staging);
    const listing = await listArchive(archive);
    if (listing.refusal) return (result = fail(listing.refusal));
    mkdirSync(staging);
    const unar = await run(unarBinary(), ["-q", "-f", "-D", "-o", staging, archive]);
    if (unar.error) return (result = fail(unar.error));
    if (unar.code !== 0) return (result = fail(unarReason(unar)));
    if (listing.incomplete) return (result = fail(`${listing.incomplete}, though unar did not fail; an archive that cannot be checked is not extracted`));
    const tree = checkTree(staging);
    if (tree.refusal) return (result = fail(tree.refusal));
    // Two entries with one name: unar -f keeps the last, so the first would be covered by nothing.
    if (listing.files !== undefined && tree.files < listing.files) {
      return (result = fail(`lists ${listing.files} files but ${tree.files} came out (entries with the same name overwrite each other); such an archive is not extracted`));
    }
    // The entries must account for the volumes' bytes, less headers: a damaged volume can make lsar
    // list, and unar extract, fewer entries without any error, and then the volumes would count as
    // uploaded while part of their bytes went nowhere.
    const volumeBytes = (listing.volumes ?? [archive]).reduce((n, v) => n + lstatSync(v).size, 0);
    if (listing.stored === undefined) return (result = fail("lsar does not say how many bytes its entries take, so it cannot be told whether all of the archive was read; such an archive is not extracted"));
    const allowance = 1024 + 512 * (listing.files ?? 0) + volumeBytes / 100;
    if (volumeBytes - listing.stored > allowance) {
      return (result = fail(`its entries take ${listing.stored} of its volumes' ${volumeBytes} bytes: part of it cannot be read (a damaged volume?), so its volumes cannot count as uploaded through what comes out`));
    }
    removeTree(target);
    renameSync(staging, target);
    return (result = { ok: true, message: `${tree.files} file${tree.files === 1 ? "" : "s"} extracted`, volumes: listing.volumes ?? [archive] });
  } catch (error) {
    return (result = fail((error as Error).message));
  } finally {
    if (!result?.ok) {
      try {
        removeTree(staging);
        // Folders this call made for `target`, deepest first, while empty.
        for (let dir = parent; created && dir.length >= created.length; dir = dirname(dir)) rmdirSync(dir);
      } catch {
        // Not empty (something else is there) or already gone: leave it.
      }
    }
  }
}
