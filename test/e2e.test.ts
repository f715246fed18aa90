/**
 * The seed's whole flow on real components: qbittorrent-nox seeds, the Sonarr import is simulated
 * (a hard link with a clean name, as Sonarr makes it; Sonarr itself cannot run here), upload sends
 * it to the remote (a local rclone remote standing in for B2), cleanup removes the local copies after
 * the (shortened) seeding period, and the remote copy is byte-identical. The uncategorized path goes
 * through a real RAR archive (extracted into its own folder, uploaded under extracted/), and the
 * dashboard is served by a real nginx from the generated config. Each file upload confirmed is in its
 * records (uploads.json), with the SHA-1 the remote reported; cleanup deletes only what they cover.
 */
import { execa } from "execa";
import { createHash } from "node:crypto";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { requireTool } from "./helpers.ts";
import { startDashboard } from "./support/dashboard-server.ts";
import { fixture, sandbox } from "./runtime/sandbox.ts";
import { startQbittorrent, type Qbittorrent } from "./runtime/qbittorrent.ts";

const COMPLETED = "/var/lib/qBittorrent/completed";
const sha1 = (data: Buffer) => createHash("sha1").update(data).digest("hex");
let qbt: Qbittorrent | undefined;
afterAll(async () => qbt?.stop());

describe("end to end: qBittorrent → simulated Sonarr import → upload → cleanup, with the dashboard on nginx", () => {
  it("ends with local copies and torrents gone and the remote copies intact", async () => {
    const s = await sandbox();
    qbt = await startQbittorrent({ defaultSavePath: s.path(COMPLETED), bypassLocalhostAuth: true });
    s.update((c) => {
      c.qbittorrent.url = qbt!.url;
      c.qbittorrent.waitSeconds = 10;
    });
    expect((await s.run("categories")).exitCode).toBe(0);

    // 1. qBittorrent seeds a TV download in completed/tv under tv-sonarr.
    const episode = s.write(`${COMPLETED}/tv/Show.Name.S01E01.1080p.x265-GRP/show.name.s01e01.mkv`, Buffer.alloc(300_000, 42));
    const tvHash = await qbt.add(dirname(episode), { category: "tv-sonarr" });
    // The uncategorized path: a download holding a RAR archive, seeding in completed/.
    const rar = s.copy(fixture("rar4-nolink.rar"), `${COMPLETED}/Some.Release.With.Rar/release.rar`);
    const rarHash = await qbt.add(dirname(rar));
    await qbt.waitSeeding(tvHash);
    await qbt.waitSeeding(rarHash);
    const info = await qbt.torrents();
    expect(info.find((t) => t.hash === tvHash)).toMatchObject({ category: "tv-sonarr", save_path: s.path(`${COMPLETED}/tv`) });

    // 2. Sonarr's import, simulated: a hard link with the clean name in the library.
    const library = s.path("/media/arr/tv/Show Name/Season 1/S01E01.mkv");
    mkdirSync(dirname(library), { recursive: true });
    linkSync(episode, library);

    // 3. upload (while the torrents still seed): the remote holds the clean name, and what the
    // archive holds under extracted/<its path>/, never the archive itself.
    const up = await s.run("upload");
    expect(up.exitCode, up.stderr).toBe(0);
    const remoteEpisode = join(s.bucket, "tv/Show Name/Season 1/S01E01.mkv");
    expect(readFileSync(remoteEpisode).equals(readFileSync(episode))).toBe(true);
    const unpacked = mkdtempSync(join(tmpdir(), "mp-unpacked-"));
    await execa(requireTool("unar"), ["-q", "-D", "-o", unpacked, fixture("rar4-nolink.rar")], { stdin: "ignore" });
    const remoteTxt = join(s.bucket, "extracted/Some.Release.With.Rar/release.rar/testdir/test.txt");
    expect(readFileSync(remoteTxt).equals(readFileSync(join(unpacked, "testdir/test.txt")))).toBe(true);
    expect(s.remoteFiles()).toEqual(["extracted/Some.Release.With.Rar/release.rar/test.txt", "extracted/Some.Release.With.Rar/release.rar/testdir/test.txt", "tv/Show Name/Season 1/S01E01.mkv"]);
    // The records: the episode (one record for both its names) and the archive, with the remote's SHA-1s.
    expect(s.recordOf(library)?.copies).toEqual([{ remotePath: "tv/Show Name/Season 1/S01E01.mkv", size: 300_000, sha1: sha1(Buffer.alloc(300_000, 42)) }]);
    expect(s.recordOf(episode)).toEqual(s.recordOf(library));
    expect(s.recordOf(rar)).toMatchObject({ kind: "archive-volume" });
    expect(s.recordOf(rar)!.copies.map((c) => c.remotePath)).toEqual(["extracted/Some.Release.With.Rar/release.rar/test.txt", "extracted/Some.Release.With.Rar/release.rar/testdir/test.txt"]);

    // 4. cleanup after the seeding period (shortened to nothing for the test).
    s.update((c) => void (c.cleanup.seedingPeriodSeconds = 0));
    const clean = await s.run("cleanup");
    expect(clean.exitCode, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/2 torrents and 0 orphans removed/);

    // 5. Local copies gone, torrents gone, remote copies intact and byte-identical.
    expect(existsSync(episode)).toBe(false);
    expect(existsSync(library)).toBe(false);
    expect(existsSync(rar)).toBe(false);
    expect(await qbt.torrents()).toEqual([]);
    expect(readFileSync(remoteEpisode).equals(Buffer.alloc(300_000, 42))).toBe(true);
    expect(readFileSync(remoteTxt).equals(readFileSync(join(unpacked, "testdir/test.txt")))).toBe(true);
  }, 120_000);

  it("serves the dashboard from the generated nginx config", async () => {
    const server = await startDashboard();
    try {
      const page = await fetch(`${server.base}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<a href="/qbt/" data-port="8080">');
      const redirect = await fetch(`${server.base}/jellyfin/`, { redirect: "manual" });
      expect(redirect.headers.get("location")).toBe("http://builder:8096/");
    } finally {
      await server.stop();
    }
  });
});
