/**
 * Archive sets and their extraction. `archiveSets` is pure and tested by tables; `extractSet` runs
 * the real unar and lsar (Debian package unar) on the repository fixtures and on zips written here
 * byte by byte, hostile ones included. A missing unar fails these tests, it does not skip them.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { execaSync } from "execa";
import { archiveSets, extractSet, isArchiveVolume, lsarBinary, unarBinary, type ArchiveSet } from "../../runtime/archives.ts";
import { requireTool } from "../helpers.ts";
import { fixture, oldStyleVolumes } from "./sandbox.ts";

const RAR = [".rar"];
const RAR_ZIP = [".zip", ".rar"];
const ALL = [".zip", ".rar", ".7z"];

const set = (first: string, ...rest: string[]): ArchiveSet => ({ first, volumes: [first, ...rest] });

/** Scratch folders of this file, removed at the end. */
const scratch: string[] = [];
const scratchDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe("isArchiveVolume", () => {
  it.each([
    ["x.rar", RAR, true],
    ["X.RAR", RAR, true],
    ["x.part1.rar", RAR, true],
    ["x.part02.rar", RAR, true],
    ["x.r00", RAR, true],
    ["x.R99", RAR, true],
    ["x.s00", RAR, true],
    ["x.t00", RAR, false],
    ["x.r0", RAR, false],
    ["x.zip", RAR, false],
    ["x.rar", [".zip"], false],
    ["x.r00", [".zip"], false],
    ["x.zip", RAR_ZIP, true],
    ["x.z01", RAR_ZIP, true],
    ["x.Z02", RAR_ZIP, true],
    ["x.zip.001", RAR_ZIP, true],
    ["x.7z", RAR_ZIP, false],
    ["x.7z.001", RAR_ZIP, false],
    ["x.7z", ALL, true],
    ["x.7z.002", ALL, true],
    ["x.rar.001", ALL, false],
    ["x.tar", [".tar"], true],
    ["movie.mkv", ALL, false],
    ["movie.rar.txt", ALL, false],
    ["readme.nfo", ALL, false],
    ["sub/dir/x.part1.rar", RAR, true],
  ] as const)("%s with %j: %s", (name, types, expected) => {
    expect(isArchiveVolume(name, types)).toBe(expected);
  });
});

describe("archiveSets", () => {
  it.each([
    ["a lone rar (a whole torrent)", ["x.rar"], RAR, [set("x.rar")], [], []],
    ["a lone zip (a whole torrent)", ["x.zip"], RAR_ZIP, [set("x.zip")], [], []],
    ["new naming, unpadded, with an nfo", ["a.part2.rar", "a.nfo", "a.part1.rar", "a.part3.rar"], RAR, [set("a.part1.rar", "a.part2.rar", "a.part3.rar")], ["a.nfo"], []],
    [
      "new naming, padded to two digits, in volume order",
      ["m.part10.rar", "m.part02.rar", "m.part01.rar", "m.part09.rar", "m.part11.rar"],
      RAR,
      [set("m.part01.rar", "m.part02.rar", "m.part09.rar", "m.part10.rar", "m.part11.rar")],
      [],
      [],
    ],
    ["new naming, padded to three digits", ["m.part002.rar", "m.part001.rar"], RAR, [set("m.part001.rar", "m.part002.rar")], [], []],
    ["mixed case", ["Movie.PART01.RAR", "movie.part02.rar", "MOVIE.Part03.Rar"], RAR, [set("Movie.PART01.RAR", "movie.part02.rar", "MOVIE.Part03.Rar")], [], []],
    // unar reads only the volumes whose number has the first volume's width.
    ["different widths are different sets", ["m.part1.rar", "m.part02.rar"], RAR, [set("m.part1.rar")], [], ["m.part02.rar"]],
    ["old naming, .r00 … .r99 then .s00", ["set.s00", "set.r01", "set.rar", "set.r99", "set.r00"], RAR, [set("set.rar", "set.r00", "set.r01", "set.r99", "set.s00")], [], []],
    ["old naming, mixed case", ["SET.RAR", "set.R00", "Set.r01"], RAR, [set("SET.RAR", "set.R00", "Set.r01")], [], []],
    ["a split zip: .zip first, then .z01 …", ["x.z02", "x.zip", "x.z01"], RAR_ZIP, [set("x.zip", "x.z01", "x.z02")], [], []],
    ["a zip split as .zip.001 …", ["x.zip.002", "x.zip.001"], RAR_ZIP, [set("x.zip.001", "x.zip.002")], [], []],
    ["a 7z", ["x.7z"], ALL, [set("x.7z")], [], []],
    ["a 7z split as .7z.001 …", ["x.7z.003", "x.7z.001", "x.7z.002"], ALL, [set("x.7z.001", "x.7z.002", "x.7z.003")], [], []],
    ["7z volumes are loose files when .7z is not a type", ["x.7z", "x.7z.001", "x.7z.002"], RAR_ZIP, [], ["x.7z", "x.7z.001", "x.7z.002"], []],
    [
      "two sets in one folder",
      ["b.part2.rar", "a.rar", "readme.txt", "a.r00", "b.part1.rar"],
      RAR,
      [set("a.rar", "a.r00"), set("b.part1.rar", "b.part2.rar")],
      ["readme.txt"],
      [],
    ],
    [
      "sets with the same name in subfolders",
      ["CD2/x.r00", "CD1/x.rar", "CD2/x.rar", "CD1/x.r00", "CD1/x.nfo"],
      RAR,
      [set("CD1/x.rar", "CD1/x.r00"), set("CD2/x.rar", "CD2/x.r00")],
      ["CD1/x.nfo"],
      [],
    ],
    ["a volume belongs to the first volume in its own folder only", ["A/x.rar", "a/x.r00"], RAR, [set("A/x.rar")], [], ["a/x.r00"]],
    [
      "old and new naming with one base are two sets",
      ["x.rar", "x.part1.rar", "x.part2.rar", "x.r00"],
      RAR,
      [set("x.part1.rar", "x.part2.rar"), set("x.rar", "x.r00")],
      [],
      [],
    ],
    [
      "loose files named like a set's base",
      ["movie.rar", "movie", "movie.nfo", "movie.part1", "movie.rar.txt", "movie.r0", "movie.r000"],
      RAR,
      [set("movie.rar")],
      ["movie", "movie.nfo", "movie.part1", "movie.rar.txt", "movie.r0", "movie.r000"],
      [],
    ],
    [
      "orphan volumes: later volumes without their first",
      ["x.part2.rar", "x.part3.rar", "y.r00", "z.z01", "w.7z.002", "v.zip.002", "keep.mkv"],
      ALL,
      [],
      ["keep.mkv"],
      ["x.part2.rar", "x.part3.rar", "y.r00", "z.z01", "w.7z.002", "v.zip.002"],
    ],
    ["types that are not listed leave their files loose", ["a.rar", "a.r00", "b.part1.rar", "c.zip"], [".zip"], [set("c.zip")], ["a.rar", "a.r00", "b.part1.rar"], []],
    ["no types: everything is loose", ["a.rar", "b.zip"], [], [], ["a.rar", "b.zip"], []],
    ["another type is one file", ["x.tar", "x.tar.gz"], [".tar"], [set("x.tar")], ["x.tar.gz"], []],
    // Linux allows both spellings side by side: each volume goes with the first volume spelled like it.
    ["first volumes that differ only in case", ["X.rar", "x.rar", "x.r00", "X.r00"], RAR, [set("X.rar", "X.r00"), set("x.rar", "x.r00")], [], []],
  ] as const)("%s", (_name, files, types, sets, loose, orphanVolumes) => {
    expect(archiveSets(files, types)).toEqual({ sets, loose, orphanVolumes });
  });

  it("puts every file in exactly one of sets, loose and orphanVolumes", () => {
    const files = ["a.rar", "a.r00", "a.r01", "b.part1.rar", "b.part2.rar", "c.part2.rar", "d.zip", "d.z01", "e.7z.001", "e.7z.002", "f.nfo", "sub/a.rar", "sub/a.r00"];
    const { sets, loose, orphanVolumes } = archiveSets(files, ALL);
    expect([...sets.flatMap((s) => s.volumes), ...loose, ...orphanVolumes].sort()).toEqual([...files].sort());
    for (const s of sets) expect(s.volumes[0]).toBe(s.first);
  });

  it("reads nothing from disk: the paths need not exist", () => {
    expect(archiveSets(["/nonexistent/x.rar", "/nonexistent/x.r00"], RAR).sets).toEqual([set("/nonexistent/x.rar", "/nonexistent/x.r00")]);
  });
});

describe("lsarBinary", () => {
  const saved = { unar: process.env.MEDIA_PIPELINE_UNAR, lsar: process.env.MEDIA_PIPELINE_LSAR };
  afterEach(() => restoreEnv(saved));

  it("is MEDIA_PIPELINE_LSAR, else the lsar beside unar, else lsar from PATH", () => {
    const dir = scratchDir("mp-lsar-");
    delete process.env.MEDIA_PIPELINE_LSAR;
    process.env.MEDIA_PIPELINE_UNAR = join(dir, "unar");
    expect(lsarBinary()).toBe("lsar");
    writeFileSync(join(dir, "lsar"), "");
    expect(lsarBinary()).toBe(join(dir, "lsar"));
    process.env.MEDIA_PIPELINE_LSAR = "/opt/lsar";
    expect(lsarBinary()).toBe("/opt/lsar");
    delete process.env.MEDIA_PIPELINE_LSAR;
    delete process.env.MEDIA_PIPELINE_UNAR;
    expect(unarBinary()).toBe("unar");
    expect(lsarBinary()).toBe("lsar");
  });
});

/** unar and lsar, both from the Debian package unar. */
function requireUnar(): void {
  for (const tool of ["unar", "lsar"]) {
    try {
      requireTool(tool);
    } catch {
      throw new Error(`${tool} is not installed; this test runs the real tool. Install it with: apt-get install unar`);
    }
  }
}

function restoreEnv(saved: { unar?: string; lsar?: string }): void {
  for (const [key, value] of [["MEDIA_PIPELINE_UNAR", saved.unar], ["MEDIA_PIPELINE_LSAR", saved.lsar]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

/** The bytes `(i * 7) % 251`, the content of the zip and 7z fixtures' data.bin. */
const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) % 251));
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Everything under `dir`, relative, folders with a trailing '/'. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => (statSync(join(dir, p)).isDirectory() ? `${p}/` : p))
    .sort();
}

/**
 * A stored zip written byte by byte, so an entry can carry any name and any Unix mode (a symbolic
 * link is mode 0o120777 with its target as data). No zip tool would write the hostile ones.
 */
function zip(entries: { name: string; data?: string | Buffer; mode?: number }[], madeBy: "unix" | "dos" = "unix"): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const data = Buffer.from(entry.data ?? "");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(((madeBy === "unix" ? 3 : 0) << 8) | 20, 4); // made by Unix, the mode counts; by DOS, a backslash separates folders
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(0x0800, 8);
    header.writeUInt16LE(0x21, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(data.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    header.writeUInt32LE(offset, 42);
    parts.push(local, name, data);
    central.push(header, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

interface Work {
  root: string;
  /** The downloaded item's folder. */
  item: string;
  /** Where sets are extracted, one folder each (as upload does: extractDir/<item>/<first volume>). */
  out: string;
  put(name: string, data: Buffer | string): string;
  copy(fixtureName: string, as?: string): string;
  /** archiveSets over the item's files, each set extracted into out/<first>. */
  extractAll(types: readonly string[]): Promise<{ sets: ArchiveSet[]; results: Awaited<ReturnType<typeof extractSet>>[] }>;
}

function work(): Work {
  const root = scratchDir("mp-archives-");
  const item = join(root, "completed", "Item");
  const out = join(root, "extracted", "Item");
  mkdirSync(item, { recursive: true });
  mkdirSync(join(root, "extracted"));
  const put = (name: string, data: Buffer | string) => {
    const path = join(item, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
    return path;
  };
  return {
    root,
    item,
    out,
    put,
    copy: (name, as = name) => put(as, readFileSync(fixture(name))),
    async extractAll(types) {
      const files = readdirSync(item, { recursive: true, encoding: "utf8" }).filter((p) => statSync(join(item, p)).isFile());
      const { sets } = archiveSets(files, types);
      const results = [];
      for (const s of sets) results.push(await extractSet(join(item, s.first), join(out, s.first)));
      return { sets, results };
    },
  };
}

/** A failed extraction: one line naming the archive, and nothing left in the extract folder. */
function expectFailedCleanly(w: Work, result: { ok: boolean; message: string }, archiveName: string, reason: RegExp): void {
  expect(result.ok, result.message).toBe(false);
  expect(result.message).not.toContain("\n");
  expect(result.message.startsWith(`${archiveName}: `), result.message).toBe(true);
  expect(result.message).toMatch(reason);
  expect(tree(join(w.root, "extracted"))).toEqual([]);
}

describe("extractSet with the real unar", () => {
  const saved = { unar: process.env.MEDIA_PIPELINE_UNAR, lsar: process.env.MEDIA_PIPELINE_LSAR };
  beforeEach(() => requireUnar());
  afterEach(() => restoreEnv(saved));

  it("extracts a RAR4 archive with a folder, and the compressed RAR5 fixture", async () => {
    const w = work();
    w.copy("rar4-nolink.rar", "release.rar");
    w.copy("rar5-compressed.rar", "other.rar");
    const { sets, results } = await w.extractAll(RAR);
    expect(sets.map((s) => s.first)).toEqual(["other.rar", "release.rar"]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(tree(join(w.out, "release.rar"))).toEqual(["test.txt", "testdir/", "testdir/test.txt", "testemptydir/"]);
    expect(readFileSync(join(w.out, "release.rar", "testdir", "test.txt"), "latin1")).toBe("test text document\r\n");
    const bin = readFileSync(join(w.out, "other.rar", "test.bin"));
    expect(Array.from({ length: 300 }, (_, i) => bin.readUInt32LE(i * 4))).toEqual(Array.from({ length: 300 }, (_, i) => Math.max(0, i * i - i - 1)));
    expect(results[1]!.message).toBe("2 files extracted");
    // Only the targets: no staging folder is left beside them.
    expect(readdirSync(w.out).sort()).toEqual(["other.rar", "release.rar"]);
  });

  it("a file merely named like a later volume is not among the set's volumes (it is not in the archive)", async () => {
    const w = work();
    w.copy("rar4-nolink.rar", "Some.Release.rar");
    w.put("Some.Release.r00", "unrelated bytes, not a volume");
    const { sets, results } = await w.extractAll(RAR);
    expect(sets[0]!.volumes).toEqual(["Some.Release.rar", "Some.Release.r00"]);
    expect(results[0]!.ok).toBe(true);
    expect(results[0]!.volumes.map((v) => basename(v))).toEqual(["Some.Release.rar"]);
  });

  it("refuses a split zip whose middle volume was overwritten: lsar lists and unar extracts the rest without an error", async () => {
    const w = work();
    for (const name of ["zip-split.zip", "zip-split.z01", "zip-split.z02"]) w.copy(name);
    const size = statSync(join(w.item, "zip-split.z01")).size;
    w.put("zip-split.z01", Buffer.alloc(size, 0x2c));
    const { results } = await w.extractAll([".zip"]);
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.message).toMatch(/its entries take [0-9]+ of its volumes' [0-9]+ bytes/);
  });

  it("refuses an archive with two entries of one name (one would overwrite the other)", async () => {
    const w = work();
    const zip = w.put("dup.zip", "");
    execaSync("python3", ["-c", "import zipfile,sys,warnings; warnings.simplefilter('ignore'); z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('a.txt','first'); z.writestr('a.txt','second'); z.close()", zip]);
    const { results } = await w.extractAll([".zip"]);
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.message).toContain("entries with the same name");
  });

  it.each([
    ["new naming", ["Movie.part1.rar", "Movie.part2.rar", "Movie.part3.rar"]],
    ["new naming, padded and upper case", ["Movie.PART001.RAR", "Movie.PART002.RAR", "Movie.PART003.RAR"]],
  ])("extracts a multi-volume set in %s from its first volume", async (_style, names) => {
    const w = work();
    names.forEach((name, i) => w.copy(`multivolume.part${i + 1}.rar`, name));
    const { sets, results } = await w.extractAll(RAR);
    expect(sets).toEqual([{ first: names[0], volumes: names }]);
    expect(results[0]).toMatchObject({ ok: true, message: "1 file extracted" });
    // The volumes unar read, as lsar names them: what the extracted file covers.
    expect(results[0]!.volumes.map((v) => basename(v))).toEqual(names);
    expect(sha256(readFileSync(join(w.out, names[0]!, "LibarchiveAddingTest.html")))).toBe("ee16390e87152d7dec632ae2b37566da6135966e46b5166e6f40a1c827fa61ad");
  });

  it.each([
    ["set.rar, set.r00, set.r01", ["set.rar", "set.r00", "set.r01"]],
    // unar goes on from .r99 to .s00; with three volumes, .s00 can stand in for the third.
    ["set.rar, set.r00, set.s00", ["set.rar", "set.r00", "set.s00"]],
    ["SET.RAR, SET.R00, SET.R01", ["SET.RAR", "SET.R00", "SET.R01"]],
  ])("extracts an old-style multi-volume set: %s", async (_names, names) => {
    const w = work();
    oldStyleVolumes().forEach((v, i) => w.put(names[i]!, v.data));
    const { sets, results } = await w.extractAll(RAR);
    expect(sets).toEqual([{ first: names[0], volumes: names }]);
    expect(results[0]!.ok, results[0]!.message).toBe(true);
    expect(sha256(readFileSync(join(w.out, names[0]!, "LibarchiveAddingTest.html")))).toBe("ee16390e87152d7dec632ae2b37566da6135966e46b5166e6f40a1c827fa61ad");
  });

  it("extracts a split zip from its .zip, which holds the central directory", async () => {
    const w = work();
    for (const name of ["zip-split.zip", "zip-split.z01", "zip-split.z02"]) w.copy(name);
    const { sets, results } = await w.extractAll(RAR_ZIP);
    expect(sets).toEqual([set("zip-split.zip", "zip-split.z01", "zip-split.z02")]);
    expect(results[0]!.ok, results[0]!.message).toBe(true);
    expect(readFileSync(join(w.out, "zip-split.zip", "data.bin")).equals(pattern(140000))).toBe(true);
    expect(readFileSync(join(w.out, "zip-split.zip", "readme.txt"), "utf8")).toBe("split zip readme\n");
  });

  it("extracts a 7z and a split 7z when .7z is a type", async () => {
    const w = work();
    w.copy("7z-simple.7z");
    for (const n of [1, 2, 3, 4]) w.copy(`7z-split.7z.00${n}`);
    const { sets, results } = await w.extractAll(ALL);
    expect(sets).toEqual([set("7z-simple.7z"), set("7z-split.7z.001", "7z-split.7z.002", "7z-split.7z.003", "7z-split.7z.004")]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(readFileSync(join(w.out, "7z-simple.7z", "readme.txt"), "utf8")).toBe("7z readme\n");
    expect(readFileSync(join(w.out, "7z-simple.7z", "data.bin")).equals(pattern(3000))).toBe(true);
    expect(tree(join(w.out, "7z-split.7z.001"))).toEqual(["data.bin"]);
    expect(readFileSync(join(w.out, "7z-split.7z.001", "data.bin")).equals(pattern(3000))).toBe(true);
  });

  it("extracts a torrent that is a single archive file", async () => {
    const w = work();
    const completed = dirname(w.item);
    copyFileSync(fixture("rar4-nolink.rar"), join(completed, "Some.Release.rar"));
    writeFileSync(join(completed, "Other.Release.zip"), zip([{ name: "Other/episode.mkv", data: "video" }]));
    const { sets } = archiveSets(["Some.Release.rar", "Other.Release.zip"], RAR_ZIP);
    for (const s of sets) expect(await extractSet(join(completed, s.first), join(w.root, "extracted", s.first))).toMatchObject({ ok: true });
    expect(tree(join(w.root, "extracted"))).toEqual([
      "Other.Release.zip/",
      "Other.Release.zip/Other/",
      "Other.Release.zip/Other/episode.mkv",
      "Some.Release.rar/",
      "Some.Release.rar/test.txt",
      "Some.Release.rar/testdir/",
      "Some.Release.rar/testdir/test.txt",
      "Some.Release.rar/testemptydir/",
    ]);
  });

  it("extracts each set into its own folder: archives holding the same file name do not overwrite each other", async () => {
    const w = work();
    w.put("a.zip", zip([{ name: "readme.txt", data: "from a.zip" }]));
    w.put("b.zip", zip([{ name: "readme.txt", data: "from b.zip" }]));
    w.copy("rar4-nolink.rar", "CD1/x.rar");
    w.put("CD2/x.rar", readFileSync(fixture("rar4-nolink.rar")));
    oldStyleVolumes().forEach((v, i) => w.put(["m.rar", "m.r00", "m.r01"][i]!, v.data));
    for (const n of [1, 2, 3]) w.copy(`multivolume.part${n}.rar`, `m.part${n}.rar`);
    w.put("readme.txt", "the item's own");
    const { sets, results } = await w.extractAll(RAR_ZIP);
    expect(sets.map((s) => s.first)).toEqual(["CD1/x.rar", "CD2/x.rar", "a.zip", "b.zip", "m.part1.rar", "m.rar"]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(readFileSync(join(w.out, "a.zip", "readme.txt"), "utf8")).toBe("from a.zip");
    expect(readFileSync(join(w.out, "b.zip", "readme.txt"), "utf8")).toBe("from b.zip");
    expect(tree(join(w.out, "CD1/x.rar"))).toEqual(tree(join(w.out, "CD2/x.rar")));
    expect(readFileSync(join(w.out, "m.rar", "LibarchiveAddingTest.html")).equals(readFileSync(join(w.out, "m.part1.rar", "LibarchiveAddingTest.html")))).toBe(true);
    expect(readFileSync(join(w.item, "readme.txt"), "utf8")).toBe("the item's own");
  });

  it("replaces an existing target, and removes a staging folder left by a killed run", async () => {
    const w = work();
    const archive = w.copy("rar4-nolink.rar", "x.rar");
    const target = join(w.out, "x.rar");
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, "stale.txt"), "from an earlier run");
    mkdirSync(join(w.out, ".x.rar.partial", "half"), { recursive: true });
    expect(await extractSet(archive, target)).toMatchObject({ ok: true });
    expect(tree(w.out)).toEqual(["x.rar/", "x.rar/test.txt", "x.rar/testdir/", "x.rar/testdir/test.txt", "x.rar/testemptydir/"]);
  });

  it("leaves an existing target as it was when the extraction fails", async () => {
    const w = work();
    const archive = w.copy("rar5-corrupt.rar", "x.rar");
    const target = join(w.out, "x.rar");
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, "earlier.txt"), "from an earlier run");
    expect(await extractSet(archive, target)).toMatchObject({ ok: false });
    expect(tree(w.out)).toEqual(["x.rar/", "x.rar/earlier.txt"]);
  });

  it.each([
    ["an encrypted RAR4", "rar4-encrypted.rar", /^x: encrypted \("b\.txt"\): it needs a password, which is never given$/],
    ["an encrypted zip", "zip-encrypted.zip", /^x: encrypted \("secret\.txt"\): it needs a password, which is never given$/],
  ])("refuses %s at once, before unar writes anything", async (_kind, name, reason) => {
    const w = work();
    const archive = w.copy(name, "x");
    const started = Date.now();
    const result = await extractSet(archive, join(w.out, "x"));
    expect(Date.now() - started).toBeLessThan(3000);
    expectFailedCleanly(w, result, "x", reason);
  });

  it.each([
    ["an encrypted RAR4", "rar4-encrypted.rar"],
    ["an encrypted zip", "zip-encrypted.zip"],
  ])("when the listing misses it, unar itself fails on %s at once (stdin closed, no password prompt) and its partial output is removed", async (_kind, name) => {
    const w = work();
    process.env.MEDIA_PIPELINE_LSAR = fakeLsar(w.root);
    const archive = w.copy(name, "x.rar");
    const started = Date.now();
    const result = await extractSet(archive, join(w.out, "x.rar"));
    expect(Date.now() - started).toBeLessThan(3000);
    expectFailedCleanly(w, result, "x.rar", /^x\.rar: unar failed \(exit 2\): This archive requires a password to unpack\. Use the -p option to provide one\.$/);
  });

  it.each([
    ["a corrupt RAR5", (w: Work) => w.copy("rar5-corrupt.rar", "x.rar"), /unar failed \(exit 1\): bad_tables\.txt \(64 B\)\.\.\. Failed! \(Unknown error\); Archive parsing failed!/],
    ["a truncated RAR5", (w: Work) => w.put("x.rar", readFileSync(fixture("rar5-compressed.rar")).subarray(0, 300)), /unar failed \(exit 1\): test\.bin .*Failed!/],
    [
      "a multi-volume set missing its middle volume",
      (w: Work) => {
        w.copy("multivolume.part3.rar", "m.part3.rar");
        return w.copy("multivolume.part1.rar", "m.part1.rar");
      },
      /unar failed \(exit 1\): LibarchiveAddingTest\.html \(20111 B\)\.\.\. Failed! \(Wrong checksum\)$/,
    ],
    [
      "a split zip missing a part",
      (w: Work) => {
        w.copy("zip-split.z02");
        return w.copy("zip-split.zip");
      },
      /unar failed \(exit 1\): Archive parsing failed!/,
    ],
    ["a file that is no archive", (w: Work) => w.put("x.rar", "not an archive"), /unar failed \(exit 1\): Couldn't recognize the archive format\.$/],
    ["an empty file", (w: Work) => w.put("x.zip", ""), /unar failed \(exit 1\): Couldn't recognize the archive format\.$/],
  ])("fails on %s with unar's reason, and leaves nothing", async (_kind, make, reason) => {
    const w = work();
    const archive = make(w);
    const name = relative(w.item, archive);
    const result = await extractSet(archive, join(w.out, name));
    expectFailedCleanly(w, result, name, reason);
  });

  it.each([
    ["cannot be run", () => "/nonexistent/lsar", /^x\.rar: cannot run \/nonexistent\/lsar: spawn .* ENOENT; lsar comes with unar and checks an archive before it is extracted$/],
    [
      "fails, though unar then succeeds",
      (root: string) => fakeLsar(root, `echo '{"lsarFormatVersion": 2, "lsarError": 2, "lsarContents": []}'; exit 1`),
      /^x\.rar: lsar could not list it all \(exit 1, error 2\), though unar did not fail; an archive that cannot be checked is not extracted$/,
    ],
    ["prints no listing", (root: string) => fakeLsar(root, "echo garbage"), /^x\.rar: lsar printed no listing \(exit 0\), though unar did not fail/],
  ])("does not extract an archive whose listing %s, and leaves nothing", async (_kind, lsar, reason) => {
    const w = work();
    process.env.MEDIA_PIPELINE_LSAR = lsar(w.root);
    const archive = w.copy("rar4-nolink.rar", "x.rar");
    expectFailedCleanly(w, await extractSet(archive, join(w.out, "x.rar")), "x.rar", reason);
  });

  it("gives its reason on one line even for an archive whose name has a line break", async () => {
    const w = work();
    const archive = w.put("bad\nname.rar", "not an archive");
    const result = await extractSet(archive, join(w.out, "bad\nname.rar"));
    expectFailedCleanly(w, result, "bad⏎name.rar", /Couldn't recognize the archive format/);
  });

  it("fails when unar cannot be run, and leaves nothing", async () => {
    const w = work();
    process.env.MEDIA_PIPELINE_UNAR = join(w.root, "no-such-unar");
    const archive = w.copy("rar4-nolink.rar", "x.rar");
    expectFailedCleanly(w, await extractSet(archive, join(w.out, "x.rar")), "x.rar", /cannot run .*no-such-unar: spawn .* ENOENT/);
  });
});

/** A stand-in for lsar; by default it lists nothing, like a listing that misses what unar then meets. */
function fakeLsar(root: string, script = `echo '{"lsarFormatVersion": 2, "lsarContents": []}'`): string {
  const path = join(root, "fake-lsar");
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A stand-in for unar that writes `script` (sh, with $out the output folder) and exits 0, to check what is done with its output. */
function fakeUnar(root: string, script: string): string {
  const path = join(root, "fake-unar");
  writeFileSync(path, `#!/bin/sh\nwhile [ $# -gt 1 ]; do [ "$1" = -o ] && out=$2; shift; done\necho real > "$out/real.txt"\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe("extractSet refuses what could point outside the target", () => {
  const saved = { unar: process.env.MEDIA_PIPELINE_UNAR, lsar: process.env.MEDIA_PIPELINE_LSAR };
  beforeEach(() => requireUnar());
  afterEach(() => restoreEnv(saved));

  it.each([
    ["../evil.txt", "../evil.txt"],
    ["a/../../evil.txt", "a/../../evil.txt"],
    ["an absolute path", "/tmp/mp-archives-evil.txt"],
  ])("refuses an entry named %s, before anything is written", async (_kind, entry) => {
    const w = work();
    const archive = w.put("x.zip", zip([{ name: "ok.txt", data: "ok" }, { name: entry, data: "evil" }]));
    const result = await extractSet(archive, join(w.out, "x.zip"));
    expectFailedCleanly(w, result, "x.zip", new RegExp(`^x\\.zip: holds an entry that points outside its folder \\(${JSON.stringify(entry).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\); such an archive is refused$`));
    expect(existsSync("/tmp/mp-archives-evil.txt")).toBe(false);
    expect(tree(w.root).filter((p) => p.includes("evil"))).toEqual([]);
  });

  it("refuses ..\\evil.txt from a zip made on DOS/Windows, where '\\' separates folders", async () => {
    const w = work();
    const archive = w.put("x.zip", zip([{ name: "..\\evil.txt", data: "evil" }], "dos"));
    expectFailedCleanly(w, await extractSet(archive, join(w.out, "x.zip")), "x.zip", /^x\.zip: holds an entry that points outside its folder \("\.\.\/evil\.txt"\)/);
  });

  it("unar itself keeps such entries inside the target (as __Parent__/ and without the leading /), so even an unchecked archive writes nothing outside", async () => {
    const w = work();
    process.env.MEDIA_PIPELINE_LSAR = fakeLsar(w.root);
    const archive = w.put("x.zip", zip([{ name: "../evil.txt", data: "evil" }, { name: "/tmp/mp-archives-evil.txt", data: "evil" }]));
    expect(await extractSet(archive, join(w.out, "x.zip"))).toMatchObject({ ok: true });
    expect(tree(w.out)).toEqual(["x.zip/", "x.zip/__Parent__/", "x.zip/__Parent__/evil.txt", "x.zip/tmp/", "x.zip/tmp/mp-archives-evil.txt"]);
    expect(tree(w.root).filter((p) => p.includes("evil") && !p.startsWith("extracted/"))).toEqual([]);
    expect(existsSync("/tmp/mp-archives-evil.txt")).toBe(false);
  });

  type Entry = { name: string; data?: string; mode?: number };
  it.each<[string, Entry[], RegExp]>([
    ["a symbolic link to an absolute path", [{ name: "link", data: "/etc/passwd", mode: 0o120777 }, { name: "ok.txt", data: "ok" }], /^x\.zip: holds a symbolic link \("link"\)/],
    ["a symbolic link to a folder, then a file through it", [{ name: "link", data: "OUTSIDE", mode: 0o120777 }, { name: "link/through.txt", data: "through" }], /^x\.zip: holds a symbolic link \("link"\)/],
    ["a FIFO", [{ name: "fifo", mode: 0o010644 }], /^x\.zip: holds a FIFO \("fifo"\)/],
    ["a character device", [{ name: "null", mode: 0o020644 }], /^x\.zip: holds a device \("null"\)/],
  ])("refuses an archive holding %s, before anything is written", async (_kind, entries, reason) => {
    const w = work();
    const outside = join(w.root, "outside");
    mkdirSync(outside);
    const archive = w.put("x.zip", zip(entries.map((e) => ({ ...e, data: e.data === "OUTSIDE" ? outside : e.data }))));
    expectFailedCleanly(w, await extractSet(archive, join(w.out, "x.zip")), "x.zip", reason);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("refuses the rar4-simple fixture, whose testlink is a symbolic link", async () => {
    const w = work();
    const archive = w.copy("rar4-simple.rar", "x.rar");
    expectFailedCleanly(w, await extractSet(archive, join(w.out, "x.rar")), "x.rar", /^x\.rar: holds a symbolic link \("testlink"\); only regular files and folders are extracted$/);
  });

  it("when the listing misses a symbolic link, the check of what unar wrote refuses it", async () => {
    const w = work();
    process.env.MEDIA_PIPELINE_LSAR = fakeLsar(w.root);
    const archive = w.put("x.zip", zip([{ name: "ok.txt", data: "ok" }, { name: "link", data: "/etc/passwd", mode: 0o120777 }]));
    expectFailedCleanly(w, await extractSet(archive, join(w.out, "x.zip")), "x.zip", /^x\.zip: unar produced a symbolic link \("link"\); only regular files and folders are extracted$/);
  });

  it.each([
    ["a FIFO", `mkfifo "$out/sub/fifo"`, /unar produced a FIFO \("sub\/fifo"\)/],
    ["a symbolic link", `ln -s /etc "$out/sub/etc"`, /unar produced a symbolic link \("sub\/etc"\)/],
    ["a hard link to a file outside", `ln "$OUTSIDE_FILE" "$out/sub/hard"`, /unar produced a hard link \("sub\/(hard)"\)/],
  ])("refuses %s in unar's output, and leaves nothing", async (_kind, script, reason) => {
    const w = work();
    const outsideFile = join(w.root, "outside.txt");
    writeFileSync(outsideFile, "secret");
    process.env.MEDIA_PIPELINE_UNAR = fakeUnar(w.root, `OUTSIDE_FILE=${JSON.stringify(outsideFile)}\nmkdir "$out/sub"\n${script}`);
    const archive = w.copy("rar4-nolink.rar", "x.rar");
    expectFailedCleanly(w, await extractSet(archive, join(w.out, "x.rar")), "x.rar", reason);
    expect(readFileSync(outsideFile, "utf8")).toBe("secret");
  });

  it("refuses a device in unar's output", async (ctx) => {
    const w = work();
    // Making a device needs root (CAP_MKNOD); elsewhere this case cannot be set up.
    const probe = execaSync("mknod", [join(w.root, "probe"), "c", "1", "3"], { reject: false });
    if (probe.exitCode !== 0) ctx.skip();
    process.env.MEDIA_PIPELINE_UNAR = fakeUnar(w.root, `mknod "$out/null" c 1 3`);
    const archive = w.copy("rar4-nolink.rar", "x.rar");
    expectFailedCleanly(w, await extractSet(archive, join(w.out, "x.rar")), "x.rar", /unar produced a device \("null"\)/);
  });

  it("removes a read-only folder from unar's output when the set fails", async () => {
    const w = work();
    process.env.MEDIA_PIPELINE_UNAR = fakeUnar(w.root, `mkdir "$out/ro"\necho x > "$out/ro/f"\nln -s /etc "$out/ro/link"\nchmod 0500 "$out/ro"`);
    const archive = w.copy("rar4-nolink.rar", "x.rar");
    expectFailedCleanly(w, await extractSet(archive, join(w.out, "x.rar")), "x.rar", /unar produced a symbolic link \("ro\/link"\)/);
  });
});
