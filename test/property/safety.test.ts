/**
 * The runtime never loses data: over random histories of downloads, imports, uploads (some cut off
 * part-way), failed extractions, cleanups (with qBittorrent answering, down, or talking nonsense),
 * torrents removed in the WebUI, cross-seeds adding a file to a folder, torrents without a
 * subfolder, magnets without metadata, remote objects that vanish, and upload and cleanup running
 * at the same time, every file that was ever in the library or in completed/ is still there or has a
 * byte-identical copy on the remote.
 *
 * PROPERTY_RUNS sets the number of histories (default 60, with a fixed seed); the full run is
 *   PROPERTY_RUNS=10000 PROPERTY_SEED=random npx vitest run test/property
 */
import fc from "fast-check";
import { execa } from "execa";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup } from "../../runtime/cleanup.ts";
import { setLogSink } from "../../runtime/log.ts";
import { upload } from "../../runtime/upload.ts";
import { requireTool } from "../helpers.ts";
import { fixture } from "../runtime/sandbox.ts";
import { rcloneWrappers, walkFiles, World, type ApiMode, type ItemKind } from "./world.ts";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);
/** The suite's run is reproducible (a fixed seed); PROPERTY_SEED=random explores new histories. */
const SEED = process.env.PROPERTY_SEED === "random" ? Date.now() : Number(process.env.PROPERTY_SEED ?? 20261126);

/** One upload in four is cut off part-way. */
const interrupted = fc.integer({ min: 0, max: 3 }).map((n) => n === 0);
const names = ["Show Name", "It's \"Quoted\"", "Ünïcødé 日本", "Line\nBreak", "$HOME & `x`", "plain"];
const op = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("add" as const), kind: fc.constantFrom<ItemKind>("tv", "movie", "uncategorized", "archive", "corrupt-archive", "no-subfolder"), name: fc.constantFrom(...names) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("import" as const), index: fc.nat(4), clean: fc.constantFrom(...names) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("upload" as const), interrupted: interrupted }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("cleanup" as const), api: fc.constantFrom<ApiMode>("ok", "ok", "ok", "ok", "down", "nonsense", "error") }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("seed" as const), index: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("seeding-period-passes" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("webui-remove" as const), index: fc.nat(4), deleteFiles: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("vanish" as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("together" as const), interrupted: interrupted }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("cross-seed" as const), index: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("magnet" as const) }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

let fixtures: { good: Buffer; goodContents: Buffer[]; corrupt: Buffer };
let wrappers: { normal: string; interrupted: string };

beforeAll(async () => {
  requireTool("unar");
  const good = readFileSync(fixture("rar4-simple.rar"));
  const out = mkdtempSync(join(tmpdir(), "mp-fixture-"));
  await execa(requireTool("unar"), ["-q", "-D", "-o", out, fixture("rar4-simple.rar")], { stdin: "ignore" });
  fixtures = { good, goodContents: walkFiles(out).map((p) => readFileSync(p)), corrupt: readFileSync(fixture("rar5-corrupt.rar")) };
  wrappers = rcloneWrappers(mkdtempSync(join(tmpdir(), "mp-wrap-")));
  setLogSink(() => {});
});
afterAll(() => setLogSink(undefined));

/** What the histories exercised, so a run that never deletes anything cannot pass unnoticed. */
const totals = { uploaded: 0, uploadFailures: 0, removed: 0, keptRemoteMismatch: 0, failedCleanups: 0 };

async function play(history: Op[]): Promise<void> {
  const world = new World(wrappers.normal);
  await world.start();
  process.env.RCLONE_CONFIG_B2_TYPE = "alias";
  process.env.RCLONE_CONFIG_B2_REMOTE = world.remoteRoot;
  const runUpload = async (interrupted: boolean) => {
    process.env.MEDIA_PIPELINE_RCLONE = interrupted ? wrappers.interrupted : wrappers.normal;
    const { summary } = await upload(world.config, { dryRun: false });
    totals.uploaded += summary.uploaded;
    totals.uploadFailures += summary.failed;
  };
  const runCleanup = async () => {
    process.env.MEDIA_PIPELINE_RCLONE = wrappers.normal;
    try {
      const { summary } = await cleanup(world.configFor(), { dryRun: false });
      totals.removed += summary.torrentsRemoved + summary.orphansRemoved;
      totals.keptRemoteMismatch += summary.keptRemoteMismatch;
    } catch (error) {
      if (process.env.PROPERTY_DEBUG) console.log(world.apiMode, (error as Error).message);
      totals.failedCleanups++;
      // A failed run is fine (qBittorrent down, nonsense); what matters is what it left behind.
    }
  };
  try {
    for (const [step, o] of history.entries()) {
      switch (o.op) {
        case "add":
          world.addItem(o.kind, o.name, fixtures);
          break;
        case "import":
          world.importToLibrary(o.index, o.clean);
          break;
        case "upload":
          await runUpload(o.interrupted);
          break;
        case "cleanup":
          world.apiMode = o.api;
          await runCleanup();
          world.apiMode = "ok";
          break;
        case "seed":
          world.seedLong(o.index);
          break;
        case "seeding-period-passes":
          for (let i = 0; i < world.torrents.length; i++) world.seedLong(i);
          break;
        case "webui-remove":
          world.userRemoves(o.index, o.deleteFiles);
          break;
        case "vanish":
          world.vanish(o.pick);
          break;
        case "together":
          await Promise.all([runUpload(o.interrupted), runCleanup()]);
          break;
        case "cross-seed":
          world.crossSeed(o.index);
          break;
        case "magnet":
          world.addMagnet();
          break;
      }
      const lost = world.lost();
      if (lost.length > 0) throw new Error(`after step ${step + 1} (${JSON.stringify(o)}), lost: ${lost.map((l) => JSON.stringify(l)).join(", ")}`);
    }
  } finally {
    await world.stop();
  }
}

describe("no data is lost (real rclone and unar, a model of qBittorrent's API)", () => {
  it(`holds over ${RUNS} random histories`, async () => {
    let count = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 24 }), async (history) => {
        count++;
        await play(history);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    console.log(
      `property: ${count} histories checked (seed ${SEED}), 0 losses (${totals.uploaded} items uploaded, ${totals.uploadFailures} upload failures, ` +
        `${totals.removed} torrents/orphans removed by cleanup, ${totals.keptRemoteMismatch} kept for a missing remote copy, ${totals.failedCleanups} cleanups refused)`,
    );
    expect(count).toBeGreaterThanOrEqual(RUNS);
    // The histories must reach the interesting cases, or the property proves little.
    expect(totals.removed).toBeGreaterThan(0);
    expect(totals.uploadFailures).toBeGreaterThan(0);
    expect(totals.failedCleanups).toBeGreaterThan(0);
  }, Math.max(120_000, RUNS * 3_000));

  it("catches a loss: a cleanup that ignored the remote check would be found", async () => {
    // The property must be able to fail: delete a marked item whose remote copy vanished, by hand.
    const world = new World(wrappers.normal);
    await world.start();
    try {
      process.env.RCLONE_CONFIG_B2_TYPE = "alias";
      process.env.RCLONE_CONFIG_B2_REMOTE = world.remoteRoot;
      process.env.MEDIA_PIPELINE_RCLONE = wrappers.normal;
      world.addItem("uncategorized", "plain", fixtures);
      await upload(world.config, { dryRun: false });
      world.vanish(0);
      world.vanish(0);
      world.removeTorrent(world.torrents[0]!.hash, true);
      // Both of its files (the video and its .nfo, which counts like any other file) are gone for good.
      expect(world.lost()).toHaveLength(2);
    } finally {
      await world.stop();
    }
  });
});
