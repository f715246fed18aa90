/**
 * The `.uploaded` marker beside each item: a small JSON record of what went to the remote, written
 * atomically (temporary file, fsync, rename) so a crash never leaves a half-written marker.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface MarkerFile {
  /** Where the file is on the remote, relative to the bucket: `tv/Show/Season 1/S01E01.mkv`. */
  remotePath: string;
  size: number;
  /** The local file's inode, so a replaced file (a Sonarr upgrade) is uploaded again. Absent for extracted files. */
  inode?: number;
  /** Set for files that came out of an archive in the item. */
  extractedFrom?: string;
}

export interface Marker {
  version: 1;
  uploadedAt: string;
  /** `remote:bucket/prefix/item`. */
  remote: string;
  files: MarkerFile[];
}

/** `Show/Season 1/S01E01.mkv` is marked by `Show/Season 1/.S01E01.mkv.uploaded`. */
export function markerPath(itemPath: string, suffix: string): string {
  return join(dirname(itemPath), `.${basename(itemPath)}${suffix}`);
}

/** The item a marker belongs to: the inverse of markerPath. */
export function markedPath(marker: string, suffix: string): string {
  return join(dirname(marker), basename(marker).slice(1, -suffix.length));
}

export function isMarkerName(name: string, suffix: string): boolean {
  return name.startsWith(".") && name.endsWith(suffix) && name.length > suffix.length + 1;
}

export function readMarker(path: string): Marker | undefined {
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as Marker;
    return data && data.version === 1 && Array.isArray(data.files) ? data : undefined;
  } catch {
    return undefined;
  }
}

export function writeMarker(path: string, marker: Marker): void {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    const fd = openSync(temp, "w", 0o664);
    try {
      writeSync(fd, `${JSON.stringify(marker, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
