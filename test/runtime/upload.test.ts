/**
 * The upload job against the real rclone (a `local` remote named like the spec's B2 remote stands
 * in for B2, which cannot run here), the real unar, and real hard links on one filesystem.
 */
import { execa } from "execa";
import { existsSync, linkSync, readdirSync, readFileSync, statSync, chmodSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requireTool, ROOT } from "../helpers.ts";
import { fixture, oldStyleVolumes, readJson, runtimeBundle, sandbox } from "./sandbox.ts";

requireTool("unar");

const marker = (dir: string, name: string) => join(dir, `.${name}.uploaded`);
const files = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
        .sort()
    : [];

describe("upload (local rclone remote standing in for B2)", () => {
  it("sends library items with nice names and uncategorized downloads with torrent names", async () => {
    const s = await sandbox();
    const torrent = s.write("/var/lib/qBittorrent/completed/tv/Parks.and.Recreation.S01.x265-SiQ/episode.mkv", "episode one bytes");
    // Sonarr's import, simulated: a hard link with a clean name in the library.
    const library = s.path("/media/arr/tv/Parks and Recreation/Season 1/S01E01.mkv");
    (await import("node:fs")).mkdirSync(join(library, ".."), { recursive: true });
    linkSync(torrent, library);
    expect(statSync(library).ino).toBe(statSync(torrent).ino);
    s.write("/media/arr/movies/Movie Name (2024)/movie.mkv", "movie bytes");
    s.write("/var/lib/qBittorrent/completed/Some.Uncategorized.Thing/file.mkv", "uncategorized");
    s.write("/var/lib/qBittorrent/completed/single-file.iso", "iso");

    const result = await s.run("upload");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(files(s.bucket)).toEqual([
      "downloads/Some.Uncategorized.Thing/file.mkv",
      "downloads/single-file.iso",
      "movies/Movie Name (2024)/movie.mkv",
      "tv/Parks and Recreation/Season 1/S01E01.mkv",
    ]);
    // Categorized torrents reach B2 through the library only, never under their torrent names.
    expect(readFileSync(join(s.bucket, "tv/Parks and Recreation/Season 1/S01E01.mkv"), "utf8")).toBe("episode one bytes");
    expect(result.stdout).toMatch(/^uploaded "tv\/Parks and Recreation\/Season 1\/S01E01\.mkv": 1 file, 17 B, [0-9.]+s$/m);
    expect(result.stdout).toMatch(/^upload finished in [0-9.]+s: 4 uploaded \(44 B\), 0 failed, 0 waiting for the quiet period, 0 already uploaded, 3 rclone runs$/m);
  });

  it("writes a marker recording remote path, size and time, only after the copy", async () => {
    const s = await sandbox();
    const file = s.write("/media/arr/movies/Movie (2024)/movie.mkv", "0123456789");
    const before = Date.now();
    const result = await s.run("upload");
    expect(result.exitCode).toBe(0);
    const m = readJson(marker(s.path("/media/arr/movies/Movie (2024)"), "movie.mkv"));
    expect(m).toMatchObject({ version: 1, remote: "b2:entertainment-netmount/movies/Movie (2024)/movie.mkv", files: [{ remotePath: "movies/Movie (2024)/movie.mkv", size: 10, inode: statSync(file).ino }] });
    expect(Date.parse(m.uploadedAt)).toBeGreaterThanOrEqual(before - 1000);
    const dir = readdirSync(s.path("/media/arr/movies/Movie (2024)"));
    expect(dir.filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("does nothing on a second run, and starts no rclone", async () => {
    const s = await sandbox();
    s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "a");
    s.write("/var/lib/qBittorrent/completed/Thing/x.bin", "b");
    expect((await s.run("upload")).exitCode).toBe(0);
    const second = await s.run("upload");
    expect(second.exitCode).toBe(0);
    expect(second.stdout.trim()).toMatch(/^upload finished in [0-9.]+s: 0 uploaded \(0 B\), 0 failed, 0 waiting for the quiet period, 2 already uploaded, 0 rclone runs$/);
  });

  it("uploads a replaced library file again (a Sonarr upgrade keeps the name, not the inode)", async () => {
    const s = await sandbox();
    const path = s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "720p");
    expect((await s.run("upload")).exitCode).toBe(0);
    (await import("node:fs")).rmSync(path);
    s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "1080p version");
    const again = await s.run("upload");
    expect(again.stdout).toMatch(/1 uploaded/);
    expect(readFileSync(join(s.bucket, "tv/Show/Season 1/S01E01.mkv"), "utf8")).toBe("1080p version");
  });

  it("logs and skips one failing item, uploads the others, and exits non-zero", async () => {
    const s = await sandbox();
    s.write("/media/arr/tv/Good/Season 1/e1.mkv", "good 1");
    s.write("/media/arr/tv/Bad/Season 1/e1.mkv", "cannot land");
    s.write("/media/arr/movies/Good (2020)/m.mkv", "good 2");
    // The remote refuses this one item: a file sits where its folder would go.
    s.write(join(s.bucket, "tv/Bad"), "in the way");
    const result = await s.run("upload");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^error: failed: "tv\/Bad\/Season 1\/e1\.mkv": .*; it will be retried on the next run$/m);
    expect(files(s.bucket)).toEqual(["movies/Good (2020)/m.mkv", "tv/Bad", "tv/Good/Season 1/e1.mkv"]);
    expect(existsSync(marker(s.path("/media/arr/tv/Bad/Season 1"), "e1.mkv"))).toBe(false);
    expect(existsSync(marker(s.path("/media/arr/tv/Good/Season 1"), "e1.mkv"))).toBe(true);
  });

  it("never touches qBittorrent's temp folder, and waits out the quiet period", async () => {
    const s = await sandbox();
    s.write("/var/lib/qBittorrent/downloading/Partial.Torrent/part.mkv", "incomplete");
    s.write("/var/lib/qBittorrent/completed/Fresh.Torrent/a.mkv", "old part", 3600);
    s.write("/var/lib/qBittorrent/completed/Fresh.Torrent/b.mkv", "just written", 5);
    s.write("/media/arr/tv/Show/Season 1/S01E02.mkv", "being imported", 1);
    const first = await s.run("upload");
    expect(first.exitCode).toBe(0);
    expect(files(s.bucket)).toEqual([]);
    expect(first.stdout).toMatch(/^waiting: "downloads\/Fresh\.Torrent" was modified [0-9.]+s ago; quiet period 60s$/m);
    expect(first.stdout).toMatch(/2 waiting for the quiet period/);
    // Once the files are older than the quiet period, the next run takes them.
    const { utimesSync } = await import("node:fs");
    const old = Date.now() / 1000 - 3600;
    utimesSync(s.path("/var/lib/qBittorrent/completed/Fresh.Torrent/b.mkv"), old, old);
    utimesSync(s.path("/media/arr/tv/Show/Season 1/S01E02.mkv"), old, old);
    expect((await s.run("upload")).exitCode).toBe(0);
    expect(files(s.bucket)).toEqual(["downloads/Fresh.Torrent/a.mkv", "downloads/Fresh.Torrent/b.mkv", "tv/Show/Season 1/S01E02.mkv"]);
  });

  it("--dry-run prints what would be uploaded and changes nothing", async () => {
    const s = await sandbox();
    s.write("/media/arr/tv/Show/Season 1/S01E01.mkv", "12345");
    s.copy(fixture("rar4-simple.rar"), "/var/lib/qBittorrent/completed/Archived/a.rar");
    const result = await s.run("upload", ["--dry-run"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('would upload "Show/Season 1/S01E01.mkv" → b2:entertainment-netmount/tv/Show/Season 1/S01E01.mkv (1 file, 5 B)');
    expect(result.stdout).toMatch(/would upload "Archived" → b2:entertainment-netmount\/downloads\/Archived \(0 files, 0 B, extracting ".*\/Archived\/a\.rar"\)/);
    expect(files(s.bucket)).toEqual([]);
    expect(files(s.path("/var/lib/qBittorrent/extracted"))).toEqual([]);
    expect(existsSync(marker(s.path("/media/arr/tv/Show/Season 1"), "S01E01.mkv"))).toBe(false);
  });
});

describe("upload: archives, extracted with the real unar", () => {
  it("extracts an archive, uploads the extracted copy, deletes it at once, keeps the archive, uploads no volume", async () => {
    const s = await sandbox();
    const item = "/var/lib/qBittorrent/completed/Release.With.Rar";
    s.copy(fixture("rar4-simple.rar"), `${item}/release.rar`);
    s.write(`${item}/release.nfo`, "info");
    const result = await s.run("upload");
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(files(s.bucket)).toEqual(["downloads/Release.With.Rar/release.nfo", "downloads/Release.With.Rar/test.txt", "downloads/Release.With.Rar/testdir/test.txt"]);
    expect(files(s.path("/var/lib/qBittorrent/extracted"))).toEqual([]);
    expect(existsSync(s.path(`${item}/release.rar`))).toBe(true);
    const m = readJson(marker(s.path("/var/lib/qBittorrent/completed"), "Release.With.Rar"));
    expect(m.files.map((f: { remotePath: string }) => f.remotePath).sort()).toEqual(files(s.bucket));
    expect(m.files.find((f: { remotePath: string }) => f.remotePath.endsWith("testdir/test.txt")).extractedFrom).toBe("Release.With.Rar/release.rar");
  });

  it.each([
    ["the .partNN.rar style", () => ["multivolume.part1.rar", "multivolume.part2.rar", "multivolume.part3.rar"].map((name) => ({ name, data: readFileSync(fixture(name)) }))],
    ["the .r00 style", oldStyleVolumes],
  ])("hands only the first volume of a multi-volume set in %s to unar", async (_style, volumes) => {
    const s = await sandbox();
    const item = "/var/lib/qBittorrent/completed/Multi.Volume";
    const unarLog = join(s.root, "unar.log");
    const unar = join(s.root, "unar-recording");
    // The real unar, with its arguments recorded.
    writeFileSync(unar, `#!/bin/sh\nprintf '%s\\n' "$@" >> ${JSON.stringify(unarLog)}\nexec ${requireTool("unar")} "$@"\n`);
    chmodSync(unar, 0o755);
    const set = volumes();
    for (const v of set) s.write(`${item}/${v.name}`, v.data);
    const result = await s.run("upload", [], { env: { MEDIA_PIPELINE_UNAR: unar } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(files(s.bucket)).toEqual(["downloads/Multi.Volume/LibarchiveAddingTest.html"]);
    const whole = mkdtempSync(join(tmpdir(), "mp-x-"));
    await execa(requireTool("unar"), ["-q", "-D", "-o", whole, fixture("multivolume.part1.rar")], { stdin: "ignore" });
    expect(readFileSync(join(s.bucket, "downloads/Multi.Volume/LibarchiveAddingTest.html")).equals(readFileSync(join(whole, "LibarchiveAddingTest.html")))).toBe(true);
    const archives = readFileSync(unarLog, "utf8").split("\n").filter((a) => /\.(rar|r\d\d)$/.test(a));
    expect(archives.map((a) => a.split("/").pop())).toEqual([set[0]!.name]);
  });

  it.each([
    ["encrypted", "rar4-encrypted.rar"],
    ["corrupt", "rar5-corrupt.rar"],
  ])("a %s archive leaves no partial output and no marker, is reported, and is retried next run", async (_kind, name) => {
    const s = await sandbox();
    const item = "/var/lib/qBittorrent/completed/Broken.Release";
    s.copy(fixture(name), `${item}/broken.rar`);
    s.write("/media/arr/tv/Fine/Season 1/e.mkv", "fine");
    for (let run = 0; run < 2; run++) {
      const result = await s.run("upload");
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/^error: failed: "downloads\/Broken\.Release": extraction failed: broken\.rar: .+; it will be retried on the next run$/m);
      expect(readdirSync(s.path("/var/lib/qBittorrent/extracted"))).toEqual([]);
      expect(existsSync(marker(s.path("/var/lib/qBittorrent/completed"), "Broken.Release"))).toBe(false);
    }
    expect(files(s.bucket)).toEqual(["tv/Fine/Season 1/e.mkv"]);
  });
});

describe("upload: names, interruptions and concurrency", () => {
  it("handles names with spaces, quotes, unicode and newlines", async () => {
    const s = await sandbox();
    const names = ["It's a \"Show\"/Season 1/e 1.mkv", "Ünïcødé 日本/Season 1/S01E01 ✓.mkv", "Line\nBreak/Season 1/e.mkv", "$HOME & `x`/Season 1/e;.mkv"];
    for (const n of names) s.write(`/media/arr/tv/${n}`, n);
    const result = await s.run("upload");
    expect(result.exitCode, result.stderr).toBe(0);
    for (const n of names) {
      expect(readFileSync(join(s.bucket, "tv", n), "utf8")).toBe(n);
      const parts = n.split("/");
      expect(existsSync(marker(s.path(`/media/arr/tv/${parts.slice(0, -1).join("/")}`), parts.at(-1)!)), n).toBe(true);
    }
    expect(result.stdout).toContain('uploaded "tv/Line\\nBreak/Season 1/e.mkv"');
  });

  it("rclone killed mid-copy leaves no marker, and the next run completes the upload", async () => {
    const s = await sandbox();
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    s.write("/media/arr/movies/Big (2024)/big.mkv", big);
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
    expect(existsSync(marker(s.path("/media/arr/movies/Big (2024)"), "big.mkv"))).toBe(false);
    const retry = await s.run("upload");
    expect(retry.exitCode).toBe(0);
    expect(readFileSync(join(s.bucket, "movies/Big (2024)/big.mkv")).equals(big)).toBe(true);
    expect(existsSync(marker(s.path("/media/arr/movies/Big (2024)"), "big.mkv"))).toBe(true);
  });

  it("two runs started together: one uploads, the other exits quietly with a message", async () => {
    const s = await sandbox();
    s.write("/media/arr/movies/Mid (2024)/mid.mkv", Buffer.alloc(2 * 1024 * 1024, 1));
    const calls = join(s.root, "rclone.calls");
    const slow = join(s.root, "rclone-slow");
    writeFileSync(slow, `#!/bin/sh\necho run >> ${JSON.stringify(calls)}\nexec ${requireTool("rclone")} --bwlimit 1M "$@"\n`);
    chmodSync(slow, 0o755);
    const env = { MEDIA_PIPELINE_RCLONE: slow };
    const [a, b] = await Promise.all([s.run("upload", [], { env }), s.run("upload", [], { env })]);
    const outputs = [a, b].map((r) => r.stdout);
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    expect(outputs.filter((o) => /another upload run \(pid \d+\) is in progress; exiting/.test(o))).toHaveLength(1);
    expect(outputs.filter((o) => /1 uploaded/.test(o))).toHaveLength(1);
    expect(readFileSync(calls, "utf8")).toBe("run\n");
  });

  it("takes over a lock left by a run that was killed", async () => {
    const s = await sandbox();
    writeFileSync(join(s.config.lockDir, "upload.lock"), "999999\n");
    s.write("/media/arr/tv/Show/Season 1/e.mkv", "x");
    const result = await s.run("upload");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/1 uploaded/);
    expect(existsSync(join(s.config.lockDir, "upload.lock"))).toBe(false);
  });
});

describe("the README's demo (scripts/demo-upload.sh)", () => {
  it("runs the upload job against a local remote and finds nothing new the second time", async () => {
    const result = await execa("bash", [join(ROOT, "scripts/demo-upload.sh")], { cwd: ROOT });
    expect(result.stdout).toMatch(/2 uploaded \(22 B\)/);
    expect(result.stdout).toMatch(/0 uploaded \(0 B\), 0 failed, 0 waiting for the quiet period, 2 already uploaded, 0 rclone runs/);
    expect(result.stdout).toContain("entertainment-netmount/tv/Show Name/Season 1/S01E01.mkv");
    expect(result.stdout).toContain("entertainment-netmount/downloads/Some.Download/file.bin");
  });
});

describe("the runtime command line", () => {
  it("--help lists the commands and options", async () => {
    const result = await execa(process.execPath, [await runtimeBundle(), "--help"]);
    expect(result.stdout).toMatch(/^Usage: media-pipeline <command> --config FILE/);
    for (const word of ["upload", "cleanup", "categories", "--config FILE", "--dry-run"]) expect(result.stdout).toContain(word);
  });

  it("refuses a bad config with a message naming the field, exit 2", async () => {
    const s = await sandbox();
    const bad = { ...s.config, upload: { ...s.config.upload, quietPeriodSeconds: "soon" } };
    writeFileSync(s.configPath, JSON.stringify(bad));
    const result = await s.run("upload");
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/config .*config\.json is invalid:\n {2}upload\.quietPeriodSeconds: Invalid input: expected number, received string/);
  });
});
