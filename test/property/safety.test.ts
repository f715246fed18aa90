/**
 * The runtime never loses data and never frees a torrent early. Over random histories (history.ts)
 * of downloads of every class (episodes, season packs, movies with skipped files, loose folders,
 * single files and lone archives in completed/, torrents without a subfolder, two archive sets with
 * one inner name beside a loose file of that name, encrypted and corrupt archives; names with line
 * breaks, quotes, unicode, 234–255 bytes), magnets, downloads in the temp folder or in place,
 * imports as hard links or copies (a season pack with one episode left out), cross-seeds, repacks
 * under the old name, renames, moves, torrents stopped, queued, rechecked or missing files, sessions
 * lost whole or in part and restarts, junk left in folders, content rewritten in place with its
 * mtime kept, remote objects vanishing or changed with their size kept, uploads with rclone killed
 * part-way or its log lost, upload and cleanup at once, qBittorrent down or erring, and the clock
 * moving on (quiet period, seeding period, orphan grace), after every step:
 *   - every file content that was ever in completed/ or a library is still on disk, or byte-identical
 *     on the remote at a path its upload record names (an archive volume: every file of its set);
 *   - no torrent left qBittorrent through cleanup before it seeded for the seeding period (in truth,
 *     or by qBittorrent's own up-to-date count);
 *   - every file cleanup deleted was listed by a torrent it removed (or is a hard link of one) and by
 *     no torrent that remains, or was an orphan that existed for the grace period; the configured
 *     folders remain.
 * What the world removes itself is not held against the runtime (world.ts).
 *
 * Real rclone (a local alias standing in for B2) and unar; a model of qBittorrent's WebUI API
 * (qbittorrent-model.ts) whose behaviour follows facts measured on the real 4.5.2 and 5.1
 * (test/support/qbittorrent-facts.ts), itself checked against them in model.test.ts.
 *
 *   PROPERTY_RUNS            histories (default 60: under a minute)
 *   PROPERTY_SEED            a number (default 20261126), or `random` (the seed is printed)
 *   PROPERTY_LANES           histories played side by side (default 2: rclone and unar use the second core)
 *   PROPERTY_PATH            replays one history (the path a failure prints) and shrinks it
 *   PROPERTY_SHRINK_SECONDS  how long shrinking may take (default 180)
 * The full run: PROPERTY_RUNS=10000 PROPERTY_SEED=random npx vitest run test/property/safety.test.ts
 */
import fc from "fast-check";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../runtime/log.ts";
import { historyArb, newTotals, play, PropertyFailure, type History, type Totals } from "./history.ts";
import { cleanup } from "../../runtime/cleanup/index.ts";
import { upload } from "../../runtime/upload.ts";
import { fileLocation } from "./qbittorrent-model.ts";
import { startBench, stopBench, walk, World, type Bench } from "./world.ts";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);
const SEED = process.env.PROPERTY_SEED === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.PROPERTY_SEED ?? 20261126);
const LANES = Math.max(1, Number(process.env.PROPERTY_LANES ?? 2));
const PATH = process.env.PROPERTY_PATH;
/** How long fast-check may spend shrinking a counterexample (each try replays a whole history). */
const SHRINK_SECONDS = Number(process.env.PROPERTY_SHRINK_SECONDS ?? 180);
/** A progress line every this many histories (only in runs longer than that). */
const PROGRESS_EVERY = Number(process.env.PROPERTY_PROGRESS_EVERY ?? 250);
if (process.env.PROPERTY_SEED === "random") console.log(`property: PROPERTY_SEED=random picked seed ${SEED}`);

let bench: Bench;
/** The runtime's log lines of the history being replayed (only kept while replaying one at a time). */
let logLines: string[] | undefined;

beforeAll(async () => {
  bench = await startBench();
  setLogSink((level, line) => logLines?.push(`${level}: ${line}`));
}, 60_000);
afterAll(async () => {
  setLogSink(undefined);
  if (bench) await stopBench(bench);
});

/** CPU time of this process and its waited-for children (rclone, unar, lsar), in ms: what the run costs on an idle machine. */
function cpuMs(): { own: number; children: number } {
  const own = process.cpuUsage();
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 16 and 17 (cutime, cstime) are the 14th and 15th after the command name, in clock ticks (100 per second).
  return { own: (own.user + own.system) / 1000, children: (Number(fields[13]) + Number(fields[14])) * 10 };
}

const describeTotals = (t: Totals) =>
  `${t.steps} steps; ${t.uploadRuns} uploads (${t.itemsUploaded} items uploaded, ${t.uploadFailures} failed, ${t.setAside} set aside); ` +
  `${t.cleanupRuns} cleanups (${t.cleanupsRefused} refused: qBittorrent down or erring): ${t.torrentsRemoved} torrents and ${t.orphansRemoved} orphans removed, ` +
  `${t.filesDeleted} files deleted, ${t.keptRemoteMismatch} kept for a missing or different remote copy; ${t.forgiven} contents removed by the world itself`;

/** Replays history `path` of the seed one at a time and lets fast-check shrink it; returns the report. */
async function shrink(path: string, totals: Totals): Promise<string> {
  let last: { error: unknown; log: string[] } | undefined;
  const details = await fc.check(
    fc.asyncProperty(historyArb, async (history) => {
      logLines = [];
      try {
        await play(bench, history, totals);
      } catch (error) {
        last = { error, log: logLines };
        throw error;
      } finally {
        logLines = undefined;
      }
    }),
    { seed: SEED, path, numRuns: 1, endOnFailure: false, interruptAfterTimeLimit: SHRINK_SECONDS * 1000, markInterruptAsFailure: false },
  );
  if (!details.failed) return `history ${path} of seed ${SEED} passed when replayed alone (a race between the concurrent upload and cleanup?)`;
  const history = details.counterexample![0] as History;
  const error = last?.error;
  return [
    `counterexample (seed ${SEED}, path ${details.counterexamplePath}, shrunk ${details.numShrinks} times):`,
    `  reproduce: PROPERTY_SEED=${SEED} PROPERTY_PATH=${details.counterexamplePath} npx vitest run test/property/safety.test.ts`,
    `  qBittorrent ${history.version}; steps:`,
    ...history.ops.map((o, i) => `    ${i + 1}. ${JSON.stringify(o)}`),
    `  ${error instanceof PropertyFailure ? error.message : String(error)}`,
    `  runtime log of the last replay:`,
    ...(last?.log ?? []).slice(-60).map((l) => `    ${l}`),
  ].join("\n");
}

describe("no file is lost and no torrent leaves early (real rclone and unar; qBittorrent model, facts checked in test/runtime/qbittorrent-behaviour.test.ts)", () => {
  it(
    PATH ? `replays history ${PATH} of seed ${SEED}` : `holds over ${RUNS} random histories (seed ${SEED})`,
    async () => {
      const totals = newTotals();
      const started = Date.now();
      const cpuStarted = cpuMs();
      if (PATH) {
        const report = await shrink(PATH, totals);
        console.log(report);
        expect.fail(report);
      }
      const histories = fc.sample(historyArb, { seed: SEED, numRuns: RUNS });
      const failures: { index: number; error: unknown }[] = [];
      let next = 0;
      const lane = async () => {
        while (failures.length === 0 && next < histories.length) {
          const index = next++;
          try {
            await play(bench, histories[index]!, totals);
            // A long run says how far it got, so a run stopped early still reports its count.
            if (totals.histories % PROGRESS_EVERY === 0 && totals.histories < RUNS) {
              console.log(`property: seed ${SEED}: ${totals.histories} of ${RUNS} histories played, 0 lost so far (${((Date.now() - started) / 1000).toFixed(0)} s)`);
            }
          } catch (error) {
            failures.push({ index, error });
          }
        }
      };
      await Promise.all(Array.from({ length: LANES }, lane));
      const ms = Date.now() - started;
      const perHistory = (ms / Math.max(1, totals.histories)).toFixed(0);
      const cpuEnded = cpuMs();
      const per = (x: number) => (x / Math.max(1, totals.histories)).toFixed(0);
      const cpuPerHistory = `${per(cpuEnded.own + cpuEnded.children - cpuStarted.own - cpuStarted.children)} ms per history (${per(cpuEnded.own - cpuStarted.own)} in this process)`;
      if (failures.length > 0) {
        const first = failures.sort((a, b) => a.index - b.index)[0]!;
        console.log(`property: history ${first.index} of seed ${SEED} failed: ${first.error instanceof PropertyFailure ? first.error.message : String(first.error)}`);
        const report = await shrink(String(first.index), newTotals());
        console.log(`property: ${totals.histories} histories, seed ${SEED}, a loss found\n${report}`);
        expect.fail(report);
      }
      console.log(`property: ${totals.histories} histories, seed ${SEED}, 0 lost (${(ms / 1000).toFixed(1)} s: ${perHistory} ms per history with ${LANES} lanes; CPU ${cpuPerHistory})`);
      console.log(`property: ${describeTotals(totals)}`);
      console.log(`property: classes added ${JSON.stringify(totals.classes)}`);
      console.log(`property: torrents cleanup removed, by class ${JSON.stringify(totals.removedByClass)}`);
      console.log(`property: ops ${JSON.stringify(totals.ops)}`);
      console.log(`property: qBittorrent model answers (torrents/info) ${JSON.stringify(Object.fromEntries(bench.server.served))}`);
      console.log(`property: ms per kind of step ${JSON.stringify(Object.fromEntries(Object.entries(totals.ms).map(([k, v]) => [k, Math.round(v)])))}`);
      if (totals.unexpectedErrors.length > 0) console.log(`property: runs that ended with an unexpected error:\n  ${totals.unexpectedErrors.join("\n  ")}`);
      expect(totals.histories).toBe(RUNS);
      // The histories must reach the interesting cases, or the property proves little.
      if (RUNS >= 30) {
        expect(totals.torrentsRemoved).toBeGreaterThan(0);
        expect(totals.filesDeleted).toBeGreaterThan(0);
        expect(totals.uploadFailures).toBeGreaterThan(0);
        expect(totals.cleanupsRefused).toBeGreaterThan(0);
      }
    },
    RUNS * 3_000 + 15 * 60_000,
  );
});

describe("the property can fail (each check catches what it is for)", () => {
  const DAY = 86400;
  /** A world with one uncategorized download, uploaded by the real runtime and seeded past the seeding period. */
  async function uploadedWorld(): Promise<World> {
    const world = new World(bench, "4.5");
    world.add("loose", "plain", 0, "complete");
    world.passTime(300, true);
    await upload(world.config, { dryRun: false, now: () => world.clock });
    expect(world.check()).toEqual([]);
    return world;
  }

  it("a deletion whose remote copy was changed (same size) is a loss", async () => {
    const world = await uploadedWorld();
    try {
      for (const object of walk(world.bucket)) {
        const data = readFileSync(object);
        data[0] = data[0]! ^ 1;
        writeFileSync(object, data);
      }
      expect(world.check()).toEqual([]);
      const before = world.before();
      // What a cleanup that skipped the remote check would do.
      const t = world.session.torrents[0]!;
      world.session.remove(t, false);
      for (const f of t.files) rmSync(fileLocation(t, f));
      expect(world.check(before).filter((p) => p.startsWith("lost "))).toHaveLength(3);
    } finally {
      world.dispose();
    }
  });

  it("a torrent removed before its seeding period is reported", async () => {
    const world = await uploadedWorld();
    try {
      world.passTime(DAY, true);
      const before = world.before();
      const t = world.session.torrents[0]!;
      await fetch(`${world.config.qbittorrent.url}/api/v2/torrents/delete`, { method: "POST", body: new URLSearchParams({ hashes: t.hash, deleteFiles: "false" }) });
      expect(world.check(before).join("\n")).toMatch(/before the seeding period/);
    } finally {
      world.dispose();
    }
  });

  it("a file deleted while another torrent lists it, and an orphan deleted before its grace period, are reported", async () => {
    const world = await uploadedWorld();
    try {
      const t = world.session.torrents[0]!;
      const cross = world.crossSeedOf(t, "extra.mkv");
      world.passTime(8 * DAY, true);
      await upload(world.config, { dryRun: false, now: () => world.clock });
      // The first torrent goes, with a file its cross-seed still lists.
      let before = world.before();
      await fetch(`${world.config.qbittorrent.url}/api/v2/torrents/delete`, { method: "POST", body: new URLSearchParams({ hashes: t.hash, deleteFiles: "false" }) });
      rmSync(fileLocation(cross, cross.files[0]!));
      expect(world.check(before).join("\n")).toMatch(/which torrent .* \(still in qBittorrent\) lists/);
      // A file nobody lists, written an hour ago.
      const orphan = `${world.completed}/note.txt`;
      world.write(orphan, world.content("a note"));
      world.passTime(3600, true);
      before = world.before();
      rmSync(orphan);
      expect(world.check(before).join("\n")).toMatch(/after it appeared \(orphan grace/);
    } finally {
      world.dispose();
    }
  });

  it("the real cleanup, given the same history, deletes nothing it should not", async () => {
    const world = await uploadedWorld();
    try {
      world.passTime(8 * DAY, true);
      const before = world.before();
      const { summary } = await cleanup(world.config, { dryRun: false, now: () => world.clock });
      expect(world.check(before)).toEqual([]);
      expect(summary.torrentsRemoved).toBe(1);
    } finally {
      world.dispose();
    }
  });
});
