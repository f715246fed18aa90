/**
 * cleanup's data-loss cases from issue 11, each against a real qbittorrent-nox on loopback, real
 * files and hard links, and the real rclone with a local remote standing in for B2. The rule they
 * check: a file is deleted only when that very file's content is confirmed on the remote, folders
 * are removed only when empty, and nothing is exempt by name.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup } from "../../runtime/cleanup.ts";
import type { RuntimeConfigModel } from "../../runtime/config.ts";
import { setLogSink } from "../../runtime/log.ts";
import { fixture, sandbox, type Sandbox } from "./sandbox.ts";
import { startQbittorrent, type Qbittorrent } from "./qbittorrent.ts";

const COMPLETED = "/var/lib/qBittorrent/completed";
const WEEK = 7 * 86400;
let running: Qbittorrent[] = [];
afterEach(async () => {
  await Promise.all(running.map((q) => q.stop()));
  running = [];
});

async function setup(): Promise<{ s: Sandbox; qbt: Qbittorrent }> {
  const s = await sandbox();
  const qbt = await startQbittorrent({ defaultSavePath: s.path(COMPLETED), bypassLocalhostAuth: true });
  running.push(qbt);
  s.update((c) => {
    c.qbittorrent.url = qbt.url;
    c.qbittorrent.waitSeconds = 10;
    c.cleanup.seedingPeriodSeconds = 0;
  });
  const categories = await s.run("categories");
  expect(categories.exitCode, categories.stderr).toBe(0);
  return { s, qbt };
}

/**
 * Runs cleanup in this process with a config object, so a value the config file's validation would
 * refuse (runtime/config.ts) still reaches cleanup: its own checks are what is tested then.
 */
async function cleanupInProcess(s: Sandbox, config: RuntimeConfigModel): Promise<{ exitCode: number; lines: string[] }> {
  const lines: string[] = [];
  setLogSink((_level, line) => lines.push(line));
  const saved = { RCLONE_CONFIG_B2_TYPE: process.env.RCLONE_CONFIG_B2_TYPE, RCLONE_CONFIG_B2_REMOTE: process.env.RCLONE_CONFIG_B2_REMOTE };
  process.env.RCLONE_CONFIG_B2_TYPE = "alias";
  process.env.RCLONE_CONFIG_B2_REMOTE = s.remoteRoot;
  try {
    return { exitCode: (await cleanup(config, { dryRun: false })).exitCode, lines };
  } finally {
    setLogSink(undefined);
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const markerOf = (file: string) => join(dirname(file), `.${file.split("/").pop()}.uploaded`);
const hashes = async (qbt: Qbittorrent) => (await qbt.torrents()).map((t) => t.hash as string);

describe("cleanup never deletes a file whose content is not on the remote (issue 11)", () => {
  it("a cross-seed in the same folder keeps its extra file and the files it shares (no recursive delete)", async () => {
    const { s, qbt } = await setup();
    const dir = `${COMPLETED}/Cross.Seed.2021.1080p`;
    const movie = s.write(`${dir}/movie.mkv`, "movie bytes ".repeat(5000));
    const subtitles = s.write(`${dir}/movie.en.srt`, "subtitles ".repeat(500));
    const first = await qbt.add(s.path(dir));
    await qbt.waitSeeding(first);
    // Two files, so qBittorrent reports the folder as the content path (one file: the file itself).
    expect((await qbt.torrents()).find((t) => t.hash === first)?.content_path).toBe(s.path(dir));
    expect((await s.run("upload")).exitCode).toBe(0);
    expect(existsSync(markerOf(s.path(dir)))).toBe(true);
    // The cross-seed: the same folder with one more file, written just now (inside the quiet period).
    const extra = s.write(`${dir}/extras.mkv`, "extra bytes ".repeat(5000), 0);
    const second = await qbt.add(s.path(dir));
    await qbt.waitSeeding(second);

    const result = await s.run("cleanup");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^kept torrent "Cross\.Seed\.2021\.1080p": .*extras\.mkv/m);
    expect(existsSync(extra)).toBe(true);
    expect(existsSync(movie) && existsSync(subtitles)).toBe(true);
    expect(await hashes(qbt)).toContain(second);

    // Once the extra file is uploaded too, the cross-seed goes, and the folder with it (now empty).
    s.write(`${dir}/extras.mkv`, "extra bytes ".repeat(5000));
    expect((await s.run("upload")).exitCode).toBe(0);
    const again = await s.run("cleanup");
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await hashes(qbt)).toEqual([]);
    expect(existsSync(s.path(dir))).toBe(false);
    expect(existsSync(markerOf(s.path(dir)))).toBe(false);
    expect(existsSync(s.path(COMPLETED))).toBe(true);
    expect(readFileSync(join(s.bucket, "downloads/Cross.Seed.2021.1080p/movie.mkv"), "utf8")).toBe("movie bytes ".repeat(5000));
    expect(readFileSync(join(s.bucket, "downloads/Cross.Seed.2021.1080p/extras.mkv"), "utf8")).toBe("extra bytes ".repeat(5000));
  }, 90_000);

  it("deletes only the files the torrent lists: an unlisted file in its folder stays", async () => {
    const { s, qbt } = await setup();
    const dir = `${COMPLETED}/Listed.Only.2020`;
    s.write(`${dir}/movie.mkv`, "movie ".repeat(3000));
    s.write(`${dir}/movie.en.srt`, "subtitles ".repeat(300));
    const hash = await qbt.add(s.path(dir));
    await qbt.waitSeeding(hash);
    expect((await s.run("upload")).exitCode).toBe(0);
    const stranger = s.write(`${dir}/notes-of-the-user.txt`, "mine", 0);
    const result = await s.run("cleanup");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await hashes(qbt)).not.toContain(hash);
    expect(existsSync(s.path(`${dir}/movie.mkv`))).toBe(false);
    expect(readFileSync(stranger, "utf8")).toBe("mine");
  }, 60_000);

  it("nothing is exempt by name: a sample-named film and a release .nfo with no remote copy are kept", async () => {
    const { s, qbt } = await setup();
    // A Radarr download not imported yet: nothing of it is on the remote.
    const movie = s.write(`${COMPLETED}/movies/Free.Sample.2021.1080p/Free.Sample.2021.1080p.mkv`, "a whole film ".repeat(5000));
    const film = await qbt.add(dirname(movie), { category: "radarr" });
    // A Sonarr download whose episode is imported and uploaded, with a release .nfo nobody uploaded.
    const dir = `${COMPLETED}/tv/Show.S01E01.1080p`;
    const episode = s.write(`${dir}/ep1.mkv`, "episode ".repeat(5000));
    const nfo = s.write(`${dir}/release.nfo`, "release notes");
    const show = await qbt.add(s.path(dir), { category: "tv-sonarr" });
    const link = s.path("/media/arr/tv/Show/Season 1/S01E01.mkv");
    mkdirSync(dirname(link), { recursive: true });
    linkSync(episode, link);
    expect((await s.run("upload")).exitCode).toBe(0);
    await qbt.waitSeeding(film);
    await qbt.waitSeeding(show);

    // Names like these were once exempt from the upload-before-delete rule (cleanup.ignorable, now
    // removed); no name is exempt: cleanup keeps both torrents and says why.
    const result = await cleanupInProcess(s, s.config);
    expect(result.exitCode, result.lines.join("\n")).toBe(0);
    expect(result.lines).toContainEqual(expect.stringMatching(/^kept torrent "Free\.Sample\.2021\.1080p": .*Free\.Sample\.2021\.1080p\.mkv.* has no upload marker$/));
    expect(result.lines).toContainEqual(expect.stringMatching(/^kept torrent "Show\.S01E01\.1080p": .*release\.nfo.* has no upload marker$/));
    expect(readFileSync(movie, "utf8")).toBe("a whole film ".repeat(5000));
    expect(readFileSync(nfo, "utf8")).toBe("release notes");
    expect(existsSync(episode) && existsSync(link)).toBe(true);
    expect(await hashes(qbt)).toEqual(expect.arrayContaining([film, show]));
  }, 60_000);

  it("a torrent without a subfolder (content path = the completed folder) keeps seeding its files: they are not orphans", async () => {
    const { s, qbt } = await setup();
    const source = s.write("/elsewhere/Two.Files/a.mkv", "first ".repeat(3000));
    s.write("/elsewhere/Two.Files/b.mkv", "second ".repeat(3000));
    const a = s.write(`${COMPLETED}/a.mkv`, "first ".repeat(3000));
    const b = s.write(`${COMPLETED}/b.mkv`, "second ".repeat(3000));
    const hash = await qbt.add(dirname(source), { savePath: s.path(COMPLETED), contentLayout: "NoSubfolder" });
    await qbt.waitSeeding(hash);
    expect((await qbt.torrents()).find((t) => t.hash === hash)?.content_path).toBe(s.path(COMPLETED));
    expect((await s.run("upload")).exitCode).toBe(0);
    expect(existsSync(markerOf(a)) && existsSync(markerOf(b))).toBe(true);

    s.update((c) => void (c.cleanup.seedingPeriodSeconds = WEEK));
    const early = await s.run("cleanup");
    expect(early.exitCode, early.stderr).toBe(0);
    expect(early.stdout).toMatch(/0 torrents and 0 orphans removed .* 1 still seeding$/m);
    expect(existsSync(a) && existsSync(b)).toBe(true);
    expect(await hashes(qbt)).toContain(hash);

    // After the seeding period its two files go, one by one; the completed folder itself stays.
    s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
    const late = await s.run("cleanup");
    expect(late.exitCode, late.stderr).toBe(0);
    expect(late.stdout).toMatch(/^removed torrent "Two\.Files"/m);
    expect(existsSync(a) || existsSync(b) || existsSync(markerOf(a)) || existsSync(markerOf(b))).toBe(false);
    expect(existsSync(s.path(`${COMPLETED}/tv`)) && existsSync(s.path(COMPLETED))).toBe(true);
  }, 60_000);

  it("qBittorrent answering an empty torrent list (a lost session, a new profile) turns no marked item into an orphan", async () => {
    const { s } = await setup();
    const movie = s.write(`${COMPLETED}/Was.Seeding.2019/movie.mkv`, "seeding bytes");
    const link = s.path("/media/arr/movies/Was Seeding (2019)/movie.mkv");
    mkdirSync(dirname(link), { recursive: true });
    linkSync(movie, link);
    expect((await s.run("upload")).exitCode).toBe(0);
    const result = await s.run("cleanup");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^warning: qBittorrent reports no torrents at all, yet 2 items are marked uploaded \(a lost session or a new profile\?\); not treating marked items as orphans$/m);
    expect(existsSync(movie) && existsSync(link)).toBe(true);
  }, 60_000);

  it("a magnet still fetching its metadata is kept, and the other torrents are cleaned up", async () => {
    const { s, qbt } = await setup();
    const magnet = await qbt.addMagnet("0123456789abcdef0123456789abcdef01234567", "Some.Magnet", s.path(COMPLETED));
    s.write(`${COMPLETED}/Done.2020/movie.mkv`, "done ".repeat(3000));
    const done = await qbt.add(s.path(`${COMPLETED}/Done.2020`));
    await qbt.waitSeeding(done);
    expect((await qbt.torrents()).find((t) => t.hash === magnet)).toMatchObject({ state: "metaDL", content_path: "" });
    expect((await s.run("upload")).exitCode).toBe(0);
    const result = await s.run("cleanup");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^kept torrent "Some\.Magnet": qBittorrent has no metadata for it yet \(state metaDL\)$/m);
    expect(result.stdout).toMatch(/^removed torrent "Done\.2020"/m);
    expect(await hashes(qbt)).toEqual([magnet]);
  }, 60_000);

  it("an archive that arrived after its item was uploaded (a cross-seed's .zip beside the .rar) is kept: the old extraction does not cover it", async () => {
    const { s, qbt } = await setup();
    const dir = `${COMPLETED}/Archived.Release.2020`;
    s.copy(fixture("rar4-simple.rar"), `${dir}/release.rar`);
    s.write(`${dir}/release.nfo`, "notes");
    const first = await qbt.add(s.path(dir));
    await qbt.waitSeeding(first);
    const up = await s.run("upload");
    expect(up.exitCode, up.stderr).toBe(0);
    expect(existsSync(join(s.bucket, "downloads/Archived.Release.2020/testdir/test.txt"))).toBe(true);
    // The cross-seed brings release.zip (same set name, other content), never extracted nor uploaded.
    const zip = s.write(`${dir}/release.zip`, readFileSync(fixture("rar5-compressed.rar")), 0);
    const second = await qbt.add(s.path(dir));
    await qbt.waitSeeding(second);
    expect((await s.run("upload")).exitCode).toBe(0);

    const result = await s.run("cleanup");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^kept torrent "Archived\.Release\.2020": .*release\.zip" was written after its item was uploaded, so its extraction does not cover it$/m);
    expect(readFileSync(zip).equals(readFileSync(fixture("rar5-compressed.rar")))).toBe(true);
    expect(await hashes(qbt)).toContain(second);
  }, 90_000);

  it("refuses a configured folder that is not normalised (/media/arr/../../precious), in cleanup itself", async () => {
    const { s, qbt } = await setup();
    // Something seeding, so orphans are looked for.
    s.write(`${COMPLETED}/Seeding.2021/movie.mkv`, "seeding");
    const seeding = await qbt.add(s.path(`${COMPLETED}/Seeding.2021`));
    await qbt.waitSeeding(seeding);
    // A precious file outside every configured folder, with a marker and a remote copy that would make it an orphan.
    const precious = s.write("/precious/keep.mkv", "precious bytes");
    writeFileSync(markerOf(precious), JSON.stringify({ version: 1, uploadedAt: "2020-01-01T00:00:00Z", remote: "x", files: [{ remotePath: "movies/keep.mkv", size: 14 }] }));
    mkdirSync(join(s.bucket, "movies"), { recursive: true });
    writeFileSync(join(s.bucket, "movies/keep.mkv"), "precious bytes");
    const config = structuredClone(s.config);
    config.cleanup.seedingPeriodSeconds = WEEK;
    config.upload.sources = config.upload.sources.map((source) => (source.prefix === "movies/" ? { ...source, path: `${s.path("/media/arr")}/../../precious` } : source));
    expect(config.upload.sources.some((source) => source.path.endsWith("/media/arr/../../precious"))).toBe(true);

    await expect(cleanupInProcess(s, config)).rejects.toThrow(/the configured folder ".*\/media\/arr\/\.\.\/\.\.\/precious" is not a normalised absolute path/);
    expect(readFileSync(precious, "utf8")).toBe("precious bytes");
  }, 60_000);
});
