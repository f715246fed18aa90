/**
 * How the real qBittorrent behaves, measured on both versions the runtime meets: 4.5.2 (Debian 12,
 * on the host) and 5.1 (Debian 13, under chroot). Every fact is data in
 * test/support/qbittorrent-facts.ts, with what 4.5 and 5.1 do; each test here makes the situation
 * with a real qbittorrent-nox, observes what the program reports (and what it does on disk), and
 * fails when that no longer equals the data. A model of qBittorrent elsewhere cites the facts.
 *
 * Each version gets one qBittorrent for the whole describe block (a second one only to download
 * from), its save paths in a `sharedDir`, so paths it reports are host paths for 5.1 too; in the
 * observations the folder is written `<root>` (and a tmpfs used for a move, `<tmpfs>`).
 * Queueing is turned off except where it is the subject, so the many torrents here all run, and
 * the state refresh interval is 250 ms instead of 1500 ms (the `defaults` fact) so short states show.
 */
import { execa } from "execa";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireTool } from "../helpers.ts";
import { QBITTORRENT_FACTS, QBITTORRENT_STATES, type QbittorrentFactId } from "../support/qbittorrent-facts.ts";
import { QBITTORRENT_VERSIONS, QBT5_ROOT, qbittorrentProgram, sharedDir, startQbittorrent, type Qbittorrent, type QbittorrentVersion, type SharedDir } from "./qbittorrent.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Math.floor(Date.now() / 1000);
const CHECKING = /^checking/;

/** Calls `read` until `done` holds for its answer (every 50 ms, up to `ms`), and returns that answer. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const before = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - before > ms) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

/** Writes a file, making its folders; returns its path. */
function put(path: string, content: string | Buffer): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** Waits until what `dir` holds has not changed for `quietMs` (qBittorrent deletes files and folders in the background). */
async function quiet(dir: string, quietMs = 400): Promise<void> {
  let last = JSON.stringify(tree(dir));
  let since = Date.now();
  const before = Date.now();
  while (Date.now() - since < quietMs && Date.now() - before < 10_000) {
    await sleep(50);
    const current = JSON.stringify(tree(dir));
    if (current !== last) [last, since] = [current, Date.now()];
  }
}

/** Every path under `dir`, relative and sorted ("ABSENT" when `dir` does not exist). */
function tree(dir: string): string[] | "ABSENT" {
  if (!existsSync(dir)) return "ABSENT";
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries;
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch (error) {
      // A folder qBittorrent removed in the background between its parent's listing and its own: the
      // tree is changing, which quiet() sees at its next look. Only a vanished subfolder is skipped.
      const code = (error as NodeJS.ErrnoException).code;
      if (rel && (code === "ENOENT" || code === "ENOTDIR")) return;
      throw error;
    }
    for (const entry of entries) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      out.push(entry.isDirectory() ? `${path}/` : path);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk("");
  return out.sort();
}

describe.each(QBITTORRENT_VERSIONS)("qBittorrent %s", (version: QbittorrentVersion) => {
  const v = version === "4.5" ? "v45" : "v51";
  const program = qbittorrentProgram(version);
  const stop = version === "4.5" ? "pause" : "stop";
  const start = version === "4.5" ? "resume" : "start";
  let root: SharedDir;
  let qbt: Qbittorrent;
  const checked = new Set<QbittorrentFactId>();
  let defaults: Record<string, unknown>;

  /** Replaces the shared folders in everything `value` holds with `<root>` / `<tmpfs>`. */
  const paths = new Map<string, string>();
  const norm = <T>(value: T): T => {
    let text = JSON.stringify(value) ?? "null";
    for (const [path, token] of paths) text = text.split(path).join(token);
    return JSON.parse(text) as T;
  };

  /** Asserts the observation equals the fact's value for this version. */
  function check(id: QbittorrentFactId, observed: unknown): void {
    const fact = QBITTORRENT_FACTS[id];
    expect(expect.getState().currentTestName, `fact ${id} names the test that checks it`).toBe(`qBittorrent ${version} > ${fact.test}`);
    expect(norm(observed), `${id}: ${fact.fact}`).toEqual(fact[v]);
    checked.add(id);
  }

  const info = async (hash: string, q = qbt) => (await q.torrents()).find((t) => t.hash === hash);
  const files = async (hash: string, q = qbt) => {
    const response = await q.api(`/api/v2/torrents/files?hash=${hash}`);
    return response.status === 200 ? ((await response.json()) as any[]) : response.status;
  };
  const names = async (hash: string, q = qbt) => ((await files(hash, q)) as any[]).map((f) => f.name as string);
  const call = async (path: string, form: Record<string, string>, q = qbt) => {
    const response = await q.api(`/api/v2/${path}`, form);
    expect(response.status, `${path} ${JSON.stringify(form)}`).toBe(200);
  };
  const settled = (hash: string, what: string, q = qbt) => until(() => info(hash, q), (t) => t !== undefined && !CHECKING.test(t.state) && t.state !== "moving", what);
  /** Makes a fresh status update of `hash` happen (an idle torrent's status is not refreshed otherwise: the `seedingTimeIdle` fact). */
  let tags = 0;
  const refresh = async (hash: string) => {
    await call("torrents/addTags", { hashes: hash, tags: `refresh-${++tags}` });
    await sleep(600);
  };

  /** Makes a .torrent of `data` with mktorrent and adds it with these form fields; returns its hash and the first answer for it. */
  async function addTorrent(data: string, fields: Record<string, string>, q = qbt): Promise<{ hash: string; first: any }> {
    const file = join(mkdtempSync(join(tmpdir(), "mp-torrent-")), `${basename(data)}.torrent`);
    await execa(requireTool("mktorrent"), ["-a", "http://127.0.0.1:1/announce", "-o", file, data]);
    const form = new FormData();
    form.append("torrents", new Blob([readFileSync(file)]), basename(file));
    form.append("autoTMM", "false");
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    rmSync(dirname(file), { recursive: true, force: true });
    const known = new Set((await q.torrents()).map((t) => t.hash as string));
    const response = await q.api("/api/v2/torrents/add", form);
    expect(await response.text()).toBe("Ok.");
    const first = await until(async () => (await q.torrents()).find((t) => !known.has(t.hash)), (t) => t !== undefined, `${basename(data)} to appear`, 10_000);
    return { hash: first.hash, first };
  }

  beforeAll(async () => {
    root = sharedDir(program, "mp-qbt-facts-");
    paths.set(root.path, "<root>");
    qbt = await startQbittorrent({ defaultSavePath: join(root.path, "save"), bypassLocalhostAuth: true, version });
    defaults = await (await qbt.api("/api/v2/app/preferences")).json();
    await call("app/setPreferences", { json: JSON.stringify({ queueing_enabled: false, refresh_interval: 250 }) });
  }, 60_000);
  afterAll(async () => {
    await qbt?.stop();
    root?.dispose();
  });

  it("a fresh profile: versions, defaults, an empty session", async () => {
    check("webapiVersion", { app: (await (await qbt.api("/api/v2/app/version")).text()).replace(/^(v\d+\.\d+)\..*/, "$1"), webapi: await (await qbt.api("/api/v2/app/webapiVersion")).text() });
    const pick = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, k in defaults ? defaults[k] : "absent"]));
    check("defaults", pick(["refresh_interval", "queueing_enabled", "max_active_downloads", "max_active_uploads", "max_active_torrents", "torrent_content_remove_option"]));
    check("emptySession", await qbt.torrents());
    check("unknownHash", { info: await (await qbt.api("/api/v2/torrents/info?hashes=0123456789abcdef0123456789abcdef01234567")).json(), files: await files("0123456789abcdef0123456789abcdef01234567") });
  });

  it("a magnet without metadata, running and stopped", async () => {
    const hash = "00112233445566778899aabbccddeeff00112233";
    await qbt.addMagnet(hash, "Some.Magnet", join(root.path, "save"));
    await sleep(1000);
    const t = await info(hash);
    check("magnet", {
      state: t.state, content_path: t.content_path, save_path: t.save_path, progress: t.progress, size: t.size, total_size: t.total_size,
      seeding_time: t.seeding_time, completion_on: t.completion_on, has_metadata: "has_metadata" in t ? t.has_metadata : "absent", files: await files(hash),
    });
    await call(`torrents/${stop}`, { hashes: hash });
    const stopped = await until(() => info(hash), (x) => x.state !== "metaDL", "the magnet to stop");
    check("magnetStopped", { state: stopped.state, content_path: stopped.content_path, files: await files(hash) });
    expect(stopped.state, "QBITTORRENT_STATES").toBe(QBITTORRENT_STATES[v].stoppedDL);
    await call("torrents/delete", { hashes: hash, deleteFiles: "false" });
  });

  it("adding: the first answer for a new torrent", async () => {
    put(join(root.path, "save/First.T/a.mkv"), "a".repeat(50_000));
    put(join(root.path, "save/First.T/b.srt"), "b".repeat(500));
    const { hash, first } = await addTorrent(join(root.path, "save/First.T"), { savepath: join(root.path, "save") });
    check("firstAnswer", { state: first.state, content_path: first.content_path, progress: first.progress, files: await names(hash) });
    const seeding = await settled(hash, "First.T to seed");
    check("seeding", {
      state: seeding.state, progress: seeding.progress, amount_left: seeding.amount_left, completionOnIsRecent: Math.abs(seeding.completion_on - now()) < 30,
      seedingTimeIsNumber: typeof seeding.seeding_time === "number", infoKeys: ["seeding_time", "completion_on", "content_path", "root_path", "has_metadata"].filter((k) => k in seeding),
    });
    const list = (await files(hash)) as any[];
    check("fileEntries", { first: Object.keys(list[0]).sort(), second: Object.keys(list[1]).sort(), isSeed: list.map((f) => f.is_seed ?? "absent") });
  });

  it("content_path and file names for each layout", async () => {
    const save = join(root.path, "layouts");
    const layout = async (hash: string) => {
      const t = await settled(hash, "a layout torrent to settle");
      return { state: t.state, content_path: t.content_path, save_path: t.save_path, files: await names(hash) };
    };
    put(join(save, "single.mkv"), "s".repeat(30_000));
    check("layoutSingleFile", await layout((await addTorrent(join(save, "single.mkv"), { savepath: save })).hash));
    put(join(save, "Folder.T/a.mkv"), "a".repeat(30_000));
    put(join(save, "Folder.T/sub/b.srt"), "b".repeat(300));
    check("layoutFolder", await layout((await addTorrent(join(save, "Folder.T"), { savepath: save })).hash));
    put(join(save, "One.T/only.mkv"), "o".repeat(30_000));
    check("layoutOneFileFolder", await layout((await addTorrent(join(save, "One.T"), { savepath: save })).hash));
    // The same two files, without their folder: in a save path of their own.
    put(join(root.path, "src/NoSub.T/c.mkv"), "c".repeat(30_000));
    put(join(root.path, "src/NoSub.T/d/e.mkv"), "e".repeat(30_000));
    put(join(save, "nosub/c.mkv"), "c".repeat(30_000));
    put(join(save, "nosub/d/e.mkv"), "e".repeat(30_000));
    check("layoutNoSubfolder", await layout((await addTorrent(join(root.path, "src/NoSub.T"), { savepath: join(save, "nosub"), contentLayout: "NoSubfolder" })).hash));
    put(join(root.path, "src/RootFolder.T/c.mkv"), "c".repeat(30_000));
    put(join(root.path, "src/RootFolder.T/d.mkv"), "d".repeat(30_000));
    put(join(save, "rootfolder/c.mkv"), "c".repeat(30_000));
    put(join(save, "rootfolder/d.mkv"), "d".repeat(30_000));
    const rootFolder = await addTorrent(join(root.path, "src/RootFolder.T"), { savepath: join(save, "rootfolder"), root_folder: "false" });
    check("rootFolderFalse", await layout(rootFolder.hash));
    await call("torrents/delete", { hashes: rootFolder.hash, deleteFiles: "false" });
    put(join(root.path, "src/lone.mkv"), "l".repeat(30_000));
    put(join(save, "sub/lone/lone.mkv"), "l".repeat(30_000));
    check("layoutSubfolderSingleFile", await layout((await addTorrent(join(root.path, "src/lone.mkv"), { savepath: join(save, "sub"), contentLayout: "Subfolder" })).hash));
  });

  it("a shared folder: qBittorrent names the host's files (5.1 through a bind mount)", async () => {
    const hash = await qbt.add(put(join(root.path, "save/Shared.T/movie.mkv"), "m".repeat(20_000)).replace(/\/movie\.mkv$/, ""));
    await qbt.waitSeeding(hash);
    const t = await info(hash);
    expect(t.content_path).toBe(join(root.path, "save/Shared.T/movie.mkv"));
    expect(readFileSync(t.content_path, "utf8")).toBe("m".repeat(20_000));
    if (version === "5.1") expect(t.content_path.startsWith(QBT5_ROOT)).toBe(false);
  });

  it("stopping and starting: endpoints, the add parameter, a stopped seed", async () => {
    const status = async (path: string) => (await qbt.api(`/api/v2/torrents/${path}`, { hashes: "0123456789abcdef0123456789abcdef01234567" })).status;
    check("stopEndpoints", { pause: await status("pause"), stop: await status("stop"), resume: await status("resume"), start: await status("start") });
    const data = put(join(root.path, "save/Param.T/a.mkv"), "p".repeat(30_000)).replace(/\/a\.mkv$/, "");
    const stateAfterAdd = async (parameter: string) => {
      const { hash } = await addTorrent(data, { savepath: join(root.path, "save"), [parameter]: "true" });
      await settled(hash, `Param.T added with ${parameter}=true`);
      await sleep(800);
      const t = await info(hash);
      await call("torrents/delete", { hashes: hash, deleteFiles: "false" });
      await until(() => info(hash), (x) => x === undefined, "Param.T to go");
      return { state: t.state, progress: t.progress };
    };
    check("addStopped", { paused: await stateAfterAdd("paused"), stopped: await stateAfterAdd("stopped") });

    const hash = await qbt.add(data);
    await qbt.waitSeeding(hash);
    await call(`torrents/${stop}`, { hashes: hash });
    const stopped = await until(() => info(hash), (t) => t.state !== "stalledUP", "Param.T to stop");
    check("stoppedSeed", { state: stopped.state, progress: stopped.progress, content_path: stopped.content_path, files: await names(hash) });
    expect(stopped.state, "QBITTORRENT_STATES").toBe(QBITTORRENT_STATES[v].stoppedUP);
    await call(`torrents/${start}`, { hashes: hash });
    check("startedSeed", (await until(() => info(hash), (t) => t.state !== stopped.state, "Param.T to start")).state);
  });

  it("checking a big seed (recheck, running and stopped) and moving it to another file system", async () => {
    const data = join(root.path, "save/Big.T");
    // Written, not sparse: a sparse file is copied in a blink, and the move would end before it is seen.
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    put(join(data, "big.bin"), "");
    for (let i = 0; i < 8; i++) appendFileSync(join(data, "big.bin"), zeros);
    put(join(data, "small.txt"), "small");
    const hash = await qbt.add(data);
    await qbt.waitSeeding(hash);
    /**
     * Does `act`, then records the states `hash` passes through until it settles, each with its paths (and files while
     * checking), and what progress and completion_on said whenever it was checking.
     */
    const watch = async (what: string, act: () => Promise<void>) => {
      const states: any[] = [];
      const checking: { progress: number; completion_on: number }[] = [];
      const before = await info(hash);
      await act();
      await until(async () => {
        const t = await info(hash);
        const last = states.at(-1);
        if (CHECKING.test(t.state)) checking.push({ progress: t.progress, completion_on: t.completion_on });
        if (!last || last.state !== t.state) states.push({ state: t.state, content_path: t.content_path, save_path: t.save_path, files: CHECKING.test(t.state) ? await names(hash) : undefined });
        return t;
      }, (t) => states.some((s) => CHECKING.test(s.state) || s.state === "moving") && !CHECKING.test(t.state) && t.state !== "moving", what);
      while (states[0]?.state === before.state) states.shift();
      const whileChecking = { progressBelow1: checking.every((c) => c.progress < 1), completionOnKept: checking.every((c) => c.completion_on === before.completion_on) };
      return { states, whileChecking };
    };
    check("recheckRunning", await watch("the running recheck to finish", () => call("torrents/recheck", { hashes: hash })));
    await call(`torrents/${stop}`, { hashes: hash });
    await until(() => info(hash), (t) => t.state !== "stalledUP", "Big.T to stop");
    check("recheckStopped", await watch("the stopped recheck to finish", () => call("torrents/recheck", { hashes: hash })));
    await call(`torrents/${start}`, { hashes: hash });
    await until(() => info(hash), (t) => t.state === "stalledUP", "Big.T to start");

    const elsewhere = sharedDir(program, "mp-qbt-move-", { tmpfsSize: "1g" });
    paths.set(elsewhere.path, "<tmpfs>");
    try {
      const seen = (await watch("the move to finish", () => call("torrents/setLocation", { hashes: hash, location: elsewhere.path }))).states;
      check("moving", { seen: seen.map((s) => ({ state: s.state, save_path: s.save_path })), first: seen[0], on: tree(elsewhere.path), left: existsSync(data) });
      await call("torrents/delete", { hashes: hash, deleteFiles: "true" });
      await until(() => info(hash), (t) => t === undefined, "Big.T to go");
    } finally {
      elsewhere.dispose();
    }
  }, 90_000);

  it("queueing with no active slot", async () => {
    const hash = await qbt.add(put(join(root.path, "save/Queued.T/a.mkv"), "q".repeat(20_000)).replace(/\/a\.mkv$/, ""));
    await qbt.waitSeeding(hash);
    await call("app/setPreferences", { json: JSON.stringify({ queueing_enabled: true, max_active_downloads: 0, max_active_uploads: 0, max_active_torrents: 0 }) });
    try {
      const t = await until(() => info(hash), (x) => x.state !== "stalledUP", "Queued.T to be queued");
      check("queued", { state: t.state, progress: t.progress, content_path: t.content_path, files: await names(hash) });
    } finally {
      await call("app/setPreferences", { json: JSON.stringify({ queueing_enabled: false }) });
    }
    check("unqueued", (await until(() => info(hash), (x) => x.state !== "queuedUP", "Queued.T to leave the queue")).state);
  });

  it("seeding_time: idle, refreshed, stopped, and after a recheck of a stopped seed", async () => {
    const hash = await qbt.add(put(join(root.path, "save/Time.T/a.mkv"), "t".repeat(20_000)).replace(/\/a\.mkv$/, ""));
    await qbt.waitSeeding(hash);
    // completion_on is when it completed (and began to seed): how far behind is seeding_time after 5 s of nothing?
    await sleep(5000);
    const idle = await info(hash);
    await refresh(hash);
    const refreshed = await info(hash);
    check("seedingTimeIdle", { lagsBehind: now() - idle.completion_on - idle.seeding_time >= 3, refreshedIsSecondsSinceCompletion: Math.abs(now() - refreshed.completion_on - refreshed.seeding_time) <= 2 });

    await call(`torrents/${stop}`, { hashes: hash });
    await until(() => info(hash), (t) => t.state !== "stalledUP", "Time.T to stop");
    await refresh(hash);
    const s3 = (await info(hash)).seeding_time;
    await sleep(3000);
    await refresh(hash);
    const s4 = (await info(hash)).seeding_time;
    await call("torrents/recheck", { hashes: hash });
    await until(() => info(hash), (t) => CHECKING.test(t.state) || t.seeding_time !== s4, "Time.T to check");
    const after = await settled(hash, "Time.T to be checked");
    check("seedingTimeStopped", { advancesWhileStopped: s4 !== s3, recheckAddsTheStoppedTime: after.seeding_time >= s4 + 3, stateAfterRecheck: after.state });
    await call("torrents/delete", { hashes: hash, deleteFiles: "false" });
  });

  it("re-adding a removed torrent", async () => {
    const data = put(join(root.path, "save/Again.T/a.mkv"), "r".repeat(20_000)).replace(/\/a\.mkv$/, "");
    const hash = await qbt.add(data);
    await qbt.waitSeeding(hash);
    await sleep(2500);
    await refresh(hash);
    const before = await info(hash);
    await call("torrents/delete", { hashes: hash, deleteFiles: "false" });
    await until(() => info(hash), (t) => t === undefined, "Again.T to go");
    const kept = tree(data);
    const again = await qbt.add(data);
    await qbt.waitSeeding(again);
    const after = await info(again);
    check("reAdded", {
      dataKept: kept, sameHash: again === hash, seedingTimeBefore: before.seeding_time >= 2, seedingTimeAfter: after.seeding_time <= 1,
      addedOnLater: after.added_on > before.added_on, completionOnLater: after.completion_on > before.completion_on,
    });
  });

  it("renaming a file and folders", async () => {
    const dir = join(root.path, "save/Ren.T");
    put(join(dir, "a.mkv"), "a".repeat(30_000));
    put(join(dir, "sub/b.srt"), "b".repeat(300));
    const hash = await qbt.add(dir);
    await qbt.waitSeeding(hash);
    await call("torrents/renameFile", { hash, oldPath: "Ren.T/a.mkv", newPath: "Ren.T/renamed.mkv" });
    await until(() => names(hash), (n) => !n.includes("Ren.T/a.mkv"), "the file rename");
    check("renamedFile", { files: await names(hash), disk: tree(dir), content_path: (await info(hash)).content_path });
    await call("torrents/renameFolder", { hash, oldPath: "Ren.T/sub", newPath: "Ren.T/subs" });
    await until(() => names(hash), (n) => n.includes("Ren.T/subs/b.srt"), "the folder rename");
    await call("torrents/renameFolder", { hash, oldPath: "Ren.T", newPath: "Ren.Root" });
    await until(() => names(hash), (n) => n.every((x) => x.startsWith("Ren.Root/")), "the root folder rename");
    const t = await until(() => info(hash), (x) => !x.content_path.endsWith("Ren.T"), "the content path to follow");
    check("renamedFolders", { files: await names(hash), disk: { old: tree(dir), new: tree(join(root.path, "save/Ren.Root")) }, content_path: t.content_path, state: t.state, progress: t.progress });
  });

  it("two torrents sharing a folder (a cross-seed), and removing one with its files", async () => {
    const dir = join(root.path, "save/Cross.T");
    put(join(dir, "a.mkv"), "a".repeat(30_000));
    put(join(dir, "b.mkv"), "b".repeat(30_000));
    const first = await qbt.add(dir);
    await qbt.waitSeeding(first);
    put(join(dir, "c.mkv"), "c".repeat(30_000));
    const second = await qbt.add(dir);
    await qbt.waitSeeding(second);
    const view = async (hash: string) => {
      const t = await info(hash);
      return { state: t.state, progress: t.progress, content_path: t.content_path, files: await names(hash) };
    };
    check("crossSeed", { first: await view(first), second: await view(second), differentHashes: first !== second });
    await call("torrents/delete", { hashes: first, deleteFiles: "true" });
    await until(() => info(first), (t) => t === undefined, "the first to go");
    await until(async () => existsSync(join(dir, "a.mkv")), (there) => !there, "the shared files to go");
    await quiet(dir);
    const untouched = await view(second);
    await call("torrents/recheck", { hashes: second });
    await until(() => info(second), (t) => t.progress !== 1 || CHECKING.test(t.state), "the second to check");
    const rechecked = await settled(second, "the second to be checked");
    check("crossSeedRemoved", { disk: tree(dir), second: untouched, secondRechecked: { state: rechecked.state, progress: rechecked.progress } });
  });

  it("removing torrents: deleteFiles=false, and what deleteFiles=true removes", async () => {
    const save = join(root.path, "remove");
    const add = async (data: string, options?: Parameters<Qbittorrent["add"]>[1]) => {
      const hash = await qbt.add(data, options);
      await qbt.waitSeeding(hash);
      return hash;
    };
    const remove = async (hash: string, deleteFiles: boolean, dir: string) => {
      const listed = await names(hash);
      await call("torrents/delete", { hashes: hash, deleteFiles: String(deleteFiles) });
      await until(() => info(hash), (t) => t === undefined, "the torrent to go");
      const savePath = dirname(dir);
      if (deleteFiles) await until(async () => listed.filter((f) => existsSync(join(savePath, f)) || existsSync(join(dir, f))), (left) => left.length === 0, "its files to go", 10_000);
      await quiet(dir);
    };
    put(join(save, "Keep.T/a.mkv"), "a".repeat(30_000));
    put(join(save, "Keep.T/sub/b.srt"), "b".repeat(300));
    await remove(await add(join(save, "Keep.T")), false, join(save, "Keep.T"));
    check("deleteFilesFalse", tree(join(save, "Keep.T")));

    // Listed: a.mkv, sub/b.srt. Everything else is not the torrent's.
    const unlisted = ["notes.txt", "Thumbs.db", "desktop.ini", ".DS_Store", "draft~", "sub/extra.txt", "sub2/Thumbs.db", "sub3/.directory", "emptydir/"];
    put(join(save, "Del.T/a.mkv"), "a".repeat(30_000));
    put(join(save, "Del.T/sub/b.srt"), "b".repeat(300));
    const del = await add(join(save, "Del.T"));
    for (const f of unlisted) (f.endsWith("/") ? mkdirSync(join(save, "Del.T", f), { recursive: true }) : put(join(save, "Del.T", f), "the user's"));
    await remove(del, true, join(save, "Del.T"));
    check("deleteFilesTrueFolder", { unlisted, left: tree(join(save, "Del.T")) });

    // Left behind, only names qBittorrent counts as junk (not hidden): the whole folder goes.
    const junk = ["Thumbs.db", "THUMBS.DB", "desktop.ini", "draft.txt~", "sub/Thumbs.db"];
    put(join(save, "Junk.T/a.mkv"), "a".repeat(30_000));
    const jk = await add(join(save, "Junk.T"));
    for (const f of junk) put(join(save, "Junk.T", f), "the user's");
    await remove(jk, true, join(save, "Junk.T"));
    check("deleteFilesTrueJunk", { unlisted: junk, left: tree(join(save, "Junk.T")) });

    // The same with one hidden junk file (.DS_Store): nothing unlisted goes.
    const hidden = ["Thumbs.db", ".DS_Store"];
    put(join(save, "Hidden.T/a.mkv"), "a".repeat(30_000));
    const hd = await add(join(save, "Hidden.T"));
    for (const f of hidden) put(join(save, "Hidden.T", f), "the user's");
    await remove(hd, true, join(save, "Hidden.T"));
    check("deleteFilesTrueHiddenJunk", { unlisted: hidden, left: tree(join(save, "Hidden.T")) });

    // Without a root folder: the files go, their folders and the save path stay.
    put(join(root.path, "src/Flat.T/c.mkv"), "c".repeat(30_000));
    put(join(root.path, "src/Flat.T/d/e.mkv"), "e".repeat(30_000));
    put(join(save, "flat/c.mkv"), "c".repeat(30_000));
    put(join(save, "flat/d/e.mkv"), "e".repeat(30_000));
    put(join(save, "flat/other.txt"), "the user's");
    await remove(await add(join(root.path, "src/Flat.T"), { savePath: join(save, "flat"), contentLayout: "NoSubfolder" }), true, join(save, "flat"));
    check("deleteFilesTrueNoSubfolder", tree(join(save, "flat")));

    put(join(save, "single/one.mkv"), "1".repeat(30_000));
    put(join(save, "single/Thumbs.db"), "the user's");
    await remove(await add(join(save, "single/one.mkv")), true, join(save, "single"));
    check("deleteFilesTrueSingleFile", tree(join(save, "single")));
  });

  it("a download with a skipped file (priority 0), from a second qBittorrent", async () => {
    const leech = await startQbittorrent({ defaultSavePath: join(root.path, "leech"), bypassLocalhostAuth: true, version });
    try {
      await call("app/setPreferences", { json: JSON.stringify({ queueing_enabled: false, refresh_interval: 250 }) }, leech);
      const data = join(root.path, "save/Part.T");
      // x ends 1000 bytes into a 256 KiB piece that y (skipped) fills: that piece is downloaded for x.
      put(join(data, "x.mkv"), randomBytes(1024 * 1024 + 1000));
      put(join(data, "y.nfo"), randomBytes(1024 * 1024));
      put(join(data, "z.srt"), randomBytes(3000));
      const seed = await qbt.add(data);
      await qbt.waitSeeding(seed);
      const port = ((await (await qbt.api("/api/v2/app/preferences")).json()) as any).listen_port as number;
      const save = join(root.path, "leech/save");
      mkdirSync(save, { recursive: true });
      const { hash } = await addTorrent(data, { savepath: save, [version === "4.5" ? "paused" : "stopped"]: "true" }, leech);
      expect(hash).toBe(seed);
      await call("torrents/filePrio", { hash, id: "1", priority: "0" }, leech);
      await call(`torrents/${start}`, { hashes: hash }, leech);
      await call("torrents/addPeers", { hashes: hash, peers: `127.0.0.1:${port}` }, leech);
      const done = await until(() => info(hash, leech), (t) => t.progress === 1 && !CHECKING.test(t.state), "the download", 30_000);
      await sleep(1000);
      const t = await info(hash, leech);
      check("skippedFile", {
        state: t.state, progress: t.progress, amount_left: t.amount_left, size: t.size, total_size: t.total_size,
        completionOnSet: done.completion_on > 0, files: ((await files(hash, leech)) as any[]).map((f) => ({ name: f.name, priority: f.priority, progress: f.progress })),
        disk: (tree(save) as string[]).map((p) => p.replace(hash, "<hash>")),
      });
      await call("torrents/filePrio", { hash, id: "1", priority: "1" }, leech);
      const wanted = await until(() => info(hash, leech), (x) => x.progress < 1, "the file to be wanted again");
      await sleep(500);
      const again = await info(hash, leech);
      check("unskippedFile", { stateEndsWithDL: again.state.endsWith("DL") || again.state === "downloading", progressBelow1: wanted.progress < 1, completion_on: again.completion_on });
      await call("torrents/delete", { hashes: hash, deleteFiles: "true" }, leech);
      await until(() => info(hash, leech), (x) => x === undefined, "the download to go");
      await quiet(save);
      check("deleteFilesTruePartsFile", tree(save));
    } finally {
      await leech.stop();
    }
  }, 60_000);

  it("files deleted on disk: running, rechecked, stopped and started, and after a restart", async () => {
    const seeding = async (name: string) => {
      const hash = await qbt.add(put(join(root.path, `save/${name}/a.mkv`), name.repeat(5000)).replace(/\/a\.mkv$/, ""));
      await qbt.waitSeeding(hash);
      return hash;
    };
    const view = async (hash: string) => {
      const t = await info(hash);
      return { state: t.state, progress: t.progress, content_path: t.content_path, files: ((await files(hash)) as any[]).map((f) => ({ name: f.name, progress: f.progress })) };
    };
    const recheck = await seeding("Gone.Recheck");
    const cycle = await seeding("Gone.Cycle");
    const restart = await seeding("Gone.Restart");
    const kept = await seeding("Kept.Restart");
    await sleep(2500);
    await refresh(kept);
    const keptSeconds = (await info(kept)).seeding_time;
    const keptRead = Date.now();
    for (const name of ["Gone.Recheck", "Gone.Cycle", "Gone.Restart"]) rmSync(join(root.path, "save", name), { recursive: true });
    await sleep(1000);
    check("missingWhileRunning", await view(recheck));

    await call("torrents/recheck", { hashes: recheck });
    await until(() => info(recheck), (t) => t.progress !== 1, "Gone.Recheck to be checked");
    await settled(recheck, "Gone.Recheck to be checked");
    await sleep(500);
    check("missingRechecked", await view(recheck));

    await call(`torrents/${stop}`, { hashes: cycle });
    const stopped = await until(() => info(cycle), (t) => t.state !== "stalledUP", "Gone.Cycle to stop");
    await call(`torrents/${start}`, { hashes: cycle });
    await until(() => info(cycle), (t) => t.state !== stopped.state, "Gone.Cycle to start");
    await sleep(1500);
    check("missingStoppedStarted", { stopped: stopped.state, started: await view(cycle) });

    await qbt.restart();
    const first = (await qbt.torrents()).find((t) => t.hash === kept);
    check("restartFirstAnswer", {
      listed: first !== undefined, content_path: first?.content_path,
      state: first?.state === "checkingResumeData" || first?.state === "stalledUP" ? "checkingResumeData or stalledUP" : first?.state,
    });
    const missing = await until(() => info(restart), (t) => t.state !== "checkingResumeData", "Gone.Restart to be loaded");
    await sleep(500);
    check("missingAfterRestart", { ...(await view(restart)), completionOnKept: missing.completion_on > 0 });
    await until(() => info(kept), (t) => t.state === "stalledUP", "Kept.Restart to seed");
    // The seconds it seeded since its last change (when keptSeconds was read) up to now, across the restart: kept, or lost?
    const gained = (await info(kept)).seeding_time - keptSeconds;
    const most = (Date.now() - keptRead) / 1000;
    check("restartSeedingTime", gained < -2 ? `lower than at its last change (${gained} s)` : gained > most + 2 ? `more than it seeded (${gained} s of ${most} s)` : "between its value at its last change and the time it seeded");
    await call("torrents/recheck", { hashes: restart });
    await until(() => info(restart), (t) => t.state !== "missingFiles", "Gone.Restart to be checked");
    check("missingAfterRestartRechecked", (await settled(restart, "Gone.Restart to be checked")).state);
  }, 60_000);

  it("every fact in test/support/qbittorrent-facts.ts was checked", () => {
    expect(Object.keys(QBITTORRENT_FACTS).filter((id) => !checked.has(id as QbittorrentFactId))).toEqual([]);
  });
}, 60_000);
