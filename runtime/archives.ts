/**
 * Archives inside downloaded items: which files are archive volumes, which volume starts each set,
 * and extraction with unar into a staging folder that is renamed into place only on success, so a
 * failed extraction (encrypted, corrupt, disk full) leaves nothing behind.
 */
import { spawn } from "node:child_process";
import { mkdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export const unarBinary = () => process.env.MEDIA_PIPELINE_UNAR || "unar";

/** True for any volume of an archive of the given types: `.rar`, `.r00`…, `.partNN.rar`, `.zip`. */
export function isArchiveVolume(name: string, types: readonly string[]): boolean {
  const lower = name.toLowerCase();
  if (types.includes(".rar") && /\.r[0-9]{2,3}$/.test(lower)) return true;
  return types.some((t) => lower.endsWith(t));
}

/** The volume unar must be given: `x.rar` (old `.r00` style), `x.part1.rar`/`x.part01.rar`, `x.zip`. */
export function isFirstVolume(name: string, types: readonly string[]): boolean {
  const lower = name.toLowerCase();
  if (!types.some((t) => lower.endsWith(t))) return false;
  const part = lower.match(/\.part0*([0-9]+)\.rar$/);
  return part ? part[1] === "1" : true;
}

export interface ExtractResult {
  ok: boolean;
  message: string;
}

function runUnar(archive: string, into: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // stdin is closed so an encrypted archive fails at once instead of waiting for a password.
    const child = spawn(unarBinary(), ["-q", "-f", "-D", "-o", into, archive], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", (error) => resolve({ code: -1, output: `cannot run ${unarBinary()}: ${error.message}` }));
    child.on("close", (code) => resolve({ code, output }));
  });
}

/**
 * Extracts every first volume of an item into `target`, each under its folder in the item:
 * `Item/sub/a.rar` extracts into `target/sub/`. All or nothing: any failure removes everything.
 */
export async function extractItem(archives: readonly { path: string; relativeDir: string }[], target: string): Promise<ExtractResult> {
  const staging = join(dirname(target), `.partial-${basename(target)}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  for (const archive of archives) {
    const into = join(staging, archive.relativeDir);
    mkdirSync(into, { recursive: true });
    const result = await runUnar(archive.path, into);
    if (result.code !== 0) {
      rmSync(staging, { recursive: true, force: true });
      const reason = result.output.trim().split("\n").filter(Boolean).slice(-1)[0] ?? `unar exited ${result.code}`;
      return { ok: false, message: `${basename(archive.path)}: ${reason}` };
    }
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  return { ok: true, message: "" };
}
