/**
 * rclone as the runtime runs it, or killed part-way. One wrapper (MEDIA_PIPELINE_RCLONE) serves every
 * world: it finds the world by the remote named in its arguments (`w7:bucket/…`) and reads that
 * world's mode from `<dir>/w7.mode`, so two histories can run side by side in one process.
 *
 * Modes, for `copy` and `copyto` only (listings always run as they are):
 *   - "" (no file): the real rclone, nothing changed;
 *   - `cut N`: rclone copies the first N files of its list, reports them, and is then killed with
 *     SIGKILL (a `copyto` with N = 0 is killed before it starts). B2 never shows a partial object,
 *     so the files past N are simply not sent; the runtime sees the kill and N confirmations;
 *   - `lost`: rclone copies everything but its log is lost and it is killed (the runtime confirms
 *     nothing, while the remote holds every object: the next run must find them "Unchanged").
 * GOMAXPROCS=1 and GOGC=off only tune Go's runtime for these short runs.
 * `--max-transfer 1 --cutoff-mode hard` (the old wrapper) is not used: rclone 1.60 lets files of a
 * few bytes through whatever the limit, so it never cut anything here.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireTool } from "../helpers.ts";

export type RcloneMode = "ok" | "cut0" | "cut1" | "cut2" | "lost";

export function rcloneWrapper(dir: string): { path: string; setMode(remote: string, mode: RcloneMode): void } {
  const rclone = requireTool("rclone");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "rclone");
  writeFileSync(
    path,
    `#!/bin/bash
ctl=${JSON.stringify(dir)}
real=${JSON.stringify(rclone)}
# Go runtime tuning only (one thread, no garbage collection in a run of a few milliseconds): the
# same rclone, a third less CPU per start, which is most of what a history costs.
export GOMAXPROCS=1 GOGC=off
mode=""
for a in "$@"; do
  if [[ $a =~ ^(w[0-9]+): ]]; then
    [[ -f "$ctl/\${BASH_REMATCH[1]}.mode" ]] && mode=$(<"$ctl/\${BASH_REMATCH[1]}.mode")
    break
  fi
done
if [[ $1 != copy && $1 != copyto ]] || [[ -z $mode ]]; then exec "$real" "$@"; fi
if [[ $mode == lost ]]; then "$real" "$@" 2>/dev/null >/dev/null; kill -KILL $$; fi
n=\${mode#cut }
if [[ $1 == copyto ]]; then
  if (( n > 0 )); then "$real" "$@"; fi
  kill -KILL $$
fi
args=()
cut=""
while (( $# > 0 )); do
  if [[ $1 == --files-from-raw ]]; then
    cut="$2.cut"
    head -n "$n" -- "$2" > "$cut"
    args+=("$1" "$cut")
    shift 2
  else
    args+=("$1")
    shift
  fi
done
if (( n > 0 )); then "$real" "\${args[@]}" --transfers 1; fi
[[ -n $cut ]] && rm -f -- "$cut"
kill -KILL $$
`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    setMode(remote, mode) {
      const file = join(dir, `${remote}.mode`);
      if (mode === "ok") rmSync(file, { force: true });
      else writeFileSync(file, mode === "lost" ? "lost" : `cut ${mode.slice(3)}`);
    },
  };
}
