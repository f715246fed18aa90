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
  const dir = mkdtempSync(join(tmpdir(), "media-pipeline-"));
  const list = join(dir, "files-from");
  writeFileSync(list, options.files.map((f) => `${f}\n`).join(""));
  try {
    return await runRclone(
      ["copy", options.root, options.dest, "--files-from-raw", list, "--use-json-log", "-vv", "--stats-one-line", ...options.flags],
      options.log,
      options.onSpawn,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `rclone copyto FILE DEST`, for a file whose name cannot go in a --files-from list (a newline). */
export async function copyOne(options: { source: string; dest: string; object: string; flags: readonly string[]; log: Logger; onSpawn?: (pid: number) => void }): Promise<CopyResult> {
  const result = await runRclone(["copyto", options.source, options.dest, "--use-json-log", "-vv", "--stats-one-line", ...options.flags], options.log, options.onSpawn);
  // copyto logs the destination's leaf name; map it back to the object we asked for.
  const confirmed = new Map<string, number>();
  for (const at of result.confirmed.values()) confirmed.set(options.object, at);
  const errors = new Map<string, string>();
  for (const message of result.errors.values()) errors.set(options.object, message);
  return { ...result, confirmed, errors };
}

function runRclone(args: string[], log: Logger, onSpawn?: (pid: number) => void): Promise<CopyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(rcloneBinary(), args, {
      stdio: ["ignore", "pipe", "pipe"],
      // Credentials come from RCLONE_CONFIG_<REMOTE>_* in the environment; no config file is read.
      env: { ...process.env, RCLONE_CONFIG: process.env.RCLONE_CONFIG ?? "/dev/null" },
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
