/**
 * Small JSON documents under the state directory (/var/lib/media-pipeline, the units' StateDirectory),
 * written crash-safely: a temporary file beside the target, fsync, rename over the target, fsync of
 * the folder. A reader sees the old document or the new one, never half of one, whenever the
 * process or the machine stops.
 *
 * Each document has one writer (upload owns uploads.json and attention.json, cleanup owns
 * cleanup.json), which holds that job's lock while it writes; others only read.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

export class StateError extends Error {
  override name = "StateError";
}

/**
 * Reads a document; a missing file is `undefined`, a damaged one is an error naming the file (never
 * silently empty) and `remedy`, what the reader can do about it.
 */
export function readState(path: string, remedy = "move it aside to start over (uploads are then checked again against the remote)"): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StateError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new StateError(`${path} is damaged (not JSON); ${remedy}`);
  }
}

/** Writes a document crash-safely; `mode` 0600 for one that holds a secret (the wire job's session). */
export function writeState(path: string, data: unknown, mode = 0o640): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${path.split("/").pop()}.tmp-${process.pid}`);
  try {
    const fd = openSync(temp, "w", mode);
    try {
      writeSync(fd, `${JSON.stringify(data)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new StateError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  // The rename is durable only once the folder is on disk too.
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
