/**
 * `cleanup`: frees the disk once media is safely on the remote, as a pipeline anyone can follow in
 * the journal: observe (qBittorrent, the file system, the upload records) → plan (pure: plan.ts
 * states the rule) → verify (one remote listing) → execute (per file, re-checked). The only place
 * this project deletes the user's files.
 */
import type { RuntimeConfigModel } from "../config.ts";
import { runJob, plural, type JobOptions } from "../job.ts";
import { formatBytes, log, q } from "../log.ts";
import { listRemote } from "../rclone.ts";
import { Executor, logSpared } from "./execute.ts";
import { observe, sessionHashes } from "./observe.ts";
import { plan } from "./plan.ts";
import { writeCleanupState } from "./sightings.ts";
import { verifyDeletion } from "./verify.ts";

export { CleanupError } from "./observe.ts";

export interface CleanupSummary {
  torrentsRemoved: number;
  orphansRemoved: number;
  freedBytes: number;
  keptNotUploaded: number;
  keptOther: number;
  keptRemoteMismatch: number;
  seeding: number;
  orphansWaiting: number;
  deferred: number;
}

export async function cleanup(config: RuntimeConfigModel, options: JobOptions) {
  const summary: CleanupSummary = { torrentsRemoved: 0, orphansRemoved: 0, freedBytes: 0, keptNotUploaded: 0, keptOther: 0, keptRemoteMismatch: 0, seeding: 0, orphansWaiting: 0, deferred: 0 };
  return runJob("cleanup", config, options, summary, async (ctx) => {
    const client = await ctx.qbittorrent();
    const obs = await observe(config, client, ctx.now());
    const p = plan(obs, config.cleanup);
    summary.seeding = p.seeding;
    summary.orphansWaiting = p.orphansWaiting;
    summary.deferred = p.deferred;
    for (const k of p.kept) {
      if (k.waitingForUpload) summary.keptNotUploaded++;
      else summary.keptOther++;
      log.info(`kept ${k.kind} ${q(k.label)}: ${k.reason}`);
    }
    if (p.orphanScanSkipped) log.info(`no file judged an orphan this run: ${p.orphanScanSkipped}`);
    const mismatched = new Map<string, number>();

    if (p.deletions.length > 0) {
      // Verify: one listing for every remote copy this run depends on. A failed listing throws: nothing is deleted.
      const listing = await listRemote(config.remote, p.deletions.flatMap((d) => d.needs.map((n) => n.remotePath)));
      const executor = new Executor(obs.roots, p.listedBy, client);
      // The plan knows the torrents of the observation: one added since (a cross-seed of a file
      // about to go) lists files the plan did not see. So before each deletion the session must
      // still be what was observed, less what this run removed; otherwise the run stops here.
      const expected = new Set(obs.torrents.map((t) => t.hash));
      for (const d of p.deletions) {
        if (!ctx.dryRun) {
          const now = await sessionHashes(client);
          if (now.length !== expected.size || now.some((h) => !expected.has(h))) {
            log.info("qBittorrent's torrents changed during this run: nothing more is removed until the next run");
            break;
          }
        }
        const problem = verifyDeletion(d, listing);
        if (problem) {
          summary.keptRemoteMismatch++;
          // Upload drops the records of these files and sends them again.
          for (const f of d.files) mismatched.set(`${f.id.dev}:${f.id.ino}`, ctx.now());
          log.warn(`kept ${d.kind} ${q(d.label)}: ${problem}; the next upload run sends it again`);
          continue;
        }
        const copies = plural(d.needs.length, "remote copy", "remote copies");
        const size = formatBytes([...new Map(d.files.map((f) => [`${f.id.dev}:${f.id.ino}`, f.id.size])).values()].reduce((a, b) => a + b, 0));
        if (ctx.dryRun) {
          log.info(`would remove ${d.kind} ${q(d.label)} (${d.reason}; ${copies} verified): ${plural(d.files.length, "file")}, ${size}`);
        } else {
          const done = await executor.run(d);
          if (d.torrent) expected.delete(d.torrent.hash);
          summary.freedBytes += done.freedBytes;
          log.info(`removed ${d.kind} ${q(d.label)} (${d.reason}; ${copies} verified): ${plural(done.deleted, "file")} deleted, ${formatBytes(done.freedBytes)} freed`);
          logSpared(`${d.kind} ${q(d.label)}`, done.spared);
        }
        if (d.kind === "torrent") summary.torrentsRemoved++;
        else summary.orphansRemoved++;
      }
    }
    if (!ctx.dryRun) writeCleanupState(config.stateDir, { unreferenced: p.sightings, mismatched });
    if (p.deferred > 0) log.warn(`cleanup: the cap of ${config.cleanup.maxDeletionsPerRun} deletions per run is reached; ${p.deferred} more wait for the next run`);
    const verb = ctx.dryRun ? "would be removed" : "removed";
    return {
      parts: [
        `${plural(summary.torrentsRemoved, "torrent")} and ${plural(summary.orphansRemoved, "orphan")} ${verb} (${formatBytes(summary.freedBytes)} freed)`,
        `${summary.keptNotUploaded} kept (not on the remote yet)`,
        `${summary.keptOther} kept (other reasons, logged above)`,
        `${summary.keptRemoteMismatch} kept (remote copy missing or different)`,
        `${summary.seeding} still seeding or downloading`,
        `${summary.orphansWaiting} unreferenced, waiting out the grace period`,
      ],
      failed: summary.keptRemoteMismatch > 0,
    };
  });
}
