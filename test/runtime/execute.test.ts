/**
 * Cleanup's last step on real files: the Executor unlinks a planned file only if it is still the file
 * observed. Found by the second adversary round (issue 11, A2): content rewritten in place with its
 * size and mtime put back (`touch -r`) between observe and execute moves only the ctime.
 */
import { execFileSync } from "node:child_process";
import { existsSync, linkSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Executor } from "../../runtime/cleanup/execute.ts";
import type { Deletion } from "../../runtime/cleanup/plan.ts";
import type { QbittorrentClient } from "../../runtime/qbittorrent.ts";
import { openRecords, statIdentity } from "../../runtime/records.ts";
import { refuseSharedRemoteNames, type Item } from "../../runtime/upload.ts";
import { archiverEnv } from "../../runtime/archives.ts";

/** Only deleteTorrent is called by the Executor; the test never removes a torrent. */
const noClient = { deleteTorrent: async () => undefined } as unknown as QbittorrentClient;

function setup() {
  const root = mkdtempSync(join(tmpdir(), "mp-execute-"));
  const completed = join(root, "completed");
  const library = join(root, "library");
  mkdirSync(join(completed, "Item"), { recursive: true });
  mkdirSync(join(library, "Show"), { recursive: true });
  const roots = { completed, libraries: [library], kept: [completed, library], skipped: [] };
  return { completed, library, executor: new Executor(roots, new Map(), noClient) };
}

const deletion = (files: string[]): Deletion => ({
  kind: "orphan",
  label: "Item",
  files: files.map((path) => ({ path, id: statIdentity(path)! })),
  needs: [],
  reason: "test",
});

describe("Executor (real files)", () => {
  it("keeps a file rewritten in place after it was observed, even with its size and mtime put back (touch -r)", async () => {
    const { completed, executor } = setup();
    const file = join(completed, "Item/video.mkv");
    writeFileSync(file, "A".repeat(5000));
    const d = deletion([file]);
    await new Promise((r) => setTimeout(r, 20));
    const reference = join(completed, "reference");
    execFileSync("touch", ["-r", file, reference]);
    writeFileSync(file, "B".repeat(5000));
    execFileSync("touch", ["-r", reference, file]);
    const after = statIdentity(file)!;
    expect([after.size, after.mtimeNs]).toEqual([d.files[0]!.id.size, d.files[0]!.id.mtimeNs]);
    const result = await executor.run(d);
    expect(result.deleted).toBe(0);
    expect(result.spared[0]!.reason).toMatch(/ctime moved/);
    expect(existsSync(file)).toBe(true);
  });

  it("still deletes every name of a hard-linked file: unlinking the first name moves the ctime of the second", async () => {
    const { completed, library, executor } = setup();
    const file = join(completed, "Item/video.mkv");
    const link = join(library, "Show/video.mkv");
    writeFileSync(file, "A".repeat(5000));
    linkSync(file, link);
    const result = await executor.run(deletion([file, link]));
    expect(result.spared).toEqual([]);
    expect(result.deleted).toBe(2);
    expect(existsSync(file) || existsSync(link)).toBe(false);
  });
});

describe("upload: one remote name, one local file (adversary round 2, issue 11, A1)", () => {
  const id = (ino: number) => ({ dev: "1", ino: String(ino), size: 5000, mtimeNs: "1", ctimeNs: "1" });
  const item = (key: string, ino: number, destBase: string, rel: string): Item => ({
    key,
    files: [{ abs: `/x/${key}/${rel}`, root: `/x/${key}`, rel, remote: rel, destBase, id: id(ino) }],
    sets: [],
    newestMtimeMs: 0,
    immutable: false,
    fingerprint: key,
  });

  it("two different files bound for one remote name in a run: the later fails, saying with what it collides", () => {
    const store = openRecords(mkdtempSync(join(tmpdir(), "mp-records-")));
    const a = item("tv/anime/Show", 1, "tv/", "anime/Show/ep1.mkv");
    const b = item("tv/anime/Show (other source)", 2, "tv/anime/", "Show/ep1.mkv");
    const failures = new Map<Item, string>();
    refuseSharedRemoteNames([a, b], failures, store, new Set());
    expect([...failures.keys()]).toEqual([b]);
    expect(failures.get(b)).toMatch(/"tv\/anime\/Show\/ep1\.mkv" on the remote is also the name of "tv\/anime\/Show", a different file/);
  });

  it("two names of one file (a hard link in two sources) may share a remote name", () => {
    const store = openRecords(mkdtempSync(join(tmpdir(), "mp-records-")));
    const failures = new Map<Item, string>();
    refuseSharedRemoteNames([item("a", 7, "tv/", "x.mkv"), item("b", 7, "tv/", "x.mkv")], failures, store, new Set());
    expect(failures.size).toBe(0);
  });
});

describe("unar and lsar run without rclone's environment (adversary, issue 12)", () => {
  it("drops every RCLONE_* variable, the B2 key among them, and keeps the rest", () => {
    const env = archiverEnv({ PATH: "/usr/bin", LANG: "C.UTF-8", RCLONE_CONFIG_B2_KEY: "secret", RCLONE_CONFIG_B2_ACCOUNT: "id", RCLONE_RC_PASS: "pw" });
    expect(env).toEqual({ PATH: "/usr/bin", LANG: "C.UTF-8" });
  });
});
