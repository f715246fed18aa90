/**
 * The qBittorrent model (qbittorrent-model.ts, and the world steps in world.ts that act as
 * qBittorrent does) checked against the facts measured on the real 4.5.2 and 5.1
 * (test/support/qbittorrent-facts.ts, checked against the real programs by
 * test/runtime/qbittorrent-behaviour.test.ts): each test builds a fact's situation in the model and
 * compares what the model answers (and leaves on disk) with the fact's value for that version.
 * Facts the model does not need are listed in NOT_MODELLED with why; a new fact fails the last test
 * until it is modelled or listed.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { QBITTORRENT_FACTS, qbittorrentFact, type QbittorrentFactId } from "../support/qbittorrent-facts.ts";
import { filesOf, infoOf, type ModelTorrent, type QbtVersion } from "./qbittorrent-model.ts";
import { startBench, stopBench, World, type Bench } from "./world.ts";

/** Facts the model has no use for, and why. */
const NOT_MODELLED: Partial<Record<QbittorrentFactId, string>> = {
  defaults: "preferences: the world queues seeds only by an explicit step, never by the active-torrent limits",
  rootFolderFalse: "the world never adds a torrent with root_folder=false",
  stopEndpoints: "the runtime never stops or starts a torrent",
  addStopped: "the runtime never adds a torrent, and the world adds none stopped",
  unskippedFile: "the world never changes a file's priority",
};

/** Every path under `dir`, relative and sorted, folders with a trailing "/" ("ABSENT" when `dir` does not exist). */
function tree(dir: string): string[] | "ABSENT" {
  if (!existsSync(dir)) return "ABSENT";
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      out.push(entry.isDirectory() ? `${path}/` : path);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk("");
  return out.sort();
}

let bench: Bench;
beforeAll(async () => {
  bench = await startBench();
}, 60_000);
afterAll(async () => {
  if (bench) await stopBench(bench);
});

const checked = new Set<QbittorrentFactId>();

describe.each(["4.5", "5.1"] as QbtVersion[])("qBittorrent model as %s (facts checked in test/runtime/qbittorrent-behaviour.test.ts)", (version) => {
  let world: World;
  afterEach(() => world?.dispose());
  const fresh = () => (world = new World(bench, version));
  /** The world's folders as the facts write them. */
  const norm = <T>(value: T, extra: [string, string][] = []): T => {
    let text = JSON.stringify(value) ?? "null";
    for (const [from, to] of [...extra, [world.root, "<root>"] as [string, string]]) text = text.split(from).join(to);
    return JSON.parse(text) as T;
  };
  function check(id: QbittorrentFactId, observed: unknown, extra: [string, string][] = []): void {
    expect(norm(observed, extra), `${id}: ${QBITTORRENT_FACTS[id].fact}`).toEqual(qbittorrentFact(id, version));
    checked.add(id);
  }
  const info = (t: ModelTorrent) => infoOf(t, version);
  const names = (t: ModelTorrent) => (filesOf(t, version) as { name: string }[]).map((f) => f.name);
  const add = (savePath: string, files: string[], options: { start?: "complete" | "magnet"; name?: string; priorities?: number[] } = {}) =>
    world.addTorrent({
      name: options.name ?? files[0]!.split("/")[0]!,
      category: "",
      savePath,
      files: files.map((name, i) => ({ name, data: world.content(name), priority: options.priorities?.[i] ?? 1 })),
      start: options.start ?? "complete",
    });
  /** Time passes (1 s unless said), with the torrents' status refreshed. */
  const tick = (seconds = 1, refresh = true) => world.passTime(seconds, refresh);
  const api = async (path: string) => fetch(`${world.config.qbittorrent.url}${path}`);

  it("a fresh profile: versions, an empty session, unknown hashes", async () => {
    fresh();
    const webapi = await (await api("/api/v2/app/webapiVersion")).text();
    expect(webapi).toBe(qbittorrentFact("webapiVersion", version).webapi);
    checked.add("webapiVersion");
    check("emptySession", await (await api("/api/v2/torrents/info")).json());
    const unknown = "0123456789abcdef0123456789abcdef01234567";
    check("unknownHash", { info: await (await api(`/api/v2/torrents/info?hashes=${unknown}`)).json(), files: (await api(`/api/v2/torrents/files?hash=${unknown}`)).status });
  });

  it("a magnet without metadata, running and stopped", () => {
    fresh();
    const t = add(join(world.root, "save"), ["Some.Magnet/a.mkv"], { start: "magnet", name: "Some.Magnet" });
    const i = info(t) as Record<string, unknown>;
    check("magnet", {
      state: i.state, content_path: i.content_path, save_path: i.save_path, progress: i.progress, size: i.size, total_size: i.total_size,
      seeding_time: i.seeding_time, completion_on: i.completion_on, has_metadata: "has_metadata" in i ? i.has_metadata : "absent", files: filesOf(t, version),
    });
    t.stopped = true;
    check("magnetStopped", { state: info(t).state, content_path: info(t).content_path, files: filesOf(t, version) });
  });

  it("adding: the first answer, then seeding; file entries", () => {
    fresh();
    const t = add(join(world.root, "save"), ["First.T/a.mkv", "First.T/b.srt"]);
    check("firstAnswer", { state: info(t).state, content_path: info(t).content_path, progress: info(t).progress, files: names(t) });
    tick();
    const s = info(t) as Record<string, unknown>;
    check("seeding", {
      state: s.state, progress: s.progress, amount_left: s.amount_left, completionOnIsRecent: Math.abs((s.completion_on as number) - world.clock / 1000) < 30,
      seedingTimeIsNumber: typeof s.seeding_time === "number", infoKeys: ["seeding_time", "completion_on", "content_path", "root_path", "has_metadata"].filter((k) => k in s),
    });
    const list = filesOf(t, version) as Record<string, unknown>[];
    check("fileEntries", { first: Object.keys(list[0]!).sort(), second: Object.keys(list[1]!).sort(), isSeed: list.map((f) => f.is_seed ?? "absent") });
  });

  it("content_path and file names for each layout", () => {
    fresh();
    const save = join(world.root, "layouts");
    const layout = (t: ModelTorrent) => {
      tick();
      return { state: info(t).state, content_path: info(t).content_path, save_path: info(t).save_path, files: names(t) };
    };
    check("layoutSingleFile", layout(add(save, ["single.mkv"])));
    check("layoutFolder", layout(add(save, ["Folder.T/a.mkv", "Folder.T/sub/b.srt"])));
    check("layoutOneFileFolder", layout(add(save, ["One.T/only.mkv"])));
    check("layoutNoSubfolder", layout(add(join(save, "nosub"), ["c.mkv", "d/e.mkv"], { name: "NoSub.T" })));
    check("layoutSubfolderSingleFile", layout(add(join(save, "sub"), ["lone/lone.mkv"], { name: "lone.mkv" })));
  });

  it("stopping and starting a seed", () => {
    fresh();
    const t = add(join(world.root, "save"), ["Param.T/a.mkv"]);
    tick();
    world.setState(0, "stop");
    check("stoppedSeed", { state: info(t).state, progress: info(t).progress, content_path: info(t).content_path, files: names(t) });
    world.setState(0, "start");
    check("startedSeed", info(t).state);
  });

  it("checking a seed (running and stopped) and moving it", () => {
    fresh();
    const save = join(world.root, "save");
    const t = add(save, ["Big.T/big.bin", "Big.T/small.txt"]);
    tick();
    const recheck = () => {
      const completion = info(t).completion_on;
      world.setState(0, "recheck");
      const during = { state: info(t).state, content_path: info(t).content_path, save_path: info(t).save_path, files: names(t) };
      const whileChecking = { progressBelow1: info(t).progress < 1, completionOnKept: info(t).completion_on === completion };
      tick();
      return { states: [during, { state: info(t).state, content_path: info(t).content_path, save_path: info(t).save_path }], whileChecking };
    };
    check("recheckRunning", recheck());
    world.setState(0, "stop");
    check("recheckStopped", recheck());
    world.setState(0, "start");

    const tmpfs = join(world.root, "tmpfs");
    mkdirSync(tmpfs);
    world.session.startMove(t, tmpfs);
    const first = { state: info(t).state, content_path: info(t).content_path, save_path: info(t).save_path };
    tick();
    check(
      "moving",
      { seen: [{ state: first.state, save_path: first.save_path }, { state: info(t).state, save_path: info(t).save_path }], first, on: tree(tmpfs), left: existsSync(join(save, "Big.T")) },
      [[tmpfs, "<tmpfs>"]],
    );
  });

  it("queueing", () => {
    fresh();
    const t = add(join(world.root, "save"), ["Queued.T/a.mkv"]);
    tick();
    world.setState(0, "queue");
    check("queued", { state: info(t).state, progress: info(t).progress, content_path: info(t).content_path, files: names(t) });
    world.setState(0, "start");
    check("unqueued", info(t).state);
  });

  it("seeding_time: idle, refreshed, stopped, after a recheck of a stopped seed, and across a restart", () => {
    fresh();
    const t = add(join(world.root, "save"), ["Time.T/a.mkv"]);
    tick(1, false);
    tick(5, false);
    const idle = info(t);
    world.session.touch(t);
    const refreshed = info(t);
    const now = () => world.clock / 1000;
    check("seedingTimeIdle", { lagsBehind: now() - idle.completion_on - idle.seeding_time >= 3, refreshedIsSecondsSinceCompletion: Math.abs(now() - refreshed.completion_on - refreshed.seeding_time) <= 2 });
    world.setState(0, "stop");
    tick(1);
    const s3 = info(t).seeding_time;
    tick(3);
    const s4 = info(t).seeding_time;
    world.setState(0, "recheck");
    tick(1);
    check("seedingTimeStopped", { advancesWhileStopped: s4 !== s3, recheckAddsTheStoppedTime: info(t).seeding_time >= s4 + 3, stateAfterRecheck: info(t).state });

    // Across a restart: between its value at its last change and the time it seeded, whichever way it falls.
    world.setState(0, "start");
    for (const fallsBack of [0, 1]) {
      tick(1);
      const atChange = info(t).seeding_time;
      tick(10, false);
      const seeded = t.seedingSeconds;
      world.restart(fallsBack);
      tick(1, false);
      const after = info(t).seeding_time;
      expect(after >= atChange && after <= seeded + 1, `restart (${fallsBack}): ${atChange} ≤ ${after} ≤ ${seeded}`).toBe(true);
    }
    check("restartSeedingTime", "between its value at its last change and the time it seeded");
  });

  it("re-adding a removed torrent", () => {
    fresh();
    const save = join(world.root, "save");
    const t = add(save, ["Again.T/a.mkv"]);
    tick(3);
    const before = info(t);
    world.session.remove(t, false);
    const kept = tree(join(save, "Again.T"));
    tick(1);
    const again = world.addAgain(t);
    tick(1);
    const after = info(again);
    check("reAdded", {
      dataKept: kept, sameHash: again.hash === t.hash, seedingTimeBefore: before.seeding_time >= 2, seedingTimeAfter: after.seeding_time <= 1,
      addedOnLater: after.added_on > before.added_on, completionOnLater: after.completion_on > before.completion_on,
    });
  });

  it("renaming a file and folders", () => {
    fresh();
    const save = join(world.root, "save");
    const t = add(save, ["Ren.T/a.mkv", "Ren.T/sub/b.srt"]);
    tick();
    world.renamePath(t, "Ren.T/a.mkv", "Ren.T/renamed.mkv");
    check("renamedFile", { files: names(t), disk: tree(join(save, "Ren.T")), content_path: info(t).content_path });
    world.renamePath(t, "Ren.T/sub", "Ren.T/subs");
    world.renamePath(t, "Ren.T", "Ren.Root");
    check("renamedFolders", { files: names(t), disk: { old: tree(join(save, "Ren.T")), new: tree(join(save, "Ren.Root")) }, content_path: info(t).content_path, state: info(t).state, progress: info(t).progress });
  });

  it("two torrents sharing a folder, and removing one with its files", () => {
    fresh();
    const save = join(world.root, "save");
    const first = add(save, ["Cross.T/a.mkv", "Cross.T/b.mkv"]);
    tick();
    const second = world.crossSeedOf(first, "c.mkv");
    tick();
    const view = (t: ModelTorrent) => ({ state: info(t).state, progress: info(t).progress, content_path: info(t).content_path, files: names(t) });
    check("crossSeed", { first: view(first), second: view(second), differentHashes: first.hash !== second.hash });
    world.session.remove(first, true);
    const untouched = view(second);
    world.setState(0, "recheck");
    tick();
    check("crossSeedRemoved", { disk: tree(join(save, "Cross.T")), second: untouched, secondRechecked: { state: info(second).state, progress: info(second).progress } });
  });

  it("removing torrents: deleteFiles=false, and what deleteFiles=true removes", () => {
    fresh();
    const save = join(world.root, "remove");
    const remove = (t: ModelTorrent, deleteFiles: boolean) => {
      tick();
      world.session.remove(t, deleteFiles);
    };
    const put = (path: string) => (path.endsWith("/") ? mkdirSync(path, { recursive: true }) : world.write(path, world.content("the user's")));
    remove(add(save, ["Keep.T/a.mkv", "Keep.T/sub/b.srt"]), false);
    check("deleteFilesFalse", tree(join(save, "Keep.T")));

    const unlisted = [...qbittorrentFact("deleteFilesTrueFolder", version).unlisted];
    const del = add(save, ["Del.T/a.mkv", "Del.T/sub/b.srt"]);
    for (const f of unlisted) put(join(save, "Del.T", f));
    remove(del, true);
    check("deleteFilesTrueFolder", { unlisted, left: tree(join(save, "Del.T")) });

    const junk = [...qbittorrentFact("deleteFilesTrueJunk", version).unlisted];
    const jk = add(save, ["Junk.T/a.mkv"]);
    for (const f of junk) put(join(save, "Junk.T", f));
    remove(jk, true);
    check("deleteFilesTrueJunk", { unlisted: junk, left: tree(join(save, "Junk.T")) });

    const hidden = [...qbittorrentFact("deleteFilesTrueHiddenJunk", version).unlisted];
    const hd = add(save, ["Hidden.T/a.mkv"]);
    for (const f of hidden) put(join(save, "Hidden.T", f));
    remove(hd, true);
    check("deleteFilesTrueHiddenJunk", { unlisted: hidden, left: tree(join(save, "Hidden.T")) });

    const flat = add(join(save, "flat"), ["c.mkv", "d/e.mkv"], { name: "Flat.T" });
    put(join(save, "flat/other.txt"));
    remove(flat, true);
    check("deleteFilesTrueNoSubfolder", tree(join(save, "flat")));

    const single = add(join(save, "single"), ["one.mkv"]);
    put(join(save, "single/Thumbs.db"));
    remove(single, true);
    check("deleteFilesTrueSingleFile", tree(join(save, "single")));
  });

  it("a download with a skipped file (priority 0)", () => {
    fresh();
    const save = join(world.root, "leech/save");
    const t = add(save, ["Part.T/x.mkv", "Part.T/y.nfo", "Part.T/z.srt"], { priorities: [1, 0, 1] });
    tick();
    const fact = qbittorrentFact("skippedFile", version);
    const i = info(t);
    // Modelled: the state, progress, what is on disk, the priorities. Not modelled: sizes by pieces, a skipped file's progress by the piece it shares.
    expect({ state: i.state, progress: i.progress, amount_left: i.amount_left, completionOnSet: i.completion_on > 0 }).toEqual({
      state: fact.state, progress: fact.progress, amount_left: fact.amount_left, completionOnSet: fact.completionOnSet,
    });
    expect((filesOf(t, version) as { name: string; priority: number }[]).map((f) => ({ name: f.name, priority: f.priority }))).toEqual(fact.files.map((f) => ({ name: f.name, priority: f.priority })));
    expect((tree(save) as string[]).map((p) => p.replace(t.hash, "<hash>"))).toEqual(fact.disk);
    checked.add("skippedFile");
    world.session.remove(t, true);
    check("deleteFilesTruePartsFile", tree(save));
  });

  it("files deleted on disk: running, rechecked, stopped and started, after a restart", () => {
    fresh();
    const save = join(world.root, "save");
    const seeding = (name: string) => add(save, [`${name}/a.mkv`]);
    const recheck = seeding("Gone.Recheck");
    const cycle = seeding("Gone.Cycle");
    const restart = seeding("Gone.Restart");
    const kept = seeding("Kept.Restart");
    tick();
    const view = (t: ModelTorrent) => ({
      state: info(t).state, progress: info(t).progress, content_path: info(t).content_path,
      files: (filesOf(t, version) as { name: string; progress: number }[]).map((f) => ({ name: f.name, progress: f.progress })),
    });
    for (const name of ["Gone.Recheck", "Gone.Cycle", "Gone.Restart"]) rmSync(join(save, name), { recursive: true });
    check("missingWhileRunning", view(recheck));
    world.setState(world.session.torrents.indexOf(recheck), "recheck");
    tick();
    check("missingRechecked", view(recheck));
    world.setState(world.session.torrents.indexOf(cycle), "stop");
    const stopped = info(cycle).state;
    world.setState(world.session.torrents.indexOf(cycle), "start");
    tick();
    check("missingStoppedStarted", { stopped, started: view(cycle) });
    world.restart(0);
    const first = info(kept);
    check("restartFirstAnswer", {
      listed: world.session.reported().includes(kept), content_path: first.content_path,
      state: first.state === "checkingResumeData" || first.state === "stalledUP" ? "checkingResumeData or stalledUP" : first.state,
    });
    tick();
    check("missingAfterRestart", { ...view(restart), completionOnKept: info(restart).completion_on > 0 });
    world.advance(world.session.torrents.filter((x) => x.phase === "missingFiles" || x.phase === "downloading" || x.phase === "metaDL" || x.phase === "moving").indexOf(restart));
    tick();
    check("missingAfterRestartRechecked", info(restart).state);
  });
});

it("every fact in test/support/qbittorrent-facts.ts is modelled and checked here, or listed as not modelled", () => {
  const ids = Object.keys(QBITTORRENT_FACTS) as QbittorrentFactId[];
  expect(ids.filter((id) => !checked.has(id) && !(id in NOT_MODELLED))).toEqual([]);
  expect(Object.keys(NOT_MODELLED).filter((id) => !ids.includes(id as QbittorrentFactId))).toEqual([]);
});
