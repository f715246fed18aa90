/**
 * Runs rclone and reads its JSON log. A file counts as on the remote only when rclone says so
 * for that file ("Copied ..." after the transfer and its checksum check, or, at debug level,
 * "Unchanged skipping" after comparing checksums); every other outcome leaves it unconfirmed.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Logger } from "./log.ts";

export const rcloneBinary = () => process.env.MEDIA_PIPELINE_RCLONE || "rclone";

/**
 * Credentials come from RCLONE_CONFIG_<REMOTE>_* in the environment; no config file is read. Every
 * other RCLONE_* variable is dropped: RCLONE_SIZE_ONLY=true, say, would make rclone call a different
 * file "unchanged", and upload would record it as uploaded.
 */
const rcloneEnv = () => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("RCLONE_") || k.startsWith("RCLONE_CONFIG")) env[k] = v;
  return { ...env, RCLONE_CONFIG: process.env.RCLONE_CONFIG ?? "/dev/null" };
};

/**
 * A file name as rclone names it inside (its "standard" encoding, which the local and B2 backends
 * both use): control characters become control pictures (\x01 → ␁, \n → ␊, DEL → ␡), so they can
 * go in a --files-from list and be found in a listing. Names rclone cannot tell apart from such an
 * encoding (with a literal control picture, or rclone's quote ‛, which rclone 1.60 cannot even copy)
 * are refused by upload instead: `undefined`.
 */
export function rcloneName(name: string): string | undefined {
  let out = "";
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x2400 && c <= 0x2421) || c === 0x201b) return undefined;
    out += c < 0x20 ? String.fromCodePoint(0x2400 + c) : c === 0x7f ? "\u2421" : ch;
  }
  return out;
}

/** A remote could not be read; callers must not act on what they did not see. */
export class RemoteError extends Error {
  override name = "RemoteError";
}

/** Runs `fn` with a temporary `--files-from-raw` list of `paths`, one per line. */
async function withFilesFrom<T>(paths: readonly string[], fn: (list: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "media-pipeline-"));
  const list = join(dir, "files-from");
  writeFileSync(list, paths.map((p) => `${p}\n`).join(""));
  try {
    return await fn(list);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CopyResult {
  /** Paths (relative to the source root) rclone confirmed on the remote, with when (ms since epoch). */
  confirmed: Map<string, number>;
  /** Paths with an error, and rclone's message. */
  errors: Map<string, string>;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Errors not tied to one file (authorization, listing). */
  general: string[];
}

interface JsonLogLine {
  level?: string;
  msg?: string;
  object?: string;
  stats?: unknown;
}

const CONFIRMING = /^(Copied \(|Unchanged skipping$)/;

/** `rclone copy ROOT DEST --files-from LIST`: one process for every file of a scan root. */
export async function copyFiles(options: {
  root: string;
  dest: string;
  files: readonly string[];
  flags: readonly string[];
  log: Logger;
  /** Called once the process is running. */
  onSpawn?: (pid: number) => void;
}): Promise<CopyResult> {
  return withFilesFrom(options.files, (list) =>
    runRclone(["copy", options.root, options.dest, "--files-from-raw", list, "--use-json-log", "-vv", "--stats-one-line", ...options.flags], options.log, options.onSpawn),
  );
}

function runRclone(args: string[], log: Logger, onSpawn?: (pid: number) => void): Promise<CopyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(rcloneBinary(), args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: rcloneEnv(),
    });
    const confirmed = new Map<string, number>();
    const errors = new Map<string, string>();
    const general: string[] = [];
    child.on("error", (error) => reject(new Error(`cannot run ${rcloneBinary()}: ${error.message}`)));
    if (child.pid !== undefined) onSpawn?.(child.pid);
    const lines = createInterface({ input: child.stderr });
    lines.on("line", (line) => {
      let entry: JsonLogLine;
      try {
        entry = JSON.parse(line) as JsonLogLine;
      } catch {
        // Before the JSON logger starts, rclone prints a few plain lines; its debug ones are noise.
        if (line.trim() && !/ DEBUG : /.test(line)) log.info(`rclone: ${line.trim()}`);
        return;
      }
      const msg = (entry.msg ?? "").trim();
      if (entry.stats !== undefined) {
        log.info(`rclone: ${msg}`);
      } else if (entry.level === "error" || entry.level === "critical") {
        if (entry.object !== undefined) errors.set(entry.object, msg);
        else general.push(msg);
      } else if (entry.object !== undefined && CONFIRMING.test(msg)) {
        confirmed.set(entry.object, Date.now());
      }
    });
    child.stdout.resume();
    child.on("close", (exitCode, signal) => {
      lines.close();
      resolve({ confirmed, errors, exitCode, signal, general });
    });
  });
}

function lsjson(args: string[]): Promise<{ Path: string; Size: number; Hashes?: Record<string, string> }[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(rcloneBinary(), ["lsjson", ...args, "--files-only", "--hash", "--hash-type", "sha1", "--no-mimetype"], { stdio: ["ignore", "pipe", "pipe"], env: rcloneEnv() });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (error) => reject(new RemoteError(`cannot run ${rcloneBinary()}: ${error.message}`)));
    child.on("close", (code) => {
      if (code !== 0) return reject(new RemoteError(`cannot list the remote ${args[0]} (rclone exit ${code}): ${err.trim().split("\n").slice(-1)[0] ?? ""}`));
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new RemoteError("rclone lsjson printed something that is not JSON"));
      }
    });
  });
}

/**
 * Size and SHA-1 (as the remote stores it) of each listed remote path that exists, by rclone's name
 * for it (rcloneName); throws when the remote cannot be listed, so callers never act on what they did
 * not see. One `rclone lsjson` for all paths.
 */
export async function listRemote(remote: string, paths: readonly string[]): Promise<Map<string, { size: number; sha1?: string }>> {
  const found = new Map<string, { size: number; sha1?: string }>();
  const unique = [...new Set(paths)];
  if (unique.length === 0) return found;
  const entries = await withFilesFrom(unique, (list) => lsjson([remote, "--files-from-raw", list, "-R"]));
  for (const e of entries) found.set(e.Path, { size: e.Size, sha1: e.Hashes?.sha1 || undefined });
  return found;
}
