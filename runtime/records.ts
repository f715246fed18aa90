/**
 * Upload records: what upload confirmed on the remote, keyed by the identity of the local file it
 * read (device and inode, with size, modification time and change time in nanoseconds), never by its
 * name. The change time (ctime) cannot be set back by a program, so content rewritten in place with
 * its size kept and its mtime restored (`cp -p`, `touch -r`, `rsync --inplace`) no longer matches
 * its record; a rename, a new hard link or a chmod changes it too, which only costs a re-check (rclone
 * finds the remote copy unchanged by its hash). So a
 * new file with an old name has no record, and every hard link of a file (the torrent's name and the
 * library's) shares one record.
 *
 * A record lists the remote objects that hold the file's content with the SHA-1 the remote reported
 * right after the upload: the file itself, or, for a volume of an archive set, every file the set
 * extracted to. Cleanup needs nothing else: it compares these with a remote listing and reads no
 * media bytes.
 *
 * Stored as one document, ${stateDir}/uploads.json, written only by upload (under its lock) and
 * crash-safely (state.ts). Losing it costs a re-check, never data: a file without a record is never
 * deleted, and upload re-uploads it (rclone skips objects whose hash already matches).
 */
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { readState, StateError, writeState } from "./state.ts";

/** A regular file as it is now. Sizes fit a double; device, inode and time are kept as decimal strings. */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
}

export const identityKey = (id: Pick<FileIdentity, "dev" | "ino">) => `${id.dev}:${id.ino}`;

/** The identity of a regular file, or undefined for anything else (missing, a symlink, a folder). Never follows a symlink. */
export function statIdentity(path: string): FileIdentity | undefined {
  let stat;
  try {
    stat = lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
  if (!stat.isFile()) return undefined;
  return { dev: String(stat.dev), ino: String(stat.ino), size: Number(stat.size), mtimeNs: String(stat.mtimeNs), ctimeNs: String(stat.ctimeNs) };
}

/**
 * The same file, unchanged: inode, size and modification time. Not the change time, which moves
 * when another name of the file is unlinked (cleanup removes the torrent's name, then the library's).
 */
export const sameFile = (a: FileIdentity, b: FileIdentity) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
/** The same file and nothing written to it or linked to it since: the change time too. */
export const untouched = (a: FileIdentity, b: FileIdentity) => sameFile(a, b) && a.ctimeNs === b.ctimeNs;

export interface RemoteCopy {
  /** Relative to the bucket: `tv/Show/Season 1/S01E01.mkv`. */
  remotePath: string;
  size: number;
  /** As the remote reported it after the upload; null when the remote has none (then nothing it covers is ever deleted). */
  sha1: string | null;
}

export interface UploadRecord {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  /** Local paths the file had when it was uploaded or last seen: the library name, the torrent's name. */
  paths: string[];
  kind: "file" | "archive-volume";
  copies: RemoteCopy[];
  uploadedAt: string;
}

/** Whether a record still describes the file now at hand: same inode (its key), size, modification and change time. */
export const recordMatches = (record: UploadRecord | undefined, id: FileIdentity): record is UploadRecord =>
  record !== undefined && record.size === id.size && record.mtimeNs === id.mtimeNs && record.ctimeNs === id.ctimeNs;

export interface RecordStore {
  readonly path: string;
  get(id: FileIdentity): UploadRecord | undefined;
  /** The record for this very file (same size and time), or undefined. */
  current(id: FileIdentity): UploadRecord | undefined;
  put(id: FileIdentity, record: UploadRecord): void;
  delete(key: string): void;
  entries(): IterableIterator<[string, UploadRecord]>;
  readonly size: number;
  /** Writes the document if anything changed. */
  save(): boolean;
}

const FILE = "uploads.json";

function parse(data: unknown, path: string): Map<string, UploadRecord> {
  if (data === undefined) return new Map();
  const doc = data as { version?: unknown; records?: unknown };
  if (doc.version !== 1 || !doc.records || typeof doc.records !== "object") {
    throw new StateError(`${path} is not an upload record document this version understands (version ${JSON.stringify(doc.version)})`);
  }
  const records = new Map<string, UploadRecord>();
  for (const [key, value] of Object.entries(doc.records as Record<string, UploadRecord>)) {
    const ok =
      /^[0-9]+:[0-9]+$/.test(key) &&
      value &&
      typeof value.size === "number" &&
      typeof value.mtimeNs === "string" &&
      typeof value.ctimeNs === "string" &&
      Array.isArray(value.paths) &&
      Array.isArray(value.copies) &&
      value.copies.every((c) => typeof c.remotePath === "string" && typeof c.size === "number" && (c.sha1 === null || typeof c.sha1 === "string"));
    // A malformed record vouches for nothing: dropping it can only cause a re-upload.
    if (ok) records.set(key, value);
  }
  return records;
}

export function openRecords(stateDir: string): RecordStore {
  const path = join(stateDir, FILE);
  const records = parse(readState(path), path);
  let changed = false;
  return {
    path,
    get: (id) => records.get(identityKey(id)),
    current(id) {
      const record = records.get(identityKey(id));
      return recordMatches(record, id) ? record : undefined;
    },
    put(id, record) {
      records.set(identityKey(id), record);
      changed = true;
    },
    delete(key) {
      if (records.delete(key)) changed = true;
    },
    entries: () => records.entries(),
    get size() {
      return records.size;
    },
    save() {
      if (!changed) return false;
      // Sorted keys: the document diffs cleanly between runs when someone inspects it.
      writeState(path, { version: 1, records: Object.fromEntries([...records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) });
      changed = false;
      return true;
    },
  };
}

/** Reads the records without the right to write them (cleanup). */
export function readRecords(stateDir: string): ReadonlyMap<string, UploadRecord> {
  const path = join(stateDir, FILE);
  return parse(readState(path), path);
}
