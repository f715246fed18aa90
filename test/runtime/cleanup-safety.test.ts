/**
 * The data-loss cases of the cleanup issue, one test each, named with the case's number. Every test
 * runs the bundled runtime (`upload`, `cleanup`, …) as the units run it, against a real
 * qbittorrent-nox on loopback, the real rclone (a local remote stands in for B2; a crypt remote for
 * a remote without SHA-1), the real unar, and real files and hard links. Each runs against both
 * qBittorrent versions (4.5.2 on the host, 5.1 under chroot), in a folder both name by the same
 * path (`sharedDir`), so what qBittorrent reports is what the runtime finds on disk.
 *
 * The rule they check: a file is deleted only when that very file (inode, size, time) is recorded
 * as uploaded and its remote copy still has the recorded hash; a torrent goes only when due and
 * every file it lists is covered; a file no torrent lists goes only after two trustworthy runs a
 * grace period apart; nothing is exempt by name.
 *
 * One qBittorrent per version for the whole file; each test gets its own sandbox (folders, remote,
 * state) inside the shared folder, and every torrent is removed (its files kept) after each test.
 *
 * Each test asserts what happened to the data first (files, torrents, the remote's content, by
 * SHA-1 whatever the layout: expectNoLoss), then what the runs logged and recorded, so run against
 * another build the first failure names the loss. To run them against the code before upload
 * records (b44676d): bundle its runtime/cli.ts with esbuild and run this file with
 * MP_TEST_RUNTIME=<that bundle> MP_TEST_RUNTIME_LEGACY=1 (sandbox.ts writes the config it read).
 */
import { execa } from "execa";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { requireTool } from "../helpers.ts";
import { fixture, listFiles, sandbox, storedZip, type RunResult, type Sandbox } from "./sandbox.ts";
import { QBITTORRENT_VERSIONS, sharedDir, startQbittorrent, type Qbittorrent, type SharedDir } from "./qbittorrent.ts";

requireTool("unar");
requireTool("mktorrent");

const COMPLETED = "/var/lib/qBittorrent/completed";
const WEEK = 7 * 86400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha1 = (data: string | Buffer) => createHash("sha1").update(data).digest("hex");
/** The v1 info-hash of a .torrent: the SHA-1 of its bencoded `info` value, as it stands in the file. */
function infoHash(torrent: Buffer): string {
  let at = 0;
  const skip = (): void => {
    const c = String.fromCharCode(torrent[at]!);
    if (c === "i") at = torrent.indexOf(0x65, at) + 1;
    else if (c === "l" || c === "d") {
      at++;
      while (torrent[at] !== 0x65) skip();
      at++;
    } else {
      const colon = torrent.indexOf(0x3a, at);
      at = colon + 1 + Number(torrent.subarray(at, colon).toString());
    }
  };
  expect(String.fromCharCode(torrent[0]!)).toBe("d");
  at = 1;
  while (torrent[at] !== 0x65) {
    const colon = torrent.indexOf(0x3a, at);
    const length = Number(torrent.subarray(at, colon).toString());
    const key = torrent.subarray(colon + 1, colon + 1 + length).toString();
    at = colon + 1 + length;
    const start = at;
    skip();
    if (key === "info") return sha1(torrent.subarray(start, at));
  }
  throw new Error("no info dictionary in the torrent");
}
/** What unar extracts from a fixture, file by file (relative path → bytes). */
async function unpack(archive: string): Promise<Map<string, Buffer>> {
  const dir = mkdtempSync(join(tmpdir(), "mp-unpacked-"));
  try {
    await execa(requireTool("unar"), ["-q", "-D", "-o", dir, archive], { stdin: "ignore" });
    return new Map(listFiles(dir).map((f) => [f, readFileSync(join(dir, f))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
/** A run that must succeed; its output is the message when it does not. */
function ok(result: RunResult): RunResult {
  expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}
/** No crash: exit 0 or 1 (a reported failure), never a stack trace or an unhandled errno. */
function noCrash(result: RunResult): void {
  expect([0, 1], `${result.stdout}\n${result.stderr}`).toContain(result.exitCode);
  expect(result.stderr).not.toMatch(/\n\s+at |ENOENT|ENAMETOOLONG|EEXIST/);
}

/** A file whose content must never be lost: its bytes now, and for an archive what it holds. */
interface Guarded {
  path: string;
  bytes: Buffer;
  members?: Buffer[];
}
const guard = (path: string, members?: Iterable<Buffer>): Guarded => ({ path, bytes: readFileSync(path), ...(members ? { members: [...members] } : {}) });
/**
 * No loss: each guarded file is still there with the same bytes, or the remote holds its content
 * (for an archive, every file it holds) under whatever name. It does not depend on the remote's
 * layout, so it judges any build of the runtime the same way.
 */
function expectNoLoss(s: Sandbox, guarded: Guarded[]): void {
  const remote = new Set(s.remoteFiles().map((f) => sha1(s.remote(f))));
  for (const g of guarded) {
    if (existsSync(g.path)) {
      expect(readFileSync(g.path).equals(g.bytes), `${g.path} changed`).toBe(true);
      continue;
    }
    for (const content of g.members ?? [g.bytes]) expect(remote.has(sha1(content)), `${g.path} was deleted, and the remote does not hold ${content.length} bytes of its content`).toBe(true);
  }
}

// The two versions run side by side (each has its own qBittorrent); within one, one test at a time.
describe.each(QBITTORRENT_VERSIONS)("cleanup and upload never lose data, with qBittorrent %s", (version) => {
  let shared: SharedDir;
  let qbt: Qbittorrent;

  beforeAll(async () => {
    shared = sharedDir(version, "mp-safety-");
    qbt = await startQbittorrent({ defaultSavePath: shared.path, bypassLocalhostAuth: true, version });
    // No automatic queueing: a test with many torrents must not see them queued unless it asks.
    await preferences({ queueing_enabled: false, max_active_checking_torrents: 1 });
  }, 60_000);
  afterAll(async () => {
    await qbt?.stop();
    shared?.dispose();
  });
  afterEach(async () => {
    const all = await hashes();
    if (all.length > 0) await qbt.api("/api/v2/torrents/delete", { hashes: all.join("|"), deleteFiles: "false" });
    await preferences({ queueing_enabled: false, max_active_checking_torrents: 1 });
    for (let i = 0; i < 50 && (await hashes()).length > 0; i++) await sleep(100);
  });

  async function preferences(prefs: Record<string, unknown>): Promise<void> {
    const response = await qbt.api("/api/v2/app/setPreferences", { json: JSON.stringify(prefs) });
    expect(response.status).toBe(200);
  }
  const hashes = async () => (await qbt.torrents()).map((t) => t.hash as string).sort();
  const torrent = async (hash: string) => (await qbt.torrents()).find((t) => t.hash === hash);
  /** qBittorrent lists exactly these torrents (removal takes it a moment). */
  async function expectTorrents(expected: string[]): Promise<void> {
    const want = [...expected].sort();
    for (let i = 0; i < 50 && JSON.stringify(await hashes()) !== JSON.stringify(want); i++) await sleep(100);
    expect(await hashes()).toEqual(want);
  }
  /** qBittorrent no longer lists these torrents. */
  async function expectGone(...gone: string[]): Promise<void> {
    for (let i = 0; i < 50 && (await hashes()).some((h) => gone.includes(h)); i++) await sleep(100);
    expect((await hashes()).filter((h) => gone.includes(h))).toEqual([]);
  }

  /** A sandbox in the shared folder, with qBittorrent's categories, and torrents due at once unless `edit` says otherwise. */
  async function setup(edit: (c: Sandbox["config"]) => void = () => {}): Promise<Sandbox> {
    const s = await sandbox(
      (c) => {
        c.qbittorrent.url = qbt.url;
        c.qbittorrent.waitSeconds = 10;
        c.cleanup.seedingPeriodSeconds = 0;
        edit(c);
      },
      { parent: shared.path },
    );
    ok(await s.run("categories"));
    return s;
  }

  /**
   * Makes a torrent of `dataPath` with mktorrent and adds it (a save path, or a category with
   * automatic management); waits until qBittorrent has checked its data and seeds, or, added
   * stopped, lists it stopped. Returns its hash. Several can be added at once (Promise.all).
   */
  async function add(
    dataPath: string,
    options: { savePath?: string; category?: string; contentLayout?: "NoSubfolder" | "Subfolder" | "Original"; stopped?: boolean; skipChecking?: boolean } = {},
  ): Promise<string> {
    const made = mkdtempSync(join(tmpdir(), "mp-torrent-"));
    const file = join(made, "t.torrent");
    await execa(requireTool("mktorrent"), ["-a", "http://127.0.0.1:1/announce", "-o", file, dataPath]);
    const data = readFileSync(file);
    rmSync(made, { recursive: true, force: true });
    const hash = infoHash(data);
    const form = new FormData();
    form.append("torrents", new Blob([data]), basename(file));
    if (options.category) form.append("category", options.category);
    else {
      form.append("savepath", options.savePath ?? dirname(dataPath));
      form.append("autoTMM", "false");
    }
    if (options.contentLayout) form.append("contentLayout", options.contentLayout);
    // 4.5 reads `paused`, 5.1 `stopped`.
    if (options.stopped) for (const field of ["paused", "stopped"]) form.append(field, "true");
    if (options.skipChecking) form.append("skip_checking", "true");
    expect(await (await qbt.api("/api/v2/torrents/add", form)).text()).toBe("Ok.");
    if (options.stopped) await until(hash, (t) => /^(paused|stopped)UP$/.test(t.state) && t.progress === 1, "stopped");
    else await until(hash, (t) => t.progress === 1 && !/^checking/.test(t.state) && t.content_path.startsWith("/"), "seeding");
    return hash;
  }

  /** Waits until qBittorrent reports the torrent as `test` wants it. */
  async function until(hash: string, test: (t: any) => boolean, what = "the expected state"): Promise<any> {
    for (let i = 0; i < 150; i++) {
      const t = await torrent(hash);
      if (t && test(t)) return t;
      await sleep(100);
    }
    throw new Error(`torrent ${hash} did not reach ${what}: ${JSON.stringify(await torrent(hash))}`);
  }

  /** Stops (5.1) or pauses (4.5) a torrent. */
  async function stop(hash: string): Promise<void> {
    const stopped = await qbt.api("/api/v2/torrents/stop", { hashes: hash });
    if (stopped.status === 404) expect((await qbt.api("/api/v2/torrents/pause", { hashes: hash })).status).toBe(200);
    else expect(stopped.status).toBe(200);
    await until(hash, (t) => /^(paused|stopped)UP$/.test(t.state), "stopped");
  }

  /**
   * A torrent that has seeded at least `seconds`: qBittorrent updates `seeding_time` when the state
   * changes, so the torrent is stopped once that long has passed, which records it.
   */
  async function seededFor(hash: string, seconds: number): Promise<void> {
    await sleep(seconds * 1000 + 500);
    await stop(hash);
    await until(hash, (t) => t.seeding_time >= seconds, `seeding_time ≥ ${seconds}`);
  }

  // Each test first shows what happened to the data (files, torrents, the remote's content), then
  // what the runs said and recorded: run against an older build, the first failure is the loss.
  describe.sequential("the issue's cases, one at a time (they share this qBittorrent)", () => {
    it("1: a cross-seed in the same folder with one more file, still seeding, keeps every file when the first torrent is cleaned", async () => {
      const s = await setup((c) => void (c.cleanup.seedingPeriodSeconds = 1));
      const dir = s.path(`${COMPLETED}/Cross.Seed.2021.1080p`);
      s.write(`${dir}/movie.mkv`, "movie bytes ".repeat(5000));
      s.write(`${dir}/movie.en.srt`, "subtitles ".repeat(500));
      const first = await add(dir);
      await seededFor(first, 1);
      ok(await s.run("upload"));
      // The cross-seed: the same folder with one more file, added stopped and unchecked as cross-seed
      // tools add them. Complete, seeded 0 s: not due.
      s.write(`${dir}/extras.mkv`, "extra bytes ".repeat(5000));
      const second = await add(dir, { stopped: true, skipChecking: true });
      expect(await torrent(second)).toMatchObject({ progress: 1, seeding_time: 0, content_path: dir });
      const files = ["movie.mkv", "movie.en.srt", "extras.mkv"].map((f) => guard(`${dir}/${f}`));

      const early = ok(await s.run("cleanup"));
      await expectTorrents([second]);
      for (const f of files) expect(readFileSync(f.path).equals(f.bytes), f.path).toBe(true);
      // Once the cross-seed is due, its extra file goes up with its item, and then all of it goes.
      s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
      ok(await s.run("upload"));
      const late = ok(await s.run("cleanup"));
      await expectTorrents([]);
      expect(existsSync(dir)).toBe(false);
      expectNoLoss(s, files);

      expect(early.stdout).toMatch(/^removed torrent "Cross\.Seed\.2021\.1080p" .*: 0 files deleted, 0 B freed$/m);
      expect(early.stdout).toMatch(/1 torrent and 0 orphans removed .* 1 still seeding or downloading/);
      expect(late.stdout).toMatch(/^removed torrent "Cross\.Seed\.2021\.1080p" .*: 3 files deleted/m);
      expect(s.records().flatMap((r) => r.copies)).toContainEqual({ remotePath: "downloads/Cross.Seed.2021.1080p/extras.mkv", size: 60000, sha1: sha1("extra bytes ".repeat(5000)) });
      expect(s.remoteFiles()).toEqual(["downloads/Cross.Seed.2021.1080p/extras.mkv", "downloads/Cross.Seed.2021.1080p/movie.en.srt", "downloads/Cross.Seed.2021.1080p/movie.mkv"]);
    }, 90_000);

    it("1: a cross-seed added while a cleanup run checks the remote keeps the files it shares with the torrent being removed", async () => {
      const s = await setup();
      const dir = s.path(`${COMPLETED}/Mid.Run.2021.1080p`);
      s.write(`${dir}/movie.mkv`, "movie bytes ".repeat(5000));
      await add(dir);
      ok(await s.run("upload"));
      // cleanup's one remote listing (verify) waits at a gate, between its plan and its deletions.
      const gate = join(s.root, "gate");
      mkdirSync(gate);
      const rclone = join(s.root, "rclone-gated");
      writeFileSync(
        rclone,
        `#!/bin/sh\nif [ "$1" = lsjson ]; then touch ${JSON.stringify(`${gate}/listing`)}; for i in $(seq 200); do [ -e ${JSON.stringify(`${gate}/go`)} ] && break; sleep 0.05; done; fi\nexec ${requireTool("rclone")} "$@"\n`,
      );
      chmodSync(rclone, 0o755);
      const cleaning = s.run("cleanup", [], { env: { MEDIA_PIPELINE_RCLONE: rclone } });
      for (let i = 0; i < 200 && !existsSync(`${gate}/listing`); i++) await sleep(50);
      expect(existsSync(`${gate}/listing`)).toBe(true);
      // Meanwhile a cross-seed of the same folder with one more file arrives (not due: seeded 0 s).
      s.write(`${dir}/extras.mkv`, "extra bytes ".repeat(5000));
      const second = await add(dir, { stopped: true, skipChecking: true });
      writeFileSync(`${gate}/go`, "");
      const first = ok(await cleaning);
      // The session changed under the plan: this run removes nothing more.
      expect(first.stdout).toContain("qBittorrent's torrents changed during this run");
      expect(existsSync(`${dir}/movie.mkv`) && existsSync(`${dir}/extras.mkv`)).toBe(true);
      // The next run plans with the cross-seed in view: the due torrent goes, movie.mkv stays for the cross-seed.
      ok(await s.run("cleanup"));
      await expectTorrents([second]);
      expect(existsSync(`${dir}/movie.mkv`) && existsSync(`${dir}/extras.mkv`)).toBe(true);
    }, 60_000);

    it("2: a film named like a sample, never imported, is kept until it is on the remote, then goes up as an extra and is cleaned", async () => {
      const s = await setup();
      const dir = s.path(`${COMPLETED}/movies/Free.Sample.2021.1080p`);
      const film = s.write(`${dir}/Free.Sample.2021.1080p.mkv`, "a whole film ".repeat(5000));
      const sample = s.write(`${dir}/Sample/free.sample.2021.1080p-sample.mkv`, "a sample ".repeat(500));
      const hash = await add(dir, { category: "radarr" });
      expect(await torrent(hash)).toMatchObject({ save_path: s.path(`${COMPLETED}/movies`), content_path: dir });
      const guarded = [guard(film), guard(sample)];

      // Nothing of it is on the remote: nothing goes, whatever the names.
      const before = ok(await s.run("cleanup"));
      expect(existsSync(film) && existsSync(sample)).toBe(true);
      expectNoLoss(s, guarded);
      // Radarr never imports it. The torrent is due: upload sends its files as extras, and then it goes.
      const up = ok(await s.run("upload"));
      const after = ok(await s.run("cleanup"));
      await expectGone(hash);
      expect(existsSync(dir)).toBe(false);
      expectNoLoss(s, guarded);

      expect(before.stdout).toMatch(/^kept torrent "Free\.Sample\.2021\.1080p": "Free\.Sample\.2021\.1080p\/.*\.mkv" has no upload record$/m);
      expect(up.stdout).toMatch(/^uploaded "downloads\/Free\.Sample\.2021\.1080p \(torrent [0-9a-f]{8}\)": 2 files/m);
      expect(s.remoteFiles()).toEqual(["downloads/Free.Sample.2021.1080p/Free.Sample.2021.1080p.mkv", "downloads/Free.Sample.2021.1080p/Sample/free.sample.2021.1080p-sample.mkv"]);
      expect(after.stdout).toMatch(/^removed torrent "Free\.Sample\.2021\.1080p" .*: 2 files deleted/m);
    }, 60_000);

    it("3: a later release with the name of an uploaded one counts as new: its archive is kept until its own content is on the remote", async () => {
      const s = await setup();
      const dir = s.path(`${COMPLETED}/Same.Name.2020`);
      s.copy(fixture("rar4-nolink.rar"), `${dir}/release.rar`);
      const first = await add(dir);
      ok(await s.run("upload"));
      // Removed in the WebUI with its files, not by cleanup: what upload knew about it stays behind.
      await qbt.api("/api/v2/torrents/delete", { hashes: first, deleteFiles: "true" });
      for (let i = 0; i < 50 && existsSync(`${dir}/release.rar`); i++) await sleep(100);
      expect(existsSync(`${dir}/release.rar`)).toBe(false);

      // Later, another release with the same name: another archive under the same file name.
      const rar = s.copy(fixture("rar5-compressed.rar"), `${dir}/release.rar`);
      const second = await add(dir);
      const guarded = [guard(rar, (await unpack(fixture("rar5-compressed.rar"))).values())];
      const early = ok(await s.run("cleanup"));
      expectNoLoss(s, guarded);
      expect(existsSync(rar)).toBe(true);
      const up = ok(await s.run("upload"));
      const late = ok(await s.run("cleanup"));
      expectNoLoss(s, guarded);
      await expectGone(second);
      expect(existsSync(rar)).toBe(false);

      expect(early.stdout).toMatch(/^kept torrent "Same\.Name\.2020": "Same\.Name\.2020\/release\.rar" (has no upload record|changed since it was uploaded)/m);
      expect(up.stdout).toMatch(/^uploaded "downloads\/Same\.Name\.2020": 1 file, .* \(1 file extracted from 1 archive set\)$/m);
      expect(late.stdout).toMatch(/^removed torrent "Same\.Name\.2020"/m);
      // Both releases' content is on the remote, each where its archive's name puts it.
      expect(s.remoteFiles()).toEqual(["extracted/Same.Name.2020/release.rar/test.bin", "extracted/Same.Name.2020/release.rar/test.txt", "extracted/Same.Name.2020/release.rar/testdir/test.txt"]);
    }, 60_000);

    it("4: two archives that both hold readme.txt, and a loose readme.txt beside archives holding one, all keep their own copy on the remote", async () => {
      const s = await setup();
      // Two single-file torrents saved into one folder, each an archive holding readme.txt.
      const two = s.path(`${COMPLETED}/Two.Readmes.2020`);
      const first = s.write(`${two}/first.zip`, storedZip({ "readme.txt": "readme of the first archive\n", "first.bin": "first payload" }));
      const second = s.write(`${two}/second.zip`, storedZip({ "readme.txt": "readme of the second archive\n" }));
      // A release with its own readme.txt beside an archive and a split archive that hold one each.
      const loose = s.path(`${COMPLETED}/Loose.Readme.2020`);
      s.write(`${loose}/readme.txt`, "the release's own readme\n");
      s.write(`${loose}/release.zip`, storedZip({ "readme.txt": "readme of the archive\n", "movie.mkv": "the film" }));
      for (const v of ["zip-split.zip", "zip-split.z01", "zip-split.z02"]) s.copy(fixture(v), `${loose}/${v}`);
      const hashes = await Promise.all([add(first), add(second), add(loose)]);
      const split = [...(await unpack(fixture("zip-split.zip"))).values()];
      const guarded = [
        guard(first, [Buffer.from("readme of the first archive\n"), Buffer.from("first payload")]),
        guard(second, [Buffer.from("readme of the second archive\n")]),
        guard(`${loose}/readme.txt`),
        guard(`${loose}/release.zip`, [Buffer.from("readme of the archive\n"), Buffer.from("the film")]),
        ...["zip-split.zip", "zip-split.z01", "zip-split.z02"].map((v) => guard(`${loose}/${v}`, split)),
      ];
      const up = ok(await s.run("upload"));
      const clean = ok(await s.run("cleanup"));
      expectNoLoss(s, guarded);
      await expectGone(...hashes);
      expect(existsSync(two) || existsSync(loose)).toBe(false);

      expect(up.stdout).toMatch(/^uploaded "downloads\/Two\.Readmes\.2020": 3 files, .* \(3 files extracted from 2 archive sets\)$/m);
      expect(up.stdout).toMatch(/^uploaded "downloads\/Loose\.Readme\.2020": 5 files, .* \(4 files extracted from 2 archive sets\)$/m);
      expect(clean.stdout).toMatch(/3 torrents and 0 orphans removed/);
      const readmes = {
        "extracted/Two.Readmes.2020/first.zip/readme.txt": "readme of the first archive\n",
        "extracted/Two.Readmes.2020/second.zip/readme.txt": "readme of the second archive\n",
        "downloads/Loose.Readme.2020/readme.txt": "the release's own readme\n",
        "extracted/Loose.Readme.2020/release.zip/readme.txt": "readme of the archive\n",
        "extracted/Loose.Readme.2020/zip-split.zip/readme.txt": "split zip readme\n",
      };
      for (const [path, text] of Object.entries(readmes)) expect(s.remote(path).toString(), path).toBe(text);
      // Each volume of the split set was recorded with what the set extracted to.
      const volumes = s.records().filter((r) => r.paths.some((p) => /zip-split\.(zip|z0[12])$/.test(p)));
      expect(volumes).toHaveLength(3);
      for (const v of volumes) {
        expect(v.kind).toBe("archive-volume");
        expect(v.copies.map((c) => c.remotePath).sort()).toEqual(["extracted/Loose.Readme.2020/zip-split.zip/data.bin", "extracted/Loose.Readme.2020/zip-split.zip/readme.txt"]);
      }
    }, 60_000);

    it("5: a torrent added without a subfolder (content path = the completed folder) keeps its files for the seeding period", async () => {
      const s = await setup((c) => {
        c.cleanup.seedingPeriodSeconds = WEEK;
        c.cleanup.orphanGraceSeconds = 0;
      });
      const source = s.write("/elsewhere/Two.Files/a.mkv", "first ".repeat(3000));
      s.write("/elsewhere/Two.Files/b.mkv", "second ".repeat(3000));
      const a = s.write(`${COMPLETED}/a.mkv`, "first ".repeat(3000));
      const b = s.write(`${COMPLETED}/b.mkv`, "second ".repeat(3000));
      const hash = await add(dirname(source), { savePath: s.path(COMPLETED), contentLayout: "NoSubfolder" });
      expect((await torrent(hash)).content_path).toBe(s.path(COMPLETED));
      const guarded = [guard(a), guard(b)];
      ok(await s.run("upload"));

      // Uploaded, listed by a seeding torrent: neither due nor unreferenced, however many runs.
      const early: RunResult[] = [];
      for (let run = 0; run < 3; run++) {
        early.push(ok(await s.run("cleanup")));
        expect(existsSync(a) && existsSync(b), `run ${run}`).toBe(true);
        await expectTorrents([hash]);
      }
      // After the seeding period its two files go, one by one; the completed folder stays.
      s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
      const late = ok(await s.run("cleanup"));
      await expectGone(hash);
      expect(existsSync(a) || existsSync(b)).toBe(false);
      expect(existsSync(s.path(`${COMPLETED}/tv`)) && existsSync(s.path(COMPLETED))).toBe(true);
      expectNoLoss(s, guarded);

      for (const run of early) expect(run.stdout).toMatch(/0 torrents and 0 orphans removed .* 1 still seeding or downloading, 0 unreferenced/);
      expect(late.stdout).toMatch(/^removed torrent "Two\.Files" .*: 2 files deleted/m);
      expect(s.remoteFiles()).toEqual(["downloads/a.mkv", "downloads/b.mkv"]);
    }, 60_000);

    it("6: a library copy (not a hard link) waits out the orphan grace; the torrent's own file goes up as an extra once due, then is cleaned", async () => {
      const s = await setup((c) => {
        c.cleanup.seedingPeriodSeconds = WEEK;
        c.cleanup.orphanGraceSeconds = 2;
      });
      const content = "episode bytes ".repeat(4000);
      const episode = s.write(`${COMPLETED}/tv/Show.S01E01.1080p/show.s01e01.mkv`, content);
      const hash = await add(dirname(episode), { category: "tv-sonarr" });
      // Sonarr imported by copying (another file system, or hard links off): another inode.
      const copy = s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", content);
      expect(statSync(copy).ino).not.toBe(statSync(episode).ino);
      const guarded = [guard(episode), guard(copy)];
      ok(await s.run("upload"));

      // The copy no torrent lists: kept in the first run after the upload, and in the next one too
      // (two runs, but not the grace period apart); gone only after both.
      const first = ok(await s.run("cleanup"));
      expect(existsSync(copy)).toBe(true);
      const second = ok(await s.run("cleanup"));
      expect(existsSync(copy)).toBe(true);
      await sleep(2100);
      const third = ok(await s.run("cleanup"));
      expect(existsSync(copy)).toBe(false);
      expect(existsSync(episode)).toBe(true);
      await expectTorrents([hash]);
      expectNoLoss(s, guarded);
      // Due now: nothing covers the torrent's own file (the copy was another file), so it stays
      // until upload sends it as an extra; then the torrent goes.
      s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
      const kept = ok(await s.run("cleanup"));
      expect(existsSync(episode)).toBe(true);
      ok(await s.run("upload"));
      const removed = ok(await s.run("cleanup"));
      await expectGone(hash);
      expect(existsSync(episode)).toBe(false);
      expectNoLoss(s, guarded);

      expect(first.stdout).toMatch(/0 torrents and 0 orphans removed .* 1 still seeding or downloading, 1 unreferenced, waiting out the grace period/);
      expect(second.stdout).toMatch(/0 orphans removed .* 1 unreferenced, waiting out the grace period/);
      expect(third.stdout).toMatch(/^removed orphan "Show\/Season 1\/S01E01\.mkv" \(no torrent has listed it for 0 h \(3 runs\); 1 remote copy verified\): 1 file deleted/m);
      expect(kept.stdout).toMatch(/^kept torrent "Show\.S01E01\.1080p": "Show\.S01E01\.1080p\/show\.s01e01\.mkv" has no upload record$/m);
      expect(removed.stdout).toMatch(/^removed torrent "Show\.S01E01\.1080p"/m);
      expect(s.remoteFiles()).toEqual(["downloads/Show.S01E01.1080p/show.s01e01.mkv", "tv/Show/Season 1/S01E01.mkv"]);
    }, 60_000);

    it("7: qBittorrent answering an empty list (a lost session, a new profile) turns no uploaded file into an orphan", async () => {
      const s = await setup((c) => void (c.cleanup.orphanGraceSeconds = 0));
      const movie = s.write(`${COMPLETED}/Was.Seeding.2019/movie.mkv`, "seeding bytes");
      const library = s.path("/media/arr/movies/Was Seeding (2019)/movie.mkv");
      mkdirSync(dirname(library), { recursive: true });
      linkSync(movie, library);
      const episode = s.write("/media/arr/tv/Other/Season 1/S01E01.mkv", "another episode");
      const guarded = [guard(movie), guard(episode)];
      ok(await s.run("upload"));
      await expectTorrents([]);
      const empty: RunResult[] = [];
      for (let run = 0; run < 3; run++) {
        empty.push(ok(await s.run("cleanup")));
        expect(existsSync(movie) && existsSync(library) && existsSync(episode), `run ${run}`).toBe(true);
      }
      // The session comes back: the torrent goes, being due; the episode no torrent lists waits for
      // two trustworthy runs (the runs on the empty answer did not count).
      const hash = await add(dirname(movie));
      const back = ok(await s.run("cleanup"));
      await expectGone(hash);
      expect(existsSync(movie) || existsSync(library)).toBe(false);
      expect(existsSync(episode)).toBe(true);
      expectNoLoss(s, guarded);

      for (const run of empty) {
        expect(run.stdout).toMatch(/^no file judged an orphan this run: qBittorrent reports no torrents at all \(a lost session or a new profile\?\)$/m);
        expect(run.stdout).toMatch(/0 torrents and 0 orphans removed/);
      }
      expect(back.stdout).toMatch(/^removed torrent "Was\.Seeding\.2019"/m);
      expect(back.stdout).toMatch(/1 unreferenced, waiting out the grace period/);
    }, 60_000);

    it("8: '..' in a configured folder stops every job before it reads or deletes anything", async () => {
      const s = await setup((c) => void (c.cleanup.orphanGraceSeconds = 0));
      const movie = s.write(`${COMPLETED}/Seeding.2021/movie.mkv`, "seeding");
      const hash = await add(dirname(movie));
      ok(await s.run("upload"));
      const precious = s.write("/precious/keep.mkv", "precious bytes");
      const climbing = `${s.path("/media/arr")}/../../precious`;
      s.update((c) => void (c.upload.sources.find((x) => x.prefix === "movies/")!.path = climbing));
      const results = [];
      for (const command of ["cleanup", "upload", "cleanup"]) {
        results.push(await s.run(command));
        expect(readFileSync(precious, "utf8")).toBe("precious bytes");
        expect(readFileSync(movie, "utf8")).toBe("seeding");
        await expectTorrents([hash]);
      }
      for (const result of results) {
        expect(result.exitCode).toBe(2);
        expect(result.stderr).toContain(`upload.sources.1.path: ${JSON.stringify(climbing)} contains a '..' segment`);
      }
    }, 60_000);

    it("9: upload and cleanup running at the same time never crash and never lose a file", async () => {
      const s = await setup((c) => void (c.cleanup.orphanGraceSeconds = 0));
      // Deterministic interleaving first: upload has copied a library file and not yet recorded it
      // when cleanup removes that file (its content is covered by the torrent's own record) and its
      // folder. (The marker upload then wrote beside it made the old code crash with ENOENT.)
      const gate = join(s.root, "gate");
      mkdirSync(gate);
      const rclone = join(s.root, "rclone-gated");
      writeFileSync(
        rclone,
        `#!/bin/sh\ncase "$1" in copy|copyto) ;; *) exec ${requireTool("rclone")} "$@" ;; esac\n${requireTool("rclone")} "$@"; rc=$?\ntouch ${JSON.stringify(`${gate}/copied`)}\nfor i in $(seq 200); do [ -e ${JSON.stringify(`${gate}/go`)} ] && break; sleep 0.05; done\nexit $rc\n`,
      );
      chmodSync(rclone, 0o755);
      const episode = s.write(`${COMPLETED}/Race.Show.S01E01/ep.mkv`, "raced episode ".repeat(2000));
      const library = s.path("/media/arr/tv/Race Show/Season 1/S01E01.mkv");
      mkdirSync(dirname(library), { recursive: true });
      linkSync(episode, library);
      const hash = await add(dirname(episode));
      const guarded = [guard(episode)];
      // The first upload sends the download; the remote refuses the library name this once (a file
      // stands where its folder goes), so that is still to send.
      const obstacle = s.write(join(s.bucket, "tv/Race Show"), "in the way");
      const first = await s.run("upload");
      expect(first.exitCode).toBe(1);
      rmSync(obstacle);
      const uploading = s.run("upload", [], { env: { MEDIA_PIPELINE_RCLONE: rclone } });
      for (let i = 0; i < 200 && !existsSync(`${gate}/copied`); i++) await sleep(50);
      expect(existsSync(`${gate}/copied`)).toBe(true);
      const cleaned = ok(await s.run("cleanup"));
      expect(existsSync(episode) || existsSync(dirname(library))).toBe(false);
      writeFileSync(`${gate}/go`, "");
      const raced = await uploading;
      noCrash(raced);
      await expectGone(hash);
      expectNoLoss(s, guarded);
      const after = ok(await s.run("upload"));

      // Then rounds of both at once, each with a new Sonarr download (imported as a hard link) and a
      // new uncategorized one arriving.
      const contents = new Map<string, string>();
      for (let round = 0; round < 4; round++) {
        const name = `Round.${round}.S01E01`;
        const text = `round ${round} `.repeat(3000 + round);
        const file = s.write(`${COMPLETED}/tv/${name}/ep.mkv`, text);
        contents.set(name, text);
        const link = s.path(`/media/arr/tv/Round ${round}/Season 1/S01E01.mkv`);
        mkdirSync(dirname(link), { recursive: true });
        linkSync(file, link);
        const loose = s.write(`${COMPLETED}/Loose.${round}/file.bin`, text.toUpperCase());
        contents.set(`Loose.${round}`, text.toUpperCase());
        await Promise.all([add(dirname(file), { category: "tv-sonarr" }), add(dirname(loose))]);
        const [up, clean] = await Promise.all([s.run("upload"), s.run("cleanup")]);
        noCrash(up);
        noCrash(clean);
      }
      for (let settle = 0; settle < 3; settle++) {
        ok(await s.run("upload"));
        ok(await s.run("cleanup"));
      }
      await expectTorrents([]);
      // No loss: every content is on the remote (nothing is left locally to hold it).
      const remote = new Set(s.remoteFiles().map((f) => sha1(s.remote(f))));
      for (const [name, text] of contents) expect(remote.has(sha1(text)), name).toBe(true);

      expect(cleaned.stdout).toMatch(/^removed torrent "Race\.Show\.S01E01" .*: 2 files deleted/m);
      expect(after.stdout).toMatch(/0 items uploaded .* 0 failed/);
      expect(s.remote("tv/Race Show/Season 1/S01E01.mkv").toString()).toBe("raced episode ".repeat(2000));
    }, 180_000);

    it("10: names of 235 bytes (over the ~233 a marker allowed) are uploaded, recorded and cleaned", async () => {
      const s = await setup();
      // libtorrent shortens a name over 240 bytes in a torrent, so 235: over what markers allowed, under that.
      const long = `${"é".repeat(112)}.S01E01.mkv`;
      const folder = `${"ü".repeat(112)}.2021.1080p`;
      expect([Buffer.byteLength(long), Buffer.byteLength(folder)]).toEqual([235, 235]);
      const episode = s.write(`${COMPLETED}/tv/Long.S01E01/${long}`, "long episode");
      const library = s.path(`/media/arr/tv/Long/Season 1/${long}`);
      mkdirSync(dirname(library), { recursive: true });
      linkSync(episode, library);
      const movie = s.write(`${COMPLETED}/${folder}/movie.mkv`, "long folder");
      const [tv, download] = await Promise.all([add(dirname(episode), { category: "tv-sonarr" }), add(dirname(movie))]);
      const guarded = [guard(episode), guard(movie)];
      const up = ok(await s.run("upload"));
      const clean = ok(await s.run("cleanup"));
      await expectGone(tv, download);
      expect(existsSync(episode) || existsSync(library) || existsSync(movie)).toBe(false);
      expectNoLoss(s, guarded);

      expect(up.stdout).toMatch(/2 items uploaded \(2 files, 23 B\)/);
      expect(clean.stdout).toMatch(/2 torrents and 0 orphans removed/);
      expect(s.remoteFiles()).toEqual([`downloads/${folder}/movie.mkv`, `tv/Long/Season 1/${long}`]);
    }, 60_000);

    it("11: single-file .rar and .zip torrents directly in completed/ are extracted and uploaded, and upload runs on", async () => {
      const s = await setup();
      const rar = s.copy(fixture("rar4-nolink.rar"), `${COMPLETED}/Single.File.rar`);
      const zip = s.write(`${COMPLETED}/Single.File.zip`, storedZip({ "inside/movie.mkv": "zipped film" }));
      const other = s.write(`${COMPLETED}/Other.Item/file.mkv`, "another item");
      const torrents = await Promise.all([add(rar), add(zip), add(dirname(other))]);
      expect((await torrent(torrents[0]!)).content_path).toBe(rar);
      const guarded = [guard(rar, (await unpack(fixture("rar4-nolink.rar"))).values()), guard(zip, [Buffer.from("zipped film")]), guard(other)];
      const runs = [ok(await s.run("upload")), ok(await s.run("upload"))];
      const clean = ok(await s.run("cleanup"));
      await expectGone(...torrents);
      expect(existsSync(rar) || existsSync(zip) || existsSync(other)).toBe(false);
      expect(existsSync(s.path(COMPLETED))).toBe(true);
      expectNoLoss(s, guarded);

      expect(runs[0]!.stdout).toMatch(/3 items uploaded \(4 files, 63 B\)/);
      expect(runs[1]!.stdout).toMatch(/0 items uploaded .* 3 already uploaded/);
      expect(clean.stdout).toMatch(/3 torrents and 0 orphans removed/);
      expect(s.remoteFiles()).toEqual(["downloads/Other.Item/file.mkv", "extracted/Single.File.rar/test.txt", "extracted/Single.File.rar/testdir/test.txt", "extracted/Single.File.zip/inside/movie.mkv"]);
    }, 60_000);

    it('12: a magnet still fetching metadata (content path "") keeps no other torrent from being cleaned, and no orphan is judged meanwhile', async () => {
      const s = await setup((c) => void (c.cleanup.orphanGraceSeconds = 0));
      const magnet = await qbt.addMagnet("0123456789abcdef0123456789abcdef01234567", "Some.Magnet", s.path(COMPLETED));
      expect(await until(magnet, (t) => /metaDL$/i.test(t.state))).toMatchObject({ content_path: "" });
      const done = await add(dirname(s.write(`${COMPLETED}/Done.2020/movie.mkv`, "done ".repeat(3000))));
      const orphan = s.write(`${COMPLETED}/Removed.In.WebUI.2019/movie.mkv`, "orphan bytes");
      const guarded = [guard(orphan)];
      ok(await s.run("upload"));
      // Added after the upload: due, not uploaded, so kept; it keeps qBittorrent's answer non-empty.
      const seeding = await add(dirname(s.write(`${COMPLETED}/Still.Here.2021/movie.mkv`, "still here")));

      const meanwhile: RunResult[] = [];
      for (let run = 0; run < 2; run++) {
        meanwhile.push(ok(await s.run("cleanup")));
        expect(existsSync(orphan), `run ${run}`).toBe(true);
      }
      await expectTorrents([magnet, seeding]);
      // Once the magnet is gone, the orphan goes after two trustworthy runs.
      await qbt.api("/api/v2/torrents/delete", { hashes: magnet, deleteFiles: "false" });
      await expectGone(magnet);
      const waiting = ok(await s.run("cleanup"));
      expect(existsSync(orphan)).toBe(true);
      const removed = ok(await s.run("cleanup"));
      expect(existsSync(orphan)).toBe(false);
      expectNoLoss(s, guarded);
      await expectTorrents([seeding]);

      for (const run of meanwhile) {
        expect(run.stdout).toMatch(/^kept torrent "Some\.Magnet": qBittorrent reports it (forced)?metaDL; its files are not settled$/im);
        expect(run.stdout).toMatch(/^no file judged an orphan this run: 1 torrent is not settled \((forced)?metaDL\)/im);
      }
      expect(meanwhile[0]!.stdout).toMatch(/^removed torrent "Done\.2020"/m);
      expect(done).not.toBe(seeding);
      expect(waiting.stdout).toMatch(/1 unreferenced, waiting out the grace period/);
      expect(removed.stdout).toMatch(/^removed orphan "Removed\.In\.WebUI\.2019\/movie\.mkv"/m);
    }, 60_000);

    it("13: an item with three archive sets is extracted set by set and cleaned", async () => {
      const s = await setup();
      const dir = s.path(`${COMPLETED}/Three.Sets.2020`);
      s.copy(fixture("rar4-nolink.rar"), `${dir}/cd1/movie.rar`);
      for (const n of [1, 2, 3]) s.copy(fixture(`multivolume.part${n}.rar`), `${dir}/cd2/multivolume.part${n}.rar`);
      s.write(`${dir}/extras.zip`, storedZip({ "behind the scenes.mkv": "extras" }));
      const hash = await add(dir);
      const html = [...(await unpack(fixture("multivolume.part1.rar"))).values()];
      const guarded = [
        guard(`${dir}/cd1/movie.rar`, (await unpack(fixture("rar4-nolink.rar"))).values()),
        ...[1, 2, 3].map((n) => guard(`${dir}/cd2/multivolume.part${n}.rar`, html)),
        guard(`${dir}/extras.zip`, [Buffer.from("extras")]),
      ];
      const up = ok(await s.run("upload"));
      const clean = ok(await s.run("cleanup"));
      await expectGone(hash);
      expect(existsSync(dir)).toBe(false);
      expectNoLoss(s, guarded);

      expect(up.stdout).toMatch(/^uploaded "downloads\/Three\.Sets\.2020": 4 files, .* \(4 files extracted from 3 archive sets\)$/m);
      expect(clean.stdout).toMatch(/^removed torrent "Three\.Sets\.2020" .*: 5 files deleted/m);
      expect(s.remoteFiles()).toEqual([
        "extracted/Three.Sets.2020/cd1/movie.rar/test.txt",
        "extracted/Three.Sets.2020/cd1/movie.rar/testdir/test.txt",
        "extracted/Three.Sets.2020/cd2/multivolume.part1.rar/LibarchiveAddingTest.html",
        "extracted/Three.Sets.2020/extras.zip/behind the scenes.mkv",
      ]);
      const parts = s.records().filter((r) => r.paths.some((p) => p.includes("/cd2/multivolume.part")));
      expect(parts.map((r) => r.copies.map((c) => c.remotePath))).toEqual([1, 2, 3].map(() => ["extracted/Three.Sets.2020/cd2/multivolume.part1.rar/LibarchiveAddingTest.html"]));
    }, 60_000);

    it("14: a path with a line break is confirmed on the remote, and its torrent is cleaned", async () => {
      const s = await setup((c) => void (c.cleanup.seedingPeriodSeconds = WEEK));
      const episode = s.write(`${COMPLETED}/tv/Line.Break.S01E01/ep.mkv`, "line break episode");
      const hash = await add(dirname(episode), { category: "tv-sonarr" });
      const library = s.path("/media/arr/tv/Line\nBreak/Season 1/S01E01.mkv");
      mkdirSync(dirname(library), { recursive: true });
      linkSync(episode, library);
      const guarded = [guard(episode)];
      const up = ok(await s.run("upload"));
      s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
      const clean = ok(await s.run("cleanup"));
      await expectGone(hash);
      expect(existsSync(episode) || existsSync(library)).toBe(false);
      expectNoLoss(s, guarded);

      expect(up.stdout).toContain('uploaded "tv/Line\\nBreak/Season 1/S01E01.mkv"');
      // Recorded as rclone names it inside (its standard encoding: a line break is ␊), which is what a listing shows.
      expect(s.records().flatMap((r) => r.copies)).toEqual([{ remotePath: "tv/Line\u240aBreak/Season 1/S01E01.mkv", size: 18, sha1: sha1("line break episode") }]);
      expect(clean.stdout).toMatch(/^removed torrent "Line\.Break\.S01E01" \(seeded .*; 1 remote copy verified\): 2 files deleted/m);
      expect(s.remote("tv/Line\nBreak/Season 1/S01E01.mkv").toString()).toBe("line break episode");
    }, 60_000);

    it("15: folders reached through symlinks, in the config and in qBittorrent, are cleaned like any other", async () => {
      const s = await setup((c) => void (c.cleanup.orphanGraceSeconds = 0));
      // /var/lib/qBittorrent and /media/arr are symlinks to the real folders; qBittorrent is given a third spelling.
      for (const [link, real] of [
        ["/var/lib/qBittorrent", "/srv/qbt"],
        ["/media/arr", "/srv/arr"],
      ] as const) {
        mkdirSync(dirname(s.path(real)), { recursive: true });
        renameSync(s.path(link), s.path(real));
        symlinkSync(s.path(real), s.path(link));
      }
      symlinkSync(s.path("/srv/qbt/completed"), s.path("/downloads"));
      const episode = s.write(`${COMPLETED}/tv/Linked.Show.S01E01/ep.mkv`, "linked episode");
      const library = s.path("/media/arr/tv/Linked Show/Season 1/S01E01.mkv");
      mkdirSync(dirname(library), { recursive: true });
      linkSync(episode, library);
      const movie = s.write("/downloads/Linked.Movie.2020/movie.mkv", "linked movie");
      const [tv, download] = await Promise.all([add(dirname(episode), { category: "tv-sonarr" }), add(dirname(movie), { savePath: s.path("/downloads") })]);
      expect((await torrent(tv)).save_path).toBe(s.path(`${COMPLETED}/tv`));
      expect((await torrent(download)).content_path).toBe(s.path("/downloads/Linked.Movie.2020/movie.mkv"));
      const guarded = [guard(episode), guard(movie)];
      ok(await s.run("upload"));
      const clean = ok(await s.run("cleanup"));
      await expectTorrents([]);
      for (const f of [episode, library, movie, s.path("/srv/qbt/completed/tv/Linked.Show.S01E01/ep.mkv")]) expect(existsSync(f), f).toBe(false);
      // The symlinks and the folders they name stay.
      expect(existsSync(s.path("/downloads")) && existsSync(s.path(`${COMPLETED}/tv`)) && existsSync(s.path("/media/arr/tv"))).toBe(true);
      expectNoLoss(s, guarded);

      expect(clean.stdout).toMatch(/2 torrents and 0 orphans removed/);
      expect(s.remoteFiles()).toEqual(["downloads/Linked.Movie.2020/movie.mkv", "tv/Linked Show/Season 1/S01E01.mkv"]);
    }, 60_000);

    it("16: a season pack with an episode Sonarr did not import goes up as an extra once due, then the torrent is cleaned", async () => {
      const s = await setup((c) => void (c.cleanup.seedingPeriodSeconds = WEEK));
      const dir = s.path(`${COMPLETED}/tv/Show.S01.1080p`);
      const ep1 = s.write(`${dir}/Show.S01E01.mkv`, "episode one ".repeat(1000));
      const ep2 = s.write(`${dir}/Show.S01E02.mkv`, "episode two ".repeat(1000));
      const nfo = s.write(`${dir}/release.nfo`, "release notes");
      const hash = await add(dir, { category: "tv-sonarr" });
      const library = s.path("/media/arr/tv/Show/Season 1/S01E01.mkv");
      mkdirSync(dirname(library), { recursive: true });
      linkSync(ep1, library);
      const guarded = [guard(ep1), guard(ep2), guard(nfo)];
      ok(await s.run("upload"));
      const seeding = ok(await s.run("cleanup"));
      s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
      const kept = ok(await s.run("cleanup"));
      expect(existsSync(ep2) && existsSync(nfo) && existsSync(library)).toBe(true);
      expectNoLoss(s, guarded);
      const up = ok(await s.run("upload"));
      const clean = ok(await s.run("cleanup"));
      await expectGone(hash);
      expect(existsSync(dir) || existsSync(library)).toBe(false);
      expectNoLoss(s, guarded);

      expect(seeding.stdout).toMatch(/1 still seeding or downloading/);
      expect(kept.stdout).toMatch(/^kept torrent "Show\.S01\.1080p": "Show\.S01\.1080p\/(Show\.S01E02\.mkv|release\.nfo)" has no upload record$/m);
      expect(up.stdout).toMatch(/^uploaded "downloads\/Show\.S01\.1080p \(torrent [0-9a-f]{8}\)": 2 files/m);
      expect(clean.stdout).toMatch(/^removed torrent "Show\.S01\.1080p" .*: 4 files deleted/m);
      // The imported episode was not sent again: its library copy covered it.
      expect(s.remoteFiles()).toEqual(["downloads/Show.S01.1080p/Show.S01E02.mkv", "downloads/Show.S01.1080p/release.nfo", "tv/Show/Season 1/S01E01.mkv"]);
    }, 60_000);

    it("17: an encrypted and a corrupt archive are set aside after repeated failures; the others proceed, the unit exits 0, attention lists them, retry clears one", async () => {
      const s = await setup((c) => void (c.cleanup.seedingPeriodSeconds = WEEK));
      const encrypted = s.copy(fixture("rar4-encrypted.rar"), `${COMPLETED}/Encrypted.Release/broken.rar`);
      const corrupt = s.copy(fixture("rar5-corrupt.rar"), `${COMPLETED}/Corrupt.Release/broken.rar`);
      const broken = await Promise.all([add(dirname(encrypted)), add(dirname(corrupt))]);
      s.write("/media/arr/tv/Fine/Season 1/S01E01.mkv", "fine");
      s.write(`${COMPLETED}/Fine.Download/file.mkv`, "fine too");
      const guarded = [guard(encrypted), guard(corrupt)];
      const threshold = s.config.upload.attentionAfterFailures;
      expect(threshold).toBe(3);
      const failing: RunResult[] = [];
      for (let run = 1; run <= threshold; run++) {
        failing.push(await s.run("upload"));
        expect(failing.at(-1)!.exitCode, failing.at(-1)!.stderr).toBe(1);
        expect(readdirSync(s.config.upload.extractDir)).toEqual([]);
      }
      // Set aside: the unit succeeds again, and the other items went up in the first run.
      const quiet = ok(await s.run("upload"));
      expect(s.remote("tv/Fine/Season 1/S01E01.mkv").toString() + s.remote("downloads/Fine.Download/file.mkv").toString()).toBe("finefine too");
      const listed = ok(await s.run("attention"));
      // retry is refused while an upload runs (its lock is held by a live process: this one).
      writeFileSync(join(s.config.lockDir, "upload.lock"), `${process.pid}\n`);
      const busy = await s.run("retry", ["downloads/Encrypted.Release"]);
      expect(busy.exitCode).toBe(75);
      rmSync(join(s.config.lockDir, "upload.lock"));
      const cleared = ok(await s.run("retry", ["downloads/Encrypted.Release"]));
      const after = ok(await s.run("attention"));
      const again = await s.run("upload");
      expect(again.exitCode).toBe(1);

      // Never deleted without a remote copy: both torrents are kept while nothing covers their archive.
      s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
      const clean = ok(await s.run("cleanup"));
      expectNoLoss(s, guarded);
      expect(existsSync(encrypted) && existsSync(corrupt)).toBe(true);
      await expectTorrents(broken);
      // Due, and set aside: the corrupt archive itself goes up as an extra of its torrent, and then
      // the torrent goes. The encrypted one, being retried, is left to its item: kept.
      const extras = await s.run("upload");
      const freed = ok(await s.run("cleanup"));
      expect(existsSync(corrupt)).toBe(false);
      expect(existsSync(encrypted)).toBe(true);
      await expectTorrents([broken[0]!]);
      expectNoLoss(s, guarded);

      for (const [i, result] of failing.entries()) {
        const tail = i + 1 < threshold ? "it will be retried on the next run" : "failed 3 times in a row the same way, so it is set aside";
        expect(result.stderr).toMatch(new RegExp(`^error: failed: "downloads/Encrypted\\.Release": extraction failed: broken\\.rar: encrypted .*; ${tail}`, "m"));
        expect(result.stderr).toMatch(new RegExp(`^error: failed: "downloads/Corrupt\\.Release": extraction failed: broken\\.rar: .*; ${tail}`, "m"));
      }
      expect(failing[0]!.stderr).toMatch(/^warning: upload finished in [0-9.]+s: 2 items uploaded \(2 files, 12 B\), 2 failed/m);
      expect(quiet.stdout).toMatch(/0 items uploaded .* 0 failed, 2 set aside \(media-pipeline attention\)/);
      expect(quiet.stderr).toMatch(/^warning: upload: 2 items set aside after failing repeatedly; see media-pipeline attention$/m);
      expect(listed.stdout).toMatch(/^"downloads\/Corrupt\.Release": set aside since /m);
      expect(listed.stdout).toMatch(/^"downloads\/Encrypted\.Release": set aside since .*\n {4}extraction failed: broken\.rar: encrypted/m);
      expect(busy.stderr).toMatch(/an upload run \(pid \d+\) is in progress; try again when it ends/);
      expect(cleared.stdout).toMatch(/^cleared "downloads\/Encrypted\.Release"/m);
      expect(after.stdout).not.toContain("Encrypted.Release");
      expect(again.stderr).toMatch(/failed: "downloads\/Encrypted\.Release": .*; it will be retried on the next run/);
      expect(again.stderr).toMatch(/1 failed, 1 set aside/);
      expect(clean.stdout).toMatch(/^kept torrent "Encrypted\.Release": "Encrypted\.Release\/broken\.rar" has no upload record$/m);
      expect(clean.stdout).toMatch(/^kept torrent "Corrupt\.Release": "Corrupt\.Release\/broken\.rar" has no upload record$/m);
      expect(extras.stdout).toMatch(/^uploaded "downloads\/Corrupt\.Release \(torrent [0-9a-f]{8}\)": 1 file/m);
      expect(s.remote("downloads/Corrupt.Release/broken.rar").equals(readFileSync(fixture("rar5-corrupt.rar")))).toBe(true);
      expect(freed.stdout).toMatch(/^removed torrent "Corrupt\.Release"/m);
      expect(freed.stdout).toMatch(/^kept torrent "Encrypted\.Release"/m);
    }, 90_000);

    it("18: cleanup reads no media bytes of the files it deletes", async () => {
      const s = await setup();
      // A 32 MiB film: cleanup must decide about it from metadata, the records and the remote's listing.
      const film = s.write(`${COMPLETED}/Big.Film.2020/film.mkv`, Buffer.alloc(32 * 2 ** 20, 0x5a));
      const hash = await add(dirname(film));
      const guarded = [guard(film)];
      ok(await s.run("upload"));
      // What the cleanup process itself read, summed over its threads (libuv's pool reads files
      // too). Not /proc/self/io: that adds what reaped children read, and rclone reads the remote's
      // copy to hash it (a local remote has no stored hashes; B2 has).
      const probe = join(s.root, "io-probe.cjs");
      const io = join(s.root, "cleanup.io");
      writeFileSync(
        probe,
        `const fs = require("fs");\nprocess.on("exit", () => {\n  let rchar = 0;\n  for (const t of fs.readdirSync("/proc/self/task")) rchar += Number(/^rchar: (\\d+)$/m.exec(fs.readFileSync(\`/proc/self/task/\${t}/io\`, "utf8"))[1]);\n  fs.writeFileSync(${JSON.stringify(io)}, String(rchar));\n});\n`,
      );
      const clean = ok(await s.run("cleanup", [], { env: { NODE_OPTIONS: `--require ${probe}` } }));
      await expectGone(hash);
      expect(existsSync(film)).toBe(false);
      expectNoLoss(s, guarded);
      const rchar = Number(readFileSync(io, "utf8"));
      expect(rchar).toBeGreaterThan(0);
      // The bundle, the state documents and rclone's answer: well under the film's 32 MiB.
      expect(rchar).toBeLessThan(4 * 2 ** 20);

      expect(clean.stdout).toMatch(/^removed torrent "Big\.Film\.2020" .*: 1 file deleted, 32\.0 MiB freed$/m);
    }, 60_000);

    it("18: a remote copy replaced by other bytes of the same size keeps the file; the next upload sends it again", async () => {
      const s = await setup();
      const episode = s.write(`${COMPLETED}/tv/Same.Size.S01E01/ep.mkv`, "the real episode");
      const hash = await add(dirname(episode), { category: "tv-sonarr" });
      const library = s.path("/media/arr/tv/Same Size/Season 1/S01E01.mkv");
      mkdirSync(dirname(library), { recursive: true });
      linkSync(episode, library);
      const guarded = [guard(episode)];
      ok(await s.run("upload"));
      writeFileSync(join(s.bucket, "tv/Same Size/Season 1/S01E01.mkv"), "an impostor here");
      const mismatch = await s.run("cleanup");
      expect(readFileSync(episode, "utf8")).toBe("the real episode");
      expect(existsSync(library)).toBe(true);
      expect(mismatch.exitCode).toBe(1);
      const resent = ok(await s.run("upload"));
      const clean = ok(await s.run("cleanup"));
      await expectGone(hash);
      expectNoLoss(s, guarded);

      expect(mismatch.stderr).toMatch(/^warning: kept torrent "Same\.Size\.S01E01": "tv\/Same Size\/Season 1\/S01E01\.mkv" on the remote has another SHA-1 than when it was uploaded; the next upload run sends it again$/m);
      expect(resent.stderr).toMatch(/the remote copy of ".*S01E01\.mkv" was missing or different at cleanup's last check; sending it again/);
      expect(s.remote("tv/Same Size/Season 1/S01E01.mkv").toString()).toBe("the real episode");
      expect(clean.stdout).toMatch(/^removed torrent "Same\.Size\.S01E01"/m);
    }, 60_000);

    it("18: a remote that reports no SHA-1 (rclone's crypt over a local folder) never vouches for a file by its size", async () => {
      const s = await setup();
      const crypt = {
        RCLONE_CONFIG_B2_TYPE: "crypt",
        RCLONE_CONFIG_B2_REMOTE: join(s.remoteRoot, "crypt"),
        RCLONE_CONFIG_B2_PASSWORD: (await execa(requireTool("rclone"), ["obscure", "test password"])).stdout.trim(),
        RCLONE_CONFIG_B2_FILENAME_ENCRYPTION: "off",
        RCLONE_CONFIG_B2_DIRECTORY_NAME_ENCRYPTION: "false",
      };
      const movie = s.write(`${COMPLETED}/No.Hash.2020/movie.mkv`, "no hash movie");
      const hash = await add(dirname(movie));
      ok(await s.run("upload", [], { env: crypt }));
      expect(existsSync(join(s.remoteRoot, "crypt/entertainment-netmount/downloads/No.Hash.2020/movie.mkv.bin"))).toBe(true);
      const runs: RunResult[] = [];
      for (let run = 0; run < 2; run++) {
        runs.push(ok(await s.run("cleanup", [], { env: crypt })));
        expect(readFileSync(movie, "utf8")).toBe("no hash movie");
      }
      await expectTorrents([hash]);

      expect(s.records().map((r) => r.copies)).toEqual([[{ remotePath: "downloads/No.Hash.2020/movie.mkv", size: 13, sha1: null }]]);
      for (const run of runs) {
        expect(run.stdout).toMatch(/^kept torrent "No\.Hash\.2020": "No\.Hash\.2020\/movie\.mkv" the remote reported no SHA-1 for "downloads\/No\.Hash\.2020\/movie\.mkv" at upload, so its copy cannot be verified$/m);
      }
    }, 60_000);

    it("19: upload's summary counts the files extracted from archives", async () => {
      const s = await setup();
      const dir = s.path(`${COMPLETED}/Counted.Release.2020`);
      s.copy(fixture("rar4-nolink.rar"), `${dir}/release.rar`);
      s.write(`${dir}/release.nfo`, "notes");
      const hash = await add(dir);
      const up = ok(await s.run("upload"));
      // rar4-nolink.rar holds two files of 20 bytes: 3 files, 45 B in all.
      expect(up.stdout).toMatch(/^uploaded "downloads\/Counted\.Release\.2020": 3 files, 45 B \(2 files extracted from 1 archive set\)$/m);
      expect(up.stdout).toMatch(/^upload finished in [0-9.]+s: 1 item uploaded \(3 files, 45 B\), 0 failed/m);
      expect(ok(await s.run("cleanup")).stdout).toMatch(/^removed torrent "Counted\.Release\.2020" .*: 2 files deleted/m);
      await expectGone(hash);
    }, 60_000);
  });

  describe.sequential("torrent states, renamed files, re-added torrents", () => {
    it("stopped, paused and queued torrents are due like seeding ones; a checking torrent is kept and no orphan is judged meanwhile; missingFiles keeps what is left", async () => {
      const s = await setup((c) => void (c.cleanup.orphanGraceSeconds = 0));
      const item = async (name: string) => {
        const file = s.write(`${COMPLETED}/${name}/movie.mkv`, `${name} `.repeat(1000));
        return { file, hash: await add(dirname(file)) };
      };
      const [stopped, queued, checking] = await Promise.all([item("Stopped.2020"), item("Queued.2020"), item("Checking.2020")]);
      const orphan = s.write(`${COMPLETED}/Orphan.2018/movie.mkv`, "orphan");
      const missingFile = s.write(`${COMPLETED}/Missing.2020/movie.mkv`, "missing ".repeat(1000));
      const guarded = [stopped.file, queued.file, checking.file, orphan, missingFile].map((f) => guard(f));
      ok(await s.run("upload"));
      // Its release notes arrive after the upload: the torrent is due but not covered.
      const missingNfo = s.write(`${COMPLETED}/Missing.2020/release.nfo`, "left behind", 0);
      const missing = await add(dirname(missingFile));

      await stop(stopped.hash);
      await preferences({ max_active_checking_torrents: 0 });
      await qbt.api("/api/v2/torrents/recheck", { hashes: checking.hash });
      await until(checking.hash, (t) => t.state === "checkingUP", "checkingUP");
      await preferences({ queueing_enabled: true, max_active_uploads: 0, max_active_torrents: 0 });
      await until(queued.hash, (t) => t.state === "queuedUP", "queuedUP");
      expect((await torrent(stopped.hash)).state).toMatch(/^(pausedUP|stoppedUP)$/);

      const first = ok(await s.run("cleanup"));
      await expectGone(stopped.hash, queued.hash);
      expect(existsSync(stopped.file) || existsSync(queued.file)).toBe(false);
      expect(existsSync(checking.file) && existsSync(orphan) && existsSync(missingNfo)).toBe(true);
      const second = ok(await s.run("cleanup"));
      expect(existsSync(orphan)).toBe(true);

      // missingFiles: a file deleted behind qBittorrent's back, noticed at its next start.
      await preferences({ max_active_checking_torrents: 1, queueing_enabled: false });
      await until(checking.hash, (t) => t.state !== "checkingUP" && t.progress === 1, "checked");
      rmSync(missingFile);
      await qbt.restart();
      await until(missing, (t) => t.state === "missingFiles", "missingFiles");
      await until(checking.hash, (t) => /^(stalled|queued)UP$/.test(t.state), "loaded");
      const third = ok(await s.run("cleanup"));
      expect(readFileSync(missingNfo, "utf8")).toBe("left behind");
      expect(existsSync(orphan)).toBe(true);
      expect(existsSync(checking.file)).toBe(false);
      await expectTorrents([missing]);
      expectNoLoss(s, guarded);

      expect(first.stdout).toMatch(/^removed torrent "Stopped\.2020"/m);
      expect(first.stdout).toMatch(/^removed torrent "Queued\.2020"/m);
      expect(first.stdout).toMatch(/^kept torrent "Missing\.2020": "Missing\.2020\/release\.nfo" has no upload record$/m);
      for (const run of [first, second]) {
        expect(run.stdout).toMatch(/^kept torrent "Checking\.2020": qBittorrent reports it checkingUP; its files are not settled$/m);
        expect(run.stdout).toMatch(/^no file judged an orphan this run: 1 torrent is not settled \(checkingUP\)/m);
      }
      expect(third.stdout).toMatch(/^kept torrent "Missing\.2020": qBittorrent reports it missingFiles; its files are not settled$/m);
      expect(third.stdout).toMatch(/^removed torrent "Checking\.2020"/m);
    }, 90_000);

    it("an archive a cross-seed brings after its item was uploaded (release.zip beside release.rar) is kept until its own content is on the remote", async () => {
      const s = await setup();
      const dir = s.path(`${COMPLETED}/Archived.Release.2020`);
      s.copy(fixture("rar4-nolink.rar"), `${dir}/release.rar`);
      s.write(`${dir}/release.nfo`, "notes");
      const first = await add(dir);
      ok(await s.run("upload"));
      // The cross-seed brings release.zip (another archive, the same set name), extracted by no one yet.
      const zip = s.write(`${dir}/release.zip`, storedZip({ "test.txt": "the zip's own test.txt\n" }));
      const second = await add(dir, { stopped: true, skipChecking: true });
      const guarded = [guard(zip, [Buffer.from("the zip's own test.txt\n")])];
      const early = ok(await s.run("cleanup"));
      expectNoLoss(s, guarded);
      expect(existsSync(zip)).toBe(true);
      await expectTorrents([second]);
      ok(await s.run("upload"));
      const late = ok(await s.run("cleanup"));
      await expectGone(first, second);
      expect(existsSync(dir)).toBe(false);
      expectNoLoss(s, guarded);

      expect(early.stdout).toMatch(/^removed torrent "Archived\.Release\.2020" .*: 0 files deleted/m);
      expect(early.stdout).toMatch(/^kept torrent "Archived\.Release\.2020": "Archived\.Release\.2020\/release\.zip" has no upload record$/m);
      expect(late.stdout).toMatch(/^removed torrent "Archived\.Release\.2020" .*: 3 files deleted/m);
      expect(s.remote("extracted/Archived.Release.2020/release.zip/test.txt").toString()).toBe("the zip's own test.txt\n");
      expect(s.remote("extracted/Archived.Release.2020/release.rar/test.txt").toString()).toBe("test text document\r\n");
    }, 60_000);

    it("a file renamed in qBittorrent (renameFile) is never deleted on its record from before: it goes up again under its new name, then is cleaned", async () => {
      const s = await setup();
      const dir = s.path(`${COMPLETED}/Renamed.2020`);
      const guarded = [guard(s.write(`${dir}/movie.mkv`, "renamed movie")), guard(s.write(`${dir}/movie.nfo`, "notes"))];
      const hash = await add(dir);
      ok(await s.run("upload"));
      const response = await qbt.api("/api/v2/torrents/renameFile", { hash, oldPath: "Renamed.2020/movie.mkv", newPath: "Renamed.2020/Renamed (2020).mkv" });
      expect(response.status).toBe(200);
      const renamed = `${dir}/Renamed (2020).mkv`;
      for (let i = 0; i < 50 && !existsSync(renamed); i++) await sleep(100);
      expect(readFileSync(renamed, "utf8")).toBe("renamed movie");
      guarded[0] = guard(renamed);
      // The rename changed the file's change time, so its record no longer vouches for it.
      const kept = ok(await s.run("cleanup"));
      expect(existsSync(renamed)).toBe(true);
      ok(await s.run("upload"));
      const clean = ok(await s.run("cleanup"));
      await expectGone(hash);
      expect(existsSync(dir)).toBe(false);
      expectNoLoss(s, guarded);

      expect(kept.stdout).toMatch(/^kept torrent "Renamed\.2020": "Renamed\.2020\/Renamed \(2020\)\.mkv" changed since it was uploaded/m);
      expect(clean.stdout).toMatch(/^removed torrent "Renamed\.2020" .*: 2 files deleted/m);
      expect(s.remote("downloads/Renamed.2020/Renamed (2020).mkv").toString()).toBe("renamed movie");
    }, 60_000);

    it("a torrent re-added under an old name is new data: kept until uploaded again, never deleted on the old record", async () => {
      const s = await setup();
      const dir = s.path(`${COMPLETED}/Again.2020`);
      const movie = s.write(`${dir}/movie.mkv`, "first time");
      const first = await add(dir);
      ok(await s.run("upload"));
      ok(await s.run("cleanup"));
      await expectGone(first);
      expect(existsSync(dir)).toBe(false);

      // Downloaded again: the same torrent, the same bytes, a new file.
      s.write(`${dir}/movie.mkv`, "first time");
      const again = await add(dir);
      const kept = ok(await s.run("cleanup"));
      expect(readFileSync(movie, "utf8")).toBe("first time");
      await expectTorrents([again]);
      ok(await s.run("upload"));
      ok(await s.run("cleanup"));
      await expectGone(again);

      // Another release under the same name, other bytes: the remote's old copy is immutable, so it
      // is never replaced; the new file is never deleted while the remote holds only the old one.
      s.write(`${dir}/movie.mkv`, "other bytes!");
      const other = await add(dir);
      const refused = await s.run("upload");
      ok(await s.run("cleanup"));
      // The first release now exists only on the remote: it must still be there.
      const remote = new Set(s.remoteFiles().map((f) => sha1(s.remote(f))));
      expect(remote.has(sha1("first time")), "the remote copy of the first release was replaced").toBe(true);
      expect(existsSync(movie) && readFileSync(movie, "utf8")).toBe("other bytes!");
      await expectTorrents([other]);

      // (The new file may reuse the old one's inode number; its times still tell it apart.)
      expect(kept.stdout).toMatch(/^kept torrent "Again\.2020": "Again\.2020\/movie\.mkv" (has no upload record|changed since it was uploaded)/m);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/failed: "downloads\/Again\.2020": .*movie\.mkv/);
      expect(s.remote("downloads/Again.2020/movie.mkv").toString()).toBe("first time");
    }, 60_000);
  });
});
