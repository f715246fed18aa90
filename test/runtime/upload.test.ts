/**
 * The upload job against the real rclone (a `local` remote named like the spec's B2 remote stands
 * in for B2, which cannot run here), the real unar, real hard links on one filesystem, and a real
 * qbittorrent-nox: upload asks it which downloads are finished before it sends one. Most tests
 * need only its answer "nothing is downloading" (an empty session); one adds a torrent it is still
 * downloading. What upload confirmed is read back from its records, ${stateDir}/uploads.json.
 */
import { execa } from "execa";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuntimeConfigModel } from "../../runtime/config.ts";
import { freePort, requireTool, ROOT } from "../helpers.ts";
import { fixture, listFiles, oldStyleVolumes, readJson, runtimeBundle, sandbox as plainSandbox } from "./sandbox.ts";
import { startQbittorrent, type Qbittorrent } from "./qbittorrent.ts";

requireTool("unar");

const COMPLETED = "/var/lib/qBittorrent/completed";
const sha1 = (data: string | Buffer) => createHash("sha1").update(data).digest("hex");

/** One empty qBittorrent for the file: upload asks it what is still downloading. */
let qbt: Qbittorrent;
beforeAll(async () => {
  qbt = await startQbittorrent({ defaultSavePath: mkdtempSync(join(tmpdir(), "mp-upload-qbt-")), bypassLocalhostAuth: true });
}, 30_000);
afterAll(async () => qbt?.stop());

/** A sandbox whose qBittorrent is the one above. */
const sandbox = (edit: (c: RuntimeConfigModel) => void = () => {}) =>
  plainSandbox((c) => {
    c.qbittorrent.url = qbt.url;
    edit(c);
  });

describe("upload (local rclone remote standing in for B2)", () => {
  it("sends library items with nice names and uncategorized downloads with torrent names", async () => {
    const s = await sandbox();
    const torrent = s.write(`${COMPLETED}/tv/Parks.and.Recreation.S01.x265-SiQ/episode.mkv`, "episode one bytes");
    // Sonarr's import, simulated: a hard link with a clean name in the library.
    const library = s.path("/media/arr/tv/Parks and Recreation/Season 1/S01E01.mkv");
    mkdirSync(dirname(library), { recursive: true });
    linkSync(torrent, library);
    expect(statSync(library).ino).toBe(statSync(torrent).ino);
    s.write("/media/arr/movies/Movie Name (2024)/movie.mkv", "movie bytes");
    s.write(`${COMPLETED}/Some.Uncategorized.Thing/file.mkv`, "uncategorized");
    s.write(`${COMPLETED}/single-file.iso`, "iso");

    const result = await s.run("upload");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(s.remoteFiles()).toEqual([
      "downloads/Some.Uncategorized.Thing/file.mkv",
      "downloads/single-file.iso",
      "movies/Movie Name (2024)/movie.mkv",
      "tv/Parks and Recreation/Season 1/S01E01.mkv",
    ]);
    // Categorized torrents reach B2 through the library only, never under their torrent names.
    expect(s.remote("tv/Parks and Recreation/Season 1/S01E01.mkv").toString()).toBe("episode one bytes");
    expect(result.stdout).toMatch(/^uploaded "tv\/Parks and Recreation\/Season 1\/S01E01\.mkv": 1 file, 17 B$/m);
    // One rclone run per scan root and destination: tv, movies, the completed folder.
    expect(result.stdout).toMatch(/^upload finished in [0-9.]+s: 4 items uploaded \(4 files, 44 B\), 0 failed, 0 set aside \(media-pipeline attention\), 0 waiting \(quiet period, or still in qBittorrent\), 0 already uploaded, 3 rclone runs$/m);
  });

  it("records each confirmed file by its identity, with remote path, size and the remote's SHA-1, only after the copy", async () => {
    const s = await sandbox();
    const file = s.write("/media/arr/movies/Movie (2024)/movie.mkv", "0123456789");
    const before = Date.now();
    const result = await s.run("upload");
    expect(result.exitCode).toBe(0);
    const st = statSync(file, { bigint: true });
    const doc = readJson(join(s.config.stateDir, "uploads.json"));
    expect(doc).toEqual({
      version: 1,
      records: {
        [`${st.dev}:${st.ino}`]: {
          size: 10,
          mtimeNs: String(st.mtimeNs),
          ctimeNs: String(st.ctimeNs),
          paths: [file],
          kind: "file",
          copies: [{ remotePath: "movies/Movie (2024)/movie.mkv", size: 10, sha1: sha1("0123456789") }],
          uploadedAt: expect.any(String),
        },
      },
    });
    expect(Date.parse(s.records()[0]!.uploadedAt)).toBeGreaterThanOrEqual(before - 1000);
    // Written crash-safely: no temporary file left beside it, and nothing written beside the media.
    expect(readdirSync(s.config.stateDir)).toEqual(["uploads.json"]);
    expect(readdirSync(s.path("/media/arr/movies/Movie (2024)"))).toEqual(["movie.mkv"]);
  });

  it("does nothing on a second run, and starts no rclone", async () => {
    const s = await sandbox();
    s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "a");
    s.write(`${COMPLETED}/Thing/x.bin`, "b");
    expect((await s.run("upload")).exitCode).toBe(0);
    const second = await s.run("upload");
    expect(second.exitCode).toBe(0);
    expect(second.stdout.trim()).toMatch(/^upload finished in [0-9.]+s: 0 items uploaded \(0 files, 0 B\), 0 failed, 0 set aside \(media-pipeline attention\), 0 waiting \(quiet period, or still in qBittorrent\), 2 already uploaded, 0 rclone runs$/);
  });

  it("uploads a replaced library file again (a Sonarr upgrade keeps the name, not the inode), and records the new file", async () => {
    const s = await sandbox();
    const path = s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "720p");
    expect((await s.run("upload")).exitCode).toBe(0);
    rmSync(path);
    s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "1080p version");
    const again = await s.run("upload");
    expect(again.stdout).toMatch(/1 item uploaded/);
    expect(s.remote("tv/Show/Season 1/S01E01.mkv").toString()).toBe("1080p version");
    expect(s.recordOf(path)?.copies).toEqual([{ remotePath: "tv/Show/Season 1/S01E01.mkv", size: 13, sha1: sha1("1080p version") }]);
    // The old file's record went with the file.
    expect(s.records()).toHaveLength(1);
  });

  it("uploads a file rewritten in place with its size and modification time kept (its change time moved)", async () => {
    const s = await sandbox();
    const path = s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "original bytes");
    expect((await s.run("upload")).exitCode).toBe(0);
    const { atime, mtime } = statSync(path);
    writeFileSync(path, "replaced bytes");
    utimesSync(path, atime, mtime);
    expect(s.recordOf(path)).toBeUndefined();
    const again = await s.run("upload");
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/1 item uploaded/);
    expect(s.remote("tv/Show/Season 1/S01E01.mkv").toString()).toBe("replaced bytes");
    expect(s.recordOf(path)?.copies[0]?.sha1).toBe(sha1("replaced bytes"));
  });

  it("logs and skips one failing item, uploads the others, and exits non-zero", async () => {
    const s = await sandbox();
    s.write("/media/arr/tv/Good/Season 1/e1.mkv", "good 1");
    const bad = s.write("/media/arr/tv/Bad/Season 1/e1.mkv", "cannot land");
    s.write("/media/arr/movies/Good (2020)/m.mkv", "good 2");
    // The remote refuses this one item: a file sits where its folder would go.
    s.write(join(s.bucket, "tv/Bad"), "in the way");
    const result = await s.run("upload");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^error: failed: "tv\/Bad\/Season 1\/e1\.mkv": .*; it will be retried on the next run$/m);
    expect(s.remoteFiles()).toEqual(["movies/Good (2020)/m.mkv", "tv/Bad", "tv/Good/Season 1/e1.mkv"]);
    expect(s.recordOf(bad)).toBeUndefined();
    expect(s.recordOf("/media/arr/tv/Good/Season 1/e1.mkv")).toBeDefined();
    expect(s.records()).toHaveLength(2);
  });

  it("an item that failed and then went away is no longer listed by attention", async () => {
    const s = await sandbox();
    const bad = s.write("/media/arr/tv/Bad/Season 1/e1.mkv", "cannot land");
    s.write(join(s.bucket, "tv/Bad"), "in the way");
    expect((await s.run("upload")).exitCode).toBe(1);
    expect((await s.run("attention")).stdout).toMatch(/^"tv\/Bad\/Season 1\/e1\.mkv": failed 1×, still retried/m);
    // Sonarr deleted it (or cleanup did, under another name): nothing is left to retry.
    rmSync(bad);
    expect((await s.run("upload")).exitCode).toBe(0);
    const listed = await s.run("attention");
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout.trim()).toBe("No item needs attention.");
  });

  it("never touches qBittorrent's temp folder, and waits out the quiet period", async () => {
    const s = await sandbox();
    s.write("/var/lib/qBittorrent/downloading/Partial.Torrent/part.mkv", "incomplete");
    s.write(`${COMPLETED}/Fresh.Torrent/a.mkv`, "old part", 3600);
    s.write(`${COMPLETED}/Fresh.Torrent/b.mkv`, "just written", 5);
    s.write("/media/arr/tv/Show/Season 1/S01E02.mkv", "being imported", 1);
    const first = await s.run("upload");
    expect(first.exitCode).toBe(0);
    expect(s.remoteFiles()).toEqual([]);
    expect(first.stdout).toMatch(/^waiting: "downloads\/Fresh\.Torrent" was modified [0-9.]+s ago; quiet period 60s$/m);
    expect(first.stdout).toMatch(/2 waiting \(quiet period, or still in qBittorrent\)/);
    // Once the files are older than the quiet period, the next run takes them.
    const old = Date.now() / 1000 - 3600;
    utimesSync(s.path(`${COMPLETED}/Fresh.Torrent/b.mkv`), old, old);
    utimesSync(s.path("/media/arr/tv/Show/Season 1/S01E02.mkv"), old, old);
    expect((await s.run("upload")).exitCode).toBe(0);
    expect(s.remoteFiles()).toEqual(["downloads/Fresh.Torrent/a.mkv", "downloads/Fresh.Torrent/b.mkv", "tv/Show/Season 1/S01E02.mkv"]);
  });

  it("sends no uncategorized download while qBittorrent cannot say it is complete; library files still go", async () => {
    const s = await sandbox();
    const port = await freePort();
    s.update((c) => void (c.qbittorrent.url = `http://127.0.0.1:${port}`));
    s.write(`${COMPLETED}/Unknown.State/file.mkv`, "maybe half written");
    s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "imported");
    const result = await s.run("upload");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^warning: upload: qBittorrent cannot be asked \(cannot reach qBittorrent at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\): no uncategorized download and no extra is uploaded this run$/m);
    expect(result.stdout).toMatch(/^waiting: "downloads\/Unknown\.State": qBittorrent cannot be asked whether it is complete$/m);
    expect(s.remoteFiles()).toEqual(["tv/Show/Season 1/S01E01.mkv"]);
  });

  it("waits for a download qBittorrent is still downloading, and sends it once complete", async () => {
    const s = await sandbox();
    const file = s.write(`${COMPLETED}/Half.Done.2020/movie.mkv`, Buffer.alloc(100_000, 7));
    const hash = await qbt.add(dirname(file), { savePath: s.path(COMPLETED) });
    await qbt.waitSeeding(hash);
    // Half of it gone again (as if still arriving): qBittorrent rechecks and downloads the rest.
    truncateSync(file, 50_000);
    utimesSync(file, Date.now() / 1000 - 3600, Date.now() / 1000 - 3600);
    await qbt.api("/api/v2/torrents/recheck", { hashes: hash });
    for (let i = 0; i < 100; i++) {
      const t = (await qbt.torrents()).find((x) => x.hash === hash);
      if (t.progress < 1 && /DL$/.test(t.state)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      const waiting = await s.run("upload");
      expect(waiting.exitCode, waiting.stderr).toBe(0);
      expect(waiting.stdout).toMatch(/^waiting: "downloads\/Half\.Done\.2020": qBittorrent is still downloading or checking "Half\.Done\.2020\/movie\.mkv"$/m);
      expect(s.remoteFiles()).toEqual([]);
      // Complete again: it goes.
      writeFileSync(file, Buffer.alloc(100_000, 7));
      utimesSync(file, Date.now() / 1000 - 3600, Date.now() / 1000 - 3600);
      await qbt.api("/api/v2/torrents/recheck", { hashes: hash });
      await qbt.waitSeeding(hash);
      const done = await s.run("upload");
      expect(done.exitCode, done.stderr).toBe(0);
      expect(s.remoteFiles()).toEqual(["downloads/Half.Done.2020/movie.mkv"]);
    } finally {
      await qbt.api("/api/v2/torrents/delete", { hashes: hash, deleteFiles: "false" });
    }
  }, 60_000);

  it("--dry-run prints what would be uploaded and changes nothing", async () => {
    const s = await sandbox();
    s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "12345");
    s.copy(fixture("rar4-nolink.rar"), `${COMPLETED}/Archived/a.rar`);
    const result = await s.run("upload", ["--dry-run"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('would upload "tv/Show/Season 1/S01E01.mkv": 1 file, 5 B');
    expect(result.stdout).toMatch(/^would upload "downloads\/Archived": 0 files, 0 B, extracting ".*\/Archived\/a\.rar"$/m);
    expect(s.remoteFiles()).toEqual([]);
    expect(listFiles(s.config.upload.extractDir)).toEqual([]);
    expect(existsSync(join(s.config.stateDir, "uploads.json"))).toBe(false);
  });
});

describe("upload: archives, extracted with the real unar", () => {
  it("extracts an archive into its own folder, uploads what came out under extracted/, deletes it at once, keeps the archive, uploads no volume", async () => {
    const s = await sandbox();
    const item = `${COMPLETED}/Release.With.Rar`;
    const rar = s.copy(fixture("rar4-nolink.rar"), `${item}/release.rar`);
    const nfo = s.write(`${item}/release.nfo`, "info");
    const result = await s.run("upload");
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(s.remoteFiles()).toEqual(["downloads/Release.With.Rar/release.nfo", "extracted/Release.With.Rar/release.rar/test.txt", "extracted/Release.With.Rar/release.rar/testdir/test.txt"]);
    expect(result.stdout).toMatch(/^uploaded "downloads\/Release\.With\.Rar": 3 files, 44 B \(2 files extracted from 1 archive set\)$/m);
    expect(listFiles(s.config.upload.extractDir)).toEqual([]);
    expect(readFileSync(rar).equals(readFileSync(fixture("rar4-nolink.rar")))).toBe(true);
    // The archive is recorded as a volume of its set, covered by what it extracted to.
    expect(s.recordOf(rar)).toMatchObject({ kind: "archive-volume", copies: [{ remotePath: "extracted/Release.With.Rar/release.rar/test.txt" }, { remotePath: "extracted/Release.With.Rar/release.rar/testdir/test.txt" }].map((c) => expect.objectContaining(c)) });
    expect(s.recordOf(nfo)).toMatchObject({ kind: "file", copies: [{ remotePath: "downloads/Release.With.Rar/release.nfo", size: 4, sha1: sha1("info") }] });
  });

  it.each([
    ["the .partNN.rar style", () => ["multivolume.part1.rar", "multivolume.part2.rar", "multivolume.part3.rar"].map((name) => ({ name, data: readFileSync(fixture(name)) }))],
    ["the .r00 style", oldStyleVolumes],
  ])("hands only the first volume of a multi-volume set in %s to unar, and records every volume", async (_style, volumes) => {
    const s = await sandbox();
    const item = `${COMPLETED}/Multi.Volume`;
    const unarLog = join(s.root, "unar.log");
    const unar = join(s.root, "unar-recording");
    // The real unar, with its arguments recorded.
    writeFileSync(unar, `#!/bin/sh\nprintf '%s\\n' "$@" >> ${JSON.stringify(unarLog)}\nexec ${requireTool("unar")} "$@"\n`);
    chmodSync(unar, 0o755);
    const set = volumes();
    for (const v of set) s.write(`${item}/${v.name}`, v.data);
    const result = await s.run("upload", [], { env: { MEDIA_PIPELINE_UNAR: unar } });
    expect(result.exitCode, result.stderr).toBe(0);
    const remote = `extracted/Multi.Volume/${set[0]!.name}/LibarchiveAddingTest.html`;
    expect(s.remoteFiles()).toEqual([remote]);
    const whole = mkdtempSync(join(tmpdir(), "mp-x-"));
    await execa(requireTool("unar"), ["-q", "-D", "-o", whole, fixture("multivolume.part1.rar")], { stdin: "ignore" });
    expect(s.remote(remote).equals(readFileSync(join(whole, "LibarchiveAddingTest.html")))).toBe(true);
    rmSync(whole, { recursive: true, force: true });
    const archives = readFileSync(unarLog, "utf8").split("\n").filter((a) => /\.(rar|r\d\d)$/.test(a));
    expect(archives.map((a) => a.split("/").pop())).toEqual([set[0]!.name]);
    for (const v of set) expect(s.recordOf(`${item}/${v.name}`)?.copies.map((c) => c.remotePath), v.name).toEqual([remote]);
  });

  it.each([
    ["encrypted", "rar4-encrypted.rar"],
    ["corrupt", "rar5-corrupt.rar"],
  ])("a %s archive leaves no partial output and no record, is reported, and is retried next run", async (_kind, name) => {
    const s = await sandbox();
    const item = `${COMPLETED}/Broken.Release`;
    const rar = s.copy(fixture(name), `${item}/broken.rar`);
    s.write("/media/arr/tv/Fine/Season 1/e.mkv", "fine");
    for (let run = 0; run < 2; run++) {
      const result = await s.run("upload");
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/^error: failed: "downloads\/Broken\.Release": extraction failed: broken\.rar: .+; it will be retried on the next run$/m);
      expect(readdirSync(s.config.upload.extractDir)).toEqual([]);
      expect(s.recordOf(rar)).toBeUndefined();
    }
    expect(s.remoteFiles()).toEqual(["tv/Fine/Season 1/e.mkv"]);
    expect((await s.run("attention")).stdout).toMatch(/^"downloads\/Broken\.Release": failed 2×, still retried since /m);
  });
});

describe("upload: names, interruptions and concurrency", () => {
  it("handles names with spaces, quotes, unicode and line breaks, and records them as rclone names them", async () => {
    const s = await sandbox();
    const names = ["It's a \"Show\"/Season 1/e 1.mkv", "Ünïcødé 日本/Season 1/S01E01 ✓.mkv", "Line\nBreak/Season 1/e.mkv", "$HOME & `x`/Season 1/e;.mkv", "Tab\tHere/Season 1/e.mkv"];
    for (const n of names) s.write(`/media/arr/tv/${n}`, n);
    const result = await s.run("upload");
    expect(result.exitCode, result.stderr).toBe(0);
    for (const n of names) {
      expect(readFileSync(join(s.bucket, "tv", n), "utf8"), n).toBe(n);
      // rclone's own spelling: control characters as control pictures (\n is ␊, \t is ␉).
      const remotePath = `tv/${n.replace(/[\x00-\x1f]/g, (c) => String.fromCodePoint(0x2400 + c.charCodeAt(0)))}`;
      expect(s.recordOf(`/media/arr/tv/${n}`)?.copies, n).toEqual([{ remotePath, size: Buffer.byteLength(n), sha1: sha1(n) }]);
    }
    expect(result.stdout).toContain('uploaded "tv/Line\\nBreak/Season 1/e.mkv"');
  });

  it("refuses a name rclone could not tell apart from another (a literal control picture), and sends the rest", async () => {
    const s = await sandbox();
    const odd = s.write("/media/arr/tv/Odd\u240aName/Season 1/e.mkv", "looks like a line break to rclone");
    s.write("/media/arr/tv/Fine/Season 1/e.mkv", "fine");
    const result = await s.run("upload");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^error: failed: "tv\/Odd␊Name\/Season 1\/e\.mkv": .*rename it/m);
    expect(s.remoteFiles()).toEqual(["tv/Fine/Season 1/e.mkv"]);
    expect(s.recordOf(odd)).toBeUndefined();
  });

  it("rclone killed mid-copy leaves no record, and the next run completes the upload", async () => {
    const s = await sandbox();
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    const path = s.write("/media/arr/movies/Big (2024)/big.mkv", big);
    const pidFile = join(s.root, "rclone.pid");
    const slow = join(s.root, "rclone-slow");
    // The real rclone, throttled so there is time to kill it mid-transfer.
    writeFileSync(slow, `#!/bin/sh\necho $$ > ${JSON.stringify(pidFile)}\nexec ${requireTool("rclone")} --bwlimit 1M "$@"\n`);
    chmodSync(slow, 0o755);
    const run = s.run("upload", [], { env: { MEDIA_PIPELINE_RCLONE: slow } });
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    const result = await run;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/failed: "movies\/Big \(2024\)\/big\.mkv": .*not confirmed on the remote \(rclone was killed \(SIGKILL\)\)/);
    expect(s.recordOf(path)).toBeUndefined();
    const retry = await s.run("upload");
    expect(retry.exitCode).toBe(0);
    expect(s.remote("movies/Big (2024)/big.mkv").equals(big)).toBe(true);
    expect(s.recordOf(path)?.copies[0]?.sha1).toBe(sha1(big));
  });

  it("two runs started together: one uploads, the other exits quietly with a message", async () => {
    const s = await sandbox();
    s.write("/media/arr/movies/Mid (2024)/mid.mkv", Buffer.alloc(2 * 1024 * 1024, 1));
    const calls = join(s.root, "rclone.calls");
    const slow = join(s.root, "rclone-slow");
    writeFileSync(slow, `#!/bin/sh\necho "$1" >> ${JSON.stringify(calls)}\nexec ${requireTool("rclone")} --bwlimit 1M "$@"\n`);
    chmodSync(slow, 0o755);
    const env = { MEDIA_PIPELINE_RCLONE: slow };
    const [a, b] = await Promise.all([s.run("upload", [], { env }), s.run("upload", [], { env })]);
    const outputs = [a, b].map((r) => r.stdout);
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    expect(outputs.filter((o) => /another upload run \(pid \d+\) is in progress; exiting/.test(o))).toHaveLength(1);
    expect(outputs.filter((o) => /1 item uploaded/.test(o))).toHaveLength(1);
    // One copy and the listing that confirms it, from one run only.
    expect(readFileSync(calls, "utf8")).toBe("copy\nlsjson\n");
  });

  it("takes over a lock left by a run that was killed", async () => {
    const s = await sandbox();
    writeFileSync(join(s.config.lockDir, "upload.lock"), "999999\n");
    s.write("/media/arr/tv/Show/Season 1/e.mkv", "x");
    const result = await s.run("upload");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/1 item uploaded/);
    expect(existsSync(join(s.config.lockDir, "upload.lock"))).toBe(false);
  });
});

describe("the README's demo (scripts/demo-upload.sh)", () => {
  it("runs the upload job against a local remote and finds nothing new the second time; the download waits for qBittorrent", async () => {
    const result = await execa("bash", [join(ROOT, "scripts/demo-upload.sh")], { cwd: ROOT });
    expect(result.stdout).toMatch(/^upload finished in [0-9.]+s: 1 item uploaded \(1 file, 11 B\), 0 failed, 0 set aside \(media-pipeline attention\), 1 waiting/m);
    expect(result.stdout).toMatch(/0 items uploaded \(0 files, 0 B\), 0 failed, 0 set aside \(media-pipeline attention\), 1 waiting \(quiet period, or still in qBittorrent\), 1 already uploaded, 0 rclone runs/);
    expect(result.stdout).toContain('waiting: "downloads/Some.Download": qBittorrent cannot be asked whether it is complete');
    expect(result.stdout).toContain("entertainment-netmount/tv/Show Name/Season 1/S01E01.mkv");
    expect(result.stdout).not.toContain("entertainment-netmount/downloads/");
  });
});

describe("the runtime command line", () => {
  it("--help lists the commands and options", async () => {
    const result = await execa(process.execPath, [await runtimeBundle(), "--help"]);
    expect(result.stdout).toMatch(/^Usage: media-pipeline <command> --config FILE/);
    for (const word of ["upload", "cleanup", "categories", "attention", "retry KEY", "check-config", "--config FILE", "--dry-run", "75"]) expect(result.stdout).toContain(word);
  });

  it("refuses a bad config with a message naming the field, exit 2", async () => {
    const s = await sandbox();
    const bad = { ...s.config, upload: { ...s.config.upload, quietPeriodSeconds: "soon" } };
    writeFileSync(s.configPath, JSON.stringify(bad));
    const result = await s.run("upload");
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/config .*config\.json is invalid:\n {2}upload\.quietPeriodSeconds: Invalid input: expected number, received string/);
  });

  it("refuses a config that still has the removed upload.marker, with the reason, exit 2", async () => {
    const s = await sandbox();
    writeFileSync(s.configPath, JSON.stringify({ ...s.config, upload: { ...s.config.upload, marker: ".uploaded" } }));
    const result = await s.run("upload");
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/upload: the field "marker" was removed: upload no longer writes marker files beside items/);
  });

  it("attention with nothing set aside, and retry of an unknown item", async () => {
    const s = await sandbox();
    const empty = await s.run("attention");
    expect(empty.exitCode).toBe(0);
    expect(empty.stdout.trim()).toBe("No item needs attention.");
    const unknown = await s.run("retry", ["downloads/Nothing"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/no item "downloads\/Nothing" needs attention; media-pipeline attention lists them/);
    const missing = await s.run("retry");
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/retry needs the KEY of an item/);
  });
});

