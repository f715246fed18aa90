/**
 * The runtime's state documents (runtime/state.ts, records.ts, attention.ts): written crash-safely,
 * read strictly, and never trusted beyond what they say. A crash is simulated with SIGKILL of a child
 * process that rewrites the document in a loop: whatever moment it dies, the document on disk is the
 * old one or the new one, whole.
 */
import { execa } from "execa";
import { linkSync, mkdtempSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Attention } from "../../runtime/attention.ts";
import { openRecords, readRecords, statIdentity, type UploadRecord } from "../../runtime/records.ts";
import { readState, StateError } from "../../runtime/state.ts";
import { ROOT } from "../helpers.ts";

const dir = () => mkdtempSync(join(tmpdir(), "mp-state-"));
const rec = (remotePath: string, size = 3): UploadRecord => ({ size, mtimeNs: "1", ctimeNs: "1", paths: [], kind: "file", copies: [{ remotePath, size, sha1: "ab".repeat(20) }], uploadedAt: "2026-11-26T00:00:00Z" });

describe("upload records", () => {
  it("are keyed by inode: a hard link shares the record, a new file with the old name has none", () => {
    const d = dir();
    const a = join(d, "a.mkv");
    writeFileSync(a, "one");
    linkSync(a, join(d, "link.mkv"));
    const store = openRecords(d);
    const id = statIdentity(a)!;
    store.put(id, { ...rec("tv/a.mkv"), mtimeNs: id.mtimeNs, ctimeNs: id.ctimeNs, paths: [a] });
    store.save();
    expect(openRecords(d).current(statIdentity(join(d, "link.mkv"))!)).toBeDefined();
    // Replaced under the same name (an upgrade, a re-added torrent): same name, same size, new inode.
    writeFileSync(join(d, "new"), "two");
    renameSync(join(d, "new"), a);
    expect(openRecords(d).current(statIdentity(a)!)).toBeUndefined();
  });

  it("a record does not vouch for the same inode once its size or modification time changed", () => {
    const d = dir();
    const a = join(d, "a");
    writeFileSync(a, "one");
    const store = openRecords(d);
    const id = statIdentity(a)!;
    store.put(id, { ...rec("x/a"), mtimeNs: id.mtimeNs, ctimeNs: id.ctimeNs });
    writeFileSync(a, "one more");
    expect(store.current(statIdentity(a)!)).toBeUndefined();
  });

  it("content rewritten in place with its size kept and its mtime restored (touch -r) no longer matches (the change time moved)", async () => {
    const d = dir();
    const a = join(d, "a");
    writeFileSync(a, "one");
    const store = openRecords(d);
    const id = statIdentity(a)!;
    store.put(id, { ...rec("x/a"), mtimeNs: id.mtimeNs, ctimeNs: id.ctimeNs });
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(a, "two");
    const ns = BigInt(id.mtimeNs);
    await execa("touch", ["-m", "-d", `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, "0")}`, a]);
    const now = statIdentity(a)!;
    expect([now.ino, now.size, now.mtimeNs]).toEqual([id.ino, id.size, id.mtimeNs]);
    expect(store.current(now)).toBeUndefined();
  });

  it("a damaged document is an error naming the file, never an empty store", () => {
    const d = dir();
    writeFileSync(join(d, "uploads.json"), "{ half");
    expect(() => readRecords(d)).toThrow(StateError);
    expect(() => readRecords(d)).toThrow(/uploads\.json is damaged/);
  });

  it("malformed records are dropped (they can only cause a re-upload), well-formed ones kept", () => {
    const d = dir();
    writeFileSync(join(d, "uploads.json"), JSON.stringify({ version: 1, records: { "1:2": rec("ok"), "1:3": { size: "x" }, "name.mkv": rec("bad key") } }));
    expect([...readRecords(d).keys()]).toEqual(["1:2"]);
  });

  it("survive SIGKILL at any moment of a rewrite: the document is always whole", async () => {
    const d = dir();
    const script = `
      import { openRecords } from ${JSON.stringify(join(ROOT, "runtime/records.ts"))};
      const store = openRecords(process.argv[2]);
      for (let i = 0; ; i++) {
        store.put({ dev: "1", ino: String(i % 500), size: i, mtimeNs: String(i), ctimeNs: String(i) }, { size: i, mtimeNs: String(i), ctimeNs: String(i), paths: ["/x/" + "y".repeat(200)], kind: "file", copies: [{ remotePath: "r/" + i, size: i, sha1: null }], uploadedAt: "t" });
        store.save();
      }`;
    writeFileSync(join(d, "writer.ts"), script);
    for (let round = 0; round < 8; round++) {
      const child = execa(process.execPath, ["--import", "tsx", join(d, "writer.ts"), d], { reject: false, cwd: ROOT });
      await new Promise((r) => setTimeout(r, 400 + round * 97));
      child.kill("SIGKILL");
      await child;
      const doc = readState(join(d, "uploads.json")) as { records: Record<string, unknown> } | undefined;
      if (doc) expect(Object.keys(doc.records).length).toBeGreaterThan(0);
      expect(() => readRecords(d)).not.toThrow();
    }
    // Leftover temporary files are never read as the document.
    expect(readdirSync(d).filter((n) => n === "uploads.json")).toHaveLength(1);
  }, 60_000);
});

describe("attention", () => {
  const now = new Date("2026-11-26T12:00:00Z");
  it("sets an item aside after the same failure N times, and lets it go when its files change", () => {
    const d = dir();
    const a = Attention.open(d);
    expect(a.failed("downloads/X", "downloads/X", "fp1", "unar: wrong password", now, 3).setAside).toBe(false);
    expect(a.failed("downloads/X", "downloads/X", "fp1", "unar: wrong password", now, 3).setAside).toBe(false);
    expect(a.failed("downloads/X", "downloads/X", "fp1", "unar: wrong password", now, 3).setAside).toBe(true);
    a.save();
    const again = Attention.open(d);
    expect(again.isSetAside("downloads/X", "fp1")).toBe(true);
    expect(again.isSetAside("downloads/X", "fp2")).toBe(false);
  });

  it("a different failure restarts the count", () => {
    const a = Attention.open(dir());
    a.failed("k", "k", "fp", "one", now, 2);
    expect(a.failed("k", "k", "fp", "two", now, 2).setAside).toBe(false);
    expect(a.failed("k", "k", "fp", "two", now, 2).setAside).toBe(true);
  });
});
