/**
 * Histories for the property: what the world does (downloads of every class, imports, cross-seeds,
 * repacks, renames, state changes, sessions lost, remote objects damaged, time passing) and what the
 * runtime does (upload, cleanup, both at once, rclone killed part-way, qBittorrent down), and one
 * history played against a fresh world with the property checked after every step.
 */
import fc from "fast-check";
import { cleanup } from "../../runtime/cleanup/index.ts";
import { upload } from "../../runtime/upload.ts";
import type { QbtVersion } from "./qbittorrent-model.ts";
import type { RcloneMode } from "./rclone-wrapper.ts";
import { World, type Bench, type ItemKind, type NameStyle, type Start } from "./world.ts";

type Api = "ok" | "down" | "error";
export type Op =
  | { op: "add"; kind: ItemKind; style: NameStyle; v: number; start: Start }
  | { op: "import"; t: number; allButOne: boolean; copy: boolean }
  | { op: "cross-seed"; t: number }
  | { op: "re-add"; t: number; deleteOld: boolean; sameSize: boolean }
  | { op: "advance"; t: number }
  | { op: "state"; t: number; to: "stop" | "start" | "queue" | "recheck" }
  | { op: "rename"; t: number; f: number; folder: boolean }
  | { op: "user-deletes"; t: number; f: number }
  | { op: "rewrite"; t: number; f: number }
  | { op: "webui-remove"; t: number; deleteFiles: boolean }
  | { op: "session"; what: "lost" | "restored" | "partly-lost" | "re-add-lost" | "restart"; pick: number }
  | { op: "remote"; how: "vanish" | "corrupt"; pick: number }
  | { op: "relocate"; t: number; to: number }
  | { op: "paused-for"; t: number; what: "stopped" | "queued" | "session lost"; dt: "day" | "week" }
  | { op: "junk"; t: number; which: number }
  | { op: "time"; dt: "quiet" | "hour" | "day" | "week"; refresh: boolean }
  | { op: "upload"; rclone: RcloneMode; api: Api }
  | { op: "cleanup"; api: Api }
  | { op: "together"; rclone: RcloneMode };

export interface History {
  version: QbtVersion;
  ops: Op[];
}

const KINDS: ItemKind[] = ["episode", "season", "movie", "loose", "single", "nosub", "archives", "bad-archive"];
const STYLES: NameStyle[] = ["plain", "plain", "unicode", "newline", "quotes", "long"];
const small = fc.nat(7);
/** rclone as it is, mostly; killed part-way (after 0, 1 or 2 files) or with its log lost now and then. */
const rclone = fc.constantFrom<RcloneMode>("ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "cut0", "cut1", "cut2", "lost");

/** What the world does between runs of the runtime. */
const worldOpArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ op: fc.constant("add" as const), kind: fc.constantFrom(...KINDS), style: fc.constantFrom(...STYLES), v: fc.nat(11), start: fc.constantFrom<Start>("complete", "complete", "complete", "complete", "complete", "magnet", "downloading", "in-place") }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant("import" as const), t: small, allButOne: fc.boolean(), copy: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("cross-seed" as const), t: small }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("re-add" as const), t: small, deleteOld: fc.boolean(), sameSize: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("advance" as const), t: small }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("state" as const), t: small, to: fc.constantFrom("stop" as const, "start" as const, "queue" as const, "recheck" as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("rename" as const), t: small, f: small, folder: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("user-deletes" as const), t: small, f: small }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("rewrite" as const), t: small, f: small }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("webui-remove" as const), t: small, deleteFiles: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("session" as const), what: fc.constantFrom("lost" as const, "restored" as const, "restored" as const, "partly-lost" as const, "re-add-lost" as const, "re-add-lost" as const, "restart" as const, "restart" as const), pick: small }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("remote" as const), how: fc.constantFrom("vanish" as const, "corrupt" as const), pick: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("relocate" as const), t: small, to: small }) },
  // A seed stopped or queued for a while and then started, or qBittorrent without its session for a while.
  { weight: 2, arbitrary: fc.record({ op: fc.constant("paused-for" as const), t: small, what: fc.constantFrom("stopped" as const, "queued" as const, "session lost" as const), dt: fc.constantFrom("day" as const, "week" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("junk" as const), t: small, which: small }) },
  { weight: 2, arbitrary: timeArb() },
);

function timeArb(): fc.Arbitrary<Op> {
  return fc.record({
    op: fc.constant("time" as const),
    dt: fc.constantFrom("quiet" as const, "hour" as const, "day" as const, "day" as const, "week" as const, "week" as const, "week" as const),
    // Whether torrents get a status update (seeding_time reported up to date) during that time: F.seedingTimeIdle.
    refresh: fc.boolean(),
  });
}

/** What the runtime does: its timers firing. */
const runtimeOpArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("upload" as const), rclone, api: fc.constantFrom<Api>("ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "down", "error") }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("cleanup" as const), api: fc.constantFrom<Api>("ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "down", "error") }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("together" as const), rclone }) },
);

/**
 * A history is rounds of: a few world steps, the clock moving on, a few runtime runs. Any
 * interleaving the ops allow can still happen inside a round (the world acts between two runs of a
 * round's next round), and rounds make the long stories (download, quiet period, upload, seeding
 * period, upload of the extras, cleanup) common instead of rare.
 */
export const historyArb: fc.Arbitrary<History> = fc
  .record({
    version: fc.constantFrom<QbtVersion>("4.5", "5.1"),
    // A round without time passing has the runtime see what the world just did: torrents still checking, files just written.
    rounds: fc.array(fc.tuple(fc.array(worldOpArb, { maxLength: 4 }), fc.option(timeArb(), { freq: 3, nil: undefined }), fc.array(runtimeOpArb, { minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 8 }),
  })
  .map(({ version, rounds }) => ({ version, ops: rounds.flatMap(([world, time, runtime]) => [...world, ...(time ? [time] : []), ...runtime]) }));

const SECONDS = { quiet: 150, hour: 3600, day: 86400 + 60, week: 7 * 86400 + 3600 };

/** What the histories exercised, so a run that never deletes anything cannot pass unnoticed. */
export interface Totals {
  histories: number;
  steps: number;
  ops: Record<string, number>;
  classes: Record<string, number>;
  uploadRuns: number;
  itemsUploaded: number;
  uploadFailures: number;
  setAside: number;
  cleanupRuns: number;
  cleanupsRefused: number;
  torrentsRemoved: number;
  orphansRemoved: number;
  filesDeleted: number;
  keptRemoteMismatch: number;
  forgiven: number;
  removedByClass: Record<string, number>;
  unexpectedErrors: string[];
  /** Milliseconds spent in each kind of step (world steps, runtime jobs, the property check). */
  ms: Record<string, number>;
}

export const newTotals = (): Totals => ({
  histories: 0,
  steps: 0,
  ops: {},
  classes: {},
  uploadRuns: 0,
  itemsUploaded: 0,
  uploadFailures: 0,
  setAside: 0,
  cleanupRuns: 0,
  cleanupsRefused: 0,
  torrentsRemoved: 0,
  orphansRemoved: 0,
  filesDeleted: 0,
  keptRemoteMismatch: 0,
  forgiven: 0,
  removedByClass: {},
  unexpectedErrors: [],
  ms: {},
});

/** Errors a run may end with when qBittorrent is down or answers nonsense: nothing was done, which is fine. */
const EXPECTED = /^(CleanupError|QbittorrentError|RemoteError)$|cannot reach qBittorrent|qBittorrent answered/;

export class PropertyFailure extends Error {
  constructor(
    readonly step: number,
    readonly op: Op,
    readonly problems: string[],
  ) {
    super(`after step ${step + 1} (${JSON.stringify(op)}): ${problems.join("; ")}`);
  }
}

const bump = (record: Record<string, number>, key: string) => (record[key] = (record[key] ?? 0) + 1);

/** Plays one history in a fresh world; throws PropertyFailure at the first step after which the property does not hold. */
export async function play(bench: Bench, history: History, totals: Totals): Promise<void> {
  const world = new World(bench, history.version);
  const now = () => world.clock;
  const unexpected = (job: string, error: unknown) => {
    const e = error as Error;
    if (EXPECTED.test(e.name) || EXPECTED.test(e.message)) return;
    if (totals.unexpectedErrors.length < 20) totals.unexpectedErrors.push(`${job}: ${e.name}: ${e.message}`);
  };
  const runUpload = async (mode: RcloneMode, api: Api) => {
    world.setRclone(mode);
    totals.uploadRuns++;
    try {
      const { summary } = await upload(world.configFor(api), { dryRun: false, now });
      totals.itemsUploaded += summary.uploaded;
      totals.uploadFailures += summary.failed;
      totals.setAside += summary.setAside;
    } catch (error) {
      unexpected("upload", error);
    } finally {
      world.setRclone("ok");
    }
  };
  const runCleanup = async (api: Api) => {
    totals.cleanupRuns++;
    try {
      const { summary } = await cleanup(world.configFor(api), { dryRun: false, now });
      totals.torrentsRemoved += summary.torrentsRemoved;
      totals.orphansRemoved += summary.orphansRemoved;
      totals.keptRemoteMismatch += summary.keptRemoteMismatch;
    } catch (error) {
      totals.cleanupsRefused++;
      unexpected("cleanup", error);
    }
  };
  totals.histories++;
  try {
    for (const [step, o] of history.ops.entries()) {
      totals.steps++;
      bump(totals.ops, o.op === "session" || o.op === "remote" || o.op === "state" ? `${o.op}:${"what" in o ? o.what : "how" in o ? o.how : o.to}` : o.op);
      const runtime = o.op === "upload" || o.op === "cleanup" || o.op === "together";
      let t0 = performance.now();
      const before = runtime ? world.before() : undefined;
      if (runtime) totals.ms.before = (totals.ms.before ?? 0) + performance.now() - t0;
      t0 = performance.now();
      switch (o.op) {
        case "add":
          world.add(o.kind, o.style, o.v, o.start);
          bump(totals.classes, `${o.kind}`);
          bump(totals.classes, `name:${o.style}`);
          bump(totals.classes, `start:${o.start}`);
          break;
        case "import":
          world.importToLibrary(o.t, o.allButOne, o.copy);
          break;
        case "cross-seed":
          world.crossSeed(o.t);
          break;
        case "re-add":
          world.reAdd(o.t, o.deleteOld, o.sameSize);
          break;
        case "advance":
          world.advance(o.t);
          break;
        case "state":
          world.setState(o.t, o.to);
          break;
        case "rename":
          world.rename(o.t, o.f, o.folder);
          break;
        case "user-deletes":
          world.userDeletes(o.t, o.f);
          break;
        case "rewrite":
          world.rewriteInPlace(o.t, o.f);
          break;
        case "webui-remove":
          world.webuiRemove(o.t, o.deleteFiles);
          break;
        case "session":
          if (o.what === "lost") world.session.sessionLost = true;
          else if (o.what === "restored") world.session.sessionLost = false;
          else if (o.what === "partly-lost") world.loseSome(o.pick);
          else if (o.what === "re-add-lost") world.reAddLost(o.pick);
          else world.restart(o.pick);
          break;
        case "remote":
          world.damageRemote(o.pick, o.how);
          break;
        case "relocate":
          world.relocate(o.t, o.to);
          break;
        case "paused-for":
          if (o.what === "session lost") {
            world.session.sessionLost = true;
            world.passTime(SECONDS[o.dt], false);
            world.session.sessionLost = false;
          } else {
            world.setState(o.t, o.what === "stopped" ? "stop" : "queue");
            world.passTime(SECONDS[o.dt], false);
            world.setState(o.t, "start");
          }
          break;
        case "junk":
          world.leaveJunk(o.t, o.which);
          break;
        case "time":
          world.passTime(SECONDS[o.dt], o.refresh);
          break;
        case "upload":
          await runUpload(o.rclone, o.api);
          break;
        case "cleanup":
          await runCleanup(o.api);
          break;
        case "together":
          await Promise.all([runUpload(o.rclone, "ok"), runCleanup("ok")]);
          break;
      }
      totals.ms[o.op] = (totals.ms[o.op] ?? 0) + performance.now() - t0;
      t0 = performance.now();
      const problems = world.check(before);
      totals.ms.check = (totals.ms.check ?? 0) + performance.now() - t0;
      if (problems.length > 0) throw new PropertyFailure(step, o, problems);
    }
  } finally {
    totals.filesDeleted += world.stats.deletedByCleanup;
    totals.forgiven += world.stats.forgiven;
    for (const [k, n] of Object.entries(world.stats.removedByClass)) totals.removedByClass[k] = (totals.removedByClass[k] ?? 0) + n;
    world.dispose();
  }
}
