/**
 * The job kernel upload and cleanup share: the lock (one run of each job at a time), the clock, the
 * qBittorrent client (logged in once, on first use), the timing and the one summary line each run
 * ends with, and the exit code. A job returns its counts; the kernel says them the same way for all.
 */
import { join } from "node:path";
import type { RuntimeConfigModel } from "./config.ts";
import { clientFor } from "./categories.ts";
import { withLock } from "./lock.ts";
import { formatSeconds, log } from "./log.ts";
import type { QbittorrentClient } from "./qbittorrent.ts";

export interface JobOptions {
  dryRun: boolean;
  /** The clock, in ms since the epoch; tests move it. */
  now?: () => number;
}

export interface JobContext {
  config: RuntimeConfigModel;
  dryRun: boolean;
  now: () => number;
  /** The qBittorrent client, logged in on first use. */
  qbittorrent(): Promise<QbittorrentClient>;
}

export interface JobOutcome {
  /** The parts of the summary line: `3 uploaded (1.2 GiB)`, `0 failed`. */
  parts: string[];
  /** Something went wrong this run: the line is a warning and the exit code 1. */
  failed: boolean;
}

export interface JobResult<S> {
  exitCode: number;
  summary: S;
  /** Another run held the lock: this one did nothing. */
  locked: boolean;
}

export async function runJob<S>(name: "upload" | "cleanup", config: RuntimeConfigModel, options: JobOptions, summary: S, body: (ctx: JobContext) => Promise<JobOutcome>): Promise<JobResult<S>> {
  const started = Date.now();
  let client: Promise<QbittorrentClient> | undefined;
  const ctx: JobContext = {
    config,
    dryRun: options.dryRun,
    now: options.now ?? Date.now,
    qbittorrent: () =>
      (client ??= (async () => {
        const c = clientFor(config);
        await c.login();
        return c;
      })()),
  };
  let outcome: JobOutcome | undefined;
  const ran = await withLock(join(config.lockDir, `${name}.lock`), name, options.dryRun, async () => {
    outcome = await body(ctx);
  });
  if (!ran || !outcome) return { exitCode: 0, summary, locked: true };
  sayFinished(name, options.dryRun, started, outcome);
  return { exitCode: outcome.failed ? 1 : 0, summary, locked: false };
}

/** The one line each job's run ends with: a warning when something failed. */
export function sayFinished(name: string, dryRun: boolean, startedMs: number, outcome: JobOutcome): void {
  const line = `${name} ${dryRun ? "(dry run) " : ""}finished in ${formatSeconds(Date.now() - startedMs)}: ${outcome.parts.join(", ")}`;
  if (outcome.failed) log.warn(line);
  else log.info(line);
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
