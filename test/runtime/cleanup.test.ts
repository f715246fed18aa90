/**
 * cleanup and categories against a real qbittorrent-nox on loopback, real files and hard links,
 * and the real rclone with a local remote standing in for B2 (B2 itself cannot run here). What
 * upload confirmed is in its records (${stateDir}/uploads.json); cleanup reads them and one remote
 * listing, and deletes nothing else. The data-loss cases are in cleanup-safety.test.ts.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readJson, sandbox, type Sandbox } from "./sandbox.ts";
import { freePort, startQbittorrent, type Qbittorrent } from "./qbittorrent.ts";

const COMPLETED = "/var/lib/qBittorrent/completed";
let running: Qbittorrent[] = [];
afterEach(async () => {
  await Promise.all(running.map((q) => q.stop()));
  running = [];
});

async function setup(options: { bypassLocalhostAuth?: boolean } = {}): Promise<{ s: Sandbox; qbt: Qbittorrent }> {
  const s = await sandbox();
  const qbt = await startQbittorrent({ defaultSavePath: s.path(COMPLETED), bypassLocalhostAuth: options.bypassLocalhostAuth ?? true });
  running.push(qbt);
  s.update((c) => {
    c.qbittorrent.url = qbt.url;
    c.qbittorrent.waitSeconds = 10;
    // The seeding period, shortened: eligible as soon as the torrent is complete and seeding.
    c.cleanup.seedingPeriodSeconds = 0;
  });
  if (options.bypassLocalhostAuth ?? true) {
    const categories = await s.run("categories");
    expect(categories.exitCode, categories.stderr).toBe(0);
  }
  return { s, qbt };
}

/**
 * A Sonarr download seeding in completed/tv, with its import simulated as a hard link in the library
 * (made before upload runs, as Sonarr imports before the timer fires: a later link changes the
 * file's change time, and its record no longer vouches for it). No release .nfo: that would go up
 * as an extra once the torrent is due (cleanup-safety.test.ts shows it).
 */
async function sonarrEpisode(s: Sandbox, qbt: Qbittorrent, options: { torrent: string; episodes: string[]; imported?: string[] }) {
  const dir = `${COMPLETED}/tv/${options.torrent}`;
  const files = options.episodes.map((e) => s.write(`${dir}/${e}`, `${options.torrent}/${e} `.repeat(2000)));
  const hash = await qbt.add(s.path(dir), { category: "tv-sonarr" });
  const links: string[] = [];
  for (const [i, e] of options.episodes.entries()) {
    if (options.imported && !options.imported.includes(e)) continue;
    const link = s.path(`/media/arr/tv/Show Name/Season 1/${e.replace(/^ep/, "S01E0")}`);
    mkdirSync(dirname(link), { recursive: true });
    linkSync(files[i]!, link);
    links.push(link);
  }
  return { hash, dir: s.path(dir), files, links };
}

describe("cleanup with a real qBittorrent", () => {
  it("removes an eligible torrent with its files and library links, pruning empty folders; the remote copy stays", async () => {
    const { s, qbt } = await setup();
    const ep = await sonarrEpisode(s, qbt, { torrent: "Show.Name.S01.1080p-GRP", episodes: ["ep1.mkv"] });
    expect((await s.run("upload")).exitCode).toBe(0);
    const remoteCopy = join(s.bucket, "tv/Show Name/Season 1/S01E01.mkv");
    const original = readFileSync(ep.files[0]!);
    await qbt.waitSeeding(ep.hash);
    s.update((c) => void (c.cleanup.seedingPeriodSeconds = 7 * 86400));
    const early = await s.run("cleanup");
    expect(early.stdout).toMatch(/0 torrents and 0 orphans removed .* 1 still seeding or downloading, 0 unreferenced, waiting out the grace period$/m);
    expect(existsSync(ep.files[0]!)).toBe(true);
    s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
    const result = await s.run("cleanup");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^removed torrent "Show\.Name\.S01\.1080p-GRP" \(seeded [0-9.]+ days, 1 file; 1 remote copy verified\): 2 files deleted, [0-9.]+ KiB freed$/m);
    expect((await qbt.torrents()).map((t) => t.hash)).not.toContain(ep.hash);
    expect(existsSync(ep.dir)).toBe(false);
    expect(existsSync(ep.links[0]!)).toBe(false);
    expect(existsSync(s.path("/media/arr/tv/Show Name"))).toBe(false);
    expect(existsSync(s.path("/media/arr/tv"))).toBe(true);
    expect(existsSync(s.path(`${COMPLETED}/tv`))).toBe(true);
    expect(readFileSync(remoteCopy).equals(original)).toBe(true);
    expect(result.stdout).toMatch(/cleanup finished in [0-9.]+s: 1 torrent and 0 orphans removed/);
  }, 60_000);

  it("deletes only the files the torrent lists: an unlisted file in its folder stays, and so does the folder", async () => {
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
    expect(result.stdout).toMatch(/^removed torrent "Listed\.Only\.2020" .*: 2 files deleted/m);
    expect((await qbt.torrents()).map((t) => t.hash)).not.toContain(hash);
    expect(existsSync(s.path(`${dir}/movie.mkv`))).toBe(false);
    expect(readFileSync(stranger, "utf8")).toBe("mine");
  }, 60_000);

  it("keeps a torrent whose files are not uploaded yet", async () => {
    const { s, qbt } = await setup();
    const ep = await sonarrEpisode(s, qbt, { torrent: "Not.Uploaded.S01", episodes: ["ep1.mkv"] });
    await qbt.waitSeeding(ep.hash);
    const result = await s.run("cleanup");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^kept torrent "Not\.Uploaded\.S01": "Not\.Uploaded\.S01\/ep1\.mkv" has no upload record$/m);
    expect(existsSync(ep.files[0]!)).toBe(true);
    expect(existsSync(ep.links[0]!)).toBe(true);
    expect((await qbt.torrents()).map((t) => t.hash)).toContain(ep.hash);
  }, 60_000);

  it("keeps a torrent only partly imported into the library (until upload sends the rest as extras, cleanup-safety case 16)", async () => {
    const { s, qbt } = await setup();
    const ep = await sonarrEpisode(s, qbt, { torrent: "Half.Imported.S01", episodes: ["ep1.mkv", "ep2.mkv"], imported: ["ep1.mkv"] });
    // Uploaded while still seeding: the imported episode goes up, the other is not an extra yet.
    s.update((c) => void (c.cleanup.seedingPeriodSeconds = 7 * 86400));
    expect((await s.run("upload")).exitCode).toBe(0);
    s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
    await qbt.waitSeeding(ep.hash);
    const result = await s.run("cleanup");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/kept torrent "Half\.Imported\.S01": "Half\.Imported\.S01\/ep2\.mkv" has no upload record/);
    for (const f of [...ep.files, ...ep.links]) expect(existsSync(f), f).toBe(true);
  }, 60_000);

  it("removes an orphan (uploaded, no torrent lists it) with its hard links, after two runs and a check of the remote", async () => {
    const { s, qbt } = await setup();
    s.update((c) => {
      // Still seeding: it keeps qBittorrent's answer trustworthy without being due itself.
      c.cleanup.seedingPeriodSeconds = 7 * 86400;
      c.cleanup.orphanGraceSeconds = 0;
    });
    const other = await sonarrEpisode(s, qbt, { torrent: "Still.Seeding.S02", episodes: ["ep1.mkv"], imported: [] });
    await qbt.waitSeeding(other.hash);
    const orphan = s.write(`${COMPLETED}/Removed.In.WebUI/movie.mkv`, "orphan bytes");
    const link = s.path("/media/arr/movies/Removed (2020)/movie.mkv");
    mkdirSync(dirname(link), { recursive: true });
    linkSync(orphan, link);
    expect((await s.run("upload")).exitCode).toBe(0);
    expect(s.recordOf(orphan)?.copies.map((c) => c.remotePath).sort()).toEqual(["downloads/Removed.In.WebUI/movie.mkv", "movies/Removed (2020)/movie.mkv"]);
    // First sighting: it waits, whatever the grace period.
    const first = await s.run("cleanup");
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/0 orphans removed .* 1 unreferenced, waiting out the grace period$/m);
    expect(existsSync(orphan) && existsSync(link)).toBe(true);
    const result = await s.run("cleanup");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^removed orphan "Removed \(2020\)\/movie\.mkv" \(no torrent has listed it for 0 h \(2 runs\); 2 remote copies verified\): 2 files deleted, 12 B freed$/m);
    expect(existsSync(s.path(`${COMPLETED}/Removed.In.WebUI`))).toBe(false);
    expect(existsSync(s.path("/media/arr/movies/Removed (2020)"))).toBe(false);
    expect(existsSync(other.files[0]!)).toBe(true);
    expect(s.remote("downloads/Removed.In.WebUI/movie.mkv").toString()).toBe("orphan bytes");
    expect(s.remote("movies/Removed (2020)/movie.mkv").toString()).toBe("orphan bytes");
  }, 60_000);

  it("keeps an uploaded torrent whose remote copy is missing, reports it, exits non-zero; the next upload sends it again", async () => {
    const { s, qbt } = await setup();
    const ep = await sonarrEpisode(s, qbt, { torrent: "Lost.On.Remote.S01", episodes: ["ep1.mkv"] });
    expect((await s.run("upload")).exitCode).toBe(0);
    rmSync(join(s.bucket, "tv/Show Name/Season 1/S01E01.mkv"));
    await qbt.waitSeeding(ep.hash);
    const result = await s.run("cleanup");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^warning: kept torrent "Lost\.On\.Remote\.S01": "tv\/Show Name\/Season 1\/S01E01\.mkv" is missing on the remote; the next upload run sends it again$/m);
    expect(result.stderr).toMatch(/^warning: cleanup finished in [0-9.]+s: 0 torrents and 0 orphans removed .* 1 kept \(remote copy missing or different\)/m);
    expect(existsSync(ep.files[0]!)).toBe(true);
    expect(existsSync(ep.links[0]!)).toBe(true);
    expect((await qbt.torrents()).map((t) => t.hash)).toContain(ep.hash);
    const resent = await s.run("upload");
    expect(resent.exitCode, resent.stderr).toBe(0);
    expect(s.remote("tv/Show Name/Season 1/S01E01.mkv").equals(readFileSync(ep.files[0]!))).toBe(true);
    const again = await s.run("cleanup");
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^removed torrent "Lost\.On\.Remote\.S01"/m);
  }, 60_000);

  it("keeps an uploaded torrent whose remote copy differs (same size, other bytes)", async () => {
    const { s, qbt } = await setup();
    const ep = await sonarrEpisode(s, qbt, { torrent: "Changed.On.Remote.S01", episodes: ["ep1.mkv"] });
    expect((await s.run("upload")).exitCode).toBe(0);
    const remote = join(s.bucket, "tv/Show Name/Season 1/S01E01.mkv");
    writeFileSync(remote, Buffer.alloc(readFileSync(remote).length, 0x78));
    await qbt.waitSeeding(ep.hash);
    const result = await s.run("cleanup");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/"tv\/Show Name\/Season 1\/S01E01\.mkv" on the remote has another SHA-1 than when it was uploaded/);
    expect(existsSync(ep.files[0]!)).toBe(true);
    // What cleanup saw is kept for upload, which drops that record and sends the file again.
    expect(readJson(join(s.config.stateDir, "cleanup.json")).mismatched).toEqual({ [s.recordOf(ep.files[0]!)!.key]: expect.any(Number) });
  }, 60_000);

  it("deletes nothing and exits non-zero when qBittorrent is down", async () => {
    const { s, qbt } = await setup();
    const ep = await sonarrEpisode(s, qbt, { torrent: "Will.Be.Orphan.S01", episodes: ["ep1.mkv"] });
    expect((await s.run("upload")).exitCode).toBe(0);
    const records = readFileSync(join(s.config.stateDir, "uploads.json"));
    await qbt.stop();
    running = [];
    const result = await s.run("cleanup");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^media-pipeline: cleanup failed: cannot reach qBittorrent at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/m);
    expect(existsSync(ep.files[0]!)).toBe(true);
    expect(existsSync(ep.links[0]!)).toBe(true);
    // Nor does it touch upload's records, or write sightings from a run that saw nothing.
    expect(readFileSync(join(s.config.stateDir, "uploads.json")).equals(records)).toBe(true);
    expect(existsSync(join(s.config.stateDir, "cleanup.json"))).toBe(false);
  }, 60_000);

  it("deletes nothing when the API answers nonsense (a fake HTTP server stands in: a real qBittorrent does not)", async () => {
    const s = await sandbox();
    const port = await freePort();
    const server = createServer((_req, res) => res.end(JSON.stringify([{ hash: "not-a-hash", name: 1 }]))).listen(port, "127.0.0.1");
    try {
      s.write("/media/arr/tv/Show/Season 1/e.mkv", "x");
      expect((await s.run("upload")).exitCode).toBe(0);
      s.update((c) => void (c.qbittorrent.url = `http://127.0.0.1:${port}`));
      const result = await s.run("cleanup");
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/cleanup failed: qBittorrent's answer to \/api\/v2\/torrents\/info is not what this tool understands \(0\.hash: /);
      expect(existsSync(s.path("/media/arr/tv/Show/Season 1/e.mkv"))).toBe(true);
    } finally {
      server.close();
    }
  });

  it("logs in to a qBittorrent 5.2-style WebUI: 204 and a QBT_SID_<port> cookie (a fake server: 5.2 is not packaged here)", async () => {
    const s = await sandbox();
    const port = await freePort();
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} cookie=${req.headers.cookie ?? ""}`);
      if (req.url === "/api/v2/auth/login") return void res.writeHead(204, { "set-cookie": `QBT_SID_${port}=abc123; HttpOnly; path=/` }).end();
      if (req.headers.cookie !== `QBT_SID_${port}=abc123`) return void res.writeHead(403).end("Forbidden");
      res.end("[]");
    }).listen(port, "127.0.0.1");
    try {
      const credentials = join(s.root, "qbt-credentials");
      writeFileSync(credentials, "admin:secret-password\n");
      s.update((c) => {
        c.qbittorrent.url = `http://127.0.0.1:${port}`;
        c.qbittorrent.credentialsFile = credentials;
      });
      const result = await s.run("cleanup");
      expect(result.exitCode, result.stderr).toBe(0);
      expect(seen).toEqual([`POST /api/v2/auth/login cookie=`, `GET /api/v2/torrents/info cookie=QBT_SID_${port}=abc123`]);
      expect(result.stdout + result.stderr).not.toContain("secret-password");
    } finally {
      server.close();
    }
  });

  it("with authentication required: fails clearly without credentials, works with a credentials file", async () => {
    const { s, qbt } = await setup({ bypassLocalhostAuth: false });
    const without = await s.run("cleanup");
    expect(without.exitCode).toBe(1);
    expect(without.stderr).toMatch(/qBittorrent answered 403 Forbidden to \/api\/v2\/torrents\/info: it requires a login; configure qbittorrent\.credentialsFile/);
    const credentials = join(s.root, "qbt-credentials");
    writeFileSync(credentials, `${qbt.username}:${qbt.password}\n`);
    s.update((c) => void (c.qbittorrent.credentialsFile = credentials));
    const categories = await s.run("categories");
    expect(categories.exitCode, categories.stderr).toBe(0);
    const ep = await sonarrEpisode(s, qbt, { torrent: "Auth.Show.S01", episodes: ["ep1.mkv"] });
    expect((await s.run("upload")).exitCode).toBe(0);
    await qbt.waitSeeding(ep.hash);
    const result = await s.run("cleanup");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/removed torrent "Auth\.Show\.S01"/);
    expect(result.stdout + result.stderr).not.toContain(qbt.password);
    writeFileSync(credentials, `${qbt.username}:wrong\n`);
    const refused = await s.run("cleanup");
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/login to qBittorrent failed \(HTTP 200\): the username or password was refused/);
  }, 60_000);

  it("--dry-run prints the plan and deletes nothing; the cap limits deletions per run and says so", async () => {
    const { s, qbt } = await setup();
    const a = await sonarrEpisode(s, qbt, { torrent: "First.S01", episodes: ["ep1.mkv"] });
    const b = await sonarrEpisode(s, qbt, { torrent: "Second.S01", episodes: ["ep2.mkv"] });
    expect((await s.run("upload")).exitCode).toBe(0);
    await qbt.waitSeeding(a.hash);
    await qbt.waitSeeding(b.hash);
    const dry = await s.run("cleanup", ["--dry-run"]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/^would remove torrent "First\.S01" \(seeded [0-9.]+ days, 1 file; 1 remote copy verified\): 2 files, [0-9.]+ KiB$/m);
    expect(dry.stdout).toMatch(/^would remove torrent "Second\.S01"/m);
    expect(dry.stdout).toMatch(/cleanup \(dry run\) finished in [0-9.]+s: 2 torrents and 0 orphans would be removed/);
    expect(existsSync(a.dir) && existsSync(b.dir)).toBe(true);
    expect(await qbt.torrents()).toHaveLength(2);
    expect(existsSync(join(s.config.stateDir, "cleanup.json"))).toBe(false);
    s.update((c) => void (c.cleanup.maxDeletionsPerRun = 1));
    const capped = await s.run("cleanup");
    expect(capped.stderr).toMatch(/the cap of 1 deletions per run is reached; 1 more wait for the next run/);
    expect(await qbt.torrents()).toHaveLength(1);
    const next = await s.run("cleanup");
    expect(next.exitCode).toBe(0);
    expect(await qbt.torrents()).toHaveLength(0);
  }, 60_000);

  it("never follows a symlink out of the configured folders", async () => {
    const { s, qbt } = await setup();
    s.update((c) => void (c.cleanup.orphanGraceSeconds = 0));
    const outside = mkdtempSync(join(tmpdir(), "mp-outside-"));
    const precious = join(outside, "precious.mkv");
    writeFileSync(precious, "not ours");
    // A library entry that is a symlink to it, and a torrent whose file became one after upload.
    const link = s.path("/media/arr/movies/Evil (2020)/evil.mkv");
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(precious, link);
    const ep = await sonarrEpisode(s, qbt, { torrent: "Swapped.S01", episodes: ["ep1.mkv"] });
    await qbt.waitSeeding(ep.hash);
    expect((await s.run("upload")).exitCode).toBe(0);
    // Upload sent neither the symlink nor what it points to.
    expect(s.remoteFiles()).toEqual(["tv/Show Name/Season 1/S01E01.mkv"]);
    rmSync(ep.files[0]!);
    symlinkSync(precious, ep.files[0]!);
    for (let run = 0; run < 2; run++) {
      const result = await s.run("cleanup");
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^kept torrent "Swapped\.S01": "Swapped\.S01\/ep1\.mkv" is not a regular file on disk \(a folder or a symlink\)$/m);
    }
    expect(readFileSync(precious, "utf8")).toBe("not ours");
    expect(existsSync(link) && existsSync(ep.files[0]!)).toBe(true);
  }, 60_000);

  it("an episode imported before its torrent is due is uploaded once, under its library name, even when the torrent is due at that run", async () => {
    const { s, qbt } = await setup();
    const ep = await sonarrEpisode(s, qbt, { torrent: "Once.S01", episodes: ["ep1.mkv"] });
    await qbt.waitSeeding(ep.hash);
    const up = await s.run("upload");
    expect(up.exitCode, up.stderr).toBe(0);
    // Not also as an extra of the (due) torrent: the library item sends that very file this run.
    expect(s.remoteFiles()).toEqual(["tv/Show Name/Season 1/S01E01.mkv"]);
    expect(up.stdout).toMatch(/1 item uploaded \(1 file, /);
  }, 60_000);
});

describe("categories with a real qBittorrent", () => {
  it("creates the spec's categories, and brings a changed one back to the spec", async () => {
    const { s, qbt } = await setup();
    const read = async () => (await (await qbt.api("/api/v2/torrents/categories")).json()) as Record<string, { savePath: string }>;
    expect(Object.fromEntries(Object.entries(await read()).map(([k, v]) => [k, v.savePath]))).toEqual({
      "tv-sonarr": s.path(`${COMPLETED}/tv`),
      radarr: s.path(`${COMPLETED}/movies`),
    });
    await qbt.api("/api/v2/torrents/editCategory", { category: "radarr", savePath: "/somewhere/else" });
    expect((await read()).radarr!.savePath).toBe("/somewhere/else");
    const again = await s.run("categories");
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/^moved category "radarr" from "\/somewhere\/else" to ".*\/completed\/movies"$/m);
    expect(again.stdout).toMatch(/^category "tv-sonarr" already saves to/m);
    expect((await read()).radarr!.savePath).toBe(s.path(`${COMPLETED}/movies`));
  }, 60_000);

  it("waits for qBittorrent at boot, then gives up after the bounded wait", async () => {
    const s = await sandbox();
    const port = await freePort();
    s.update((c) => {
      c.qbittorrent.url = `http://127.0.0.1:${port}`;
      c.qbittorrent.waitSeconds = 3;
    });
    const started = Date.now();
    const result = await s.run("categories");
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^categories: waiting for qBittorrent at http:\/\/127\.0\.0\.1:\d+$/m);
    expect(result.stderr).toMatch(/cannot reach qBittorrent at .* \(ECONNREFUSED\); gave up after \d+ attempts in 3s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  }, 30_000);
});
