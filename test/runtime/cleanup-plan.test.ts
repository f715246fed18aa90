/**
 * The cleanup plan (runtime/cleanup/plan.ts) is a pure function: these tables give it an observation
 * and want a decision, with no process, no disk and no clock. Each row is one rule of the invariant
 * stated in the docs. The observations are hand-made, so what qBittorrent really reports (states,
 * paths) is checked separately against the real programs in test/runtime/qbittorrent-behaviour.test.ts
 * and end to end in test/runtime/cleanup-safety.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { Observation, ObservedTorrent } from "../../runtime/cleanup/observe.ts";
import { plan, type PlanSettings } from "../../runtime/cleanup/plan.ts";
import { verifyDeletion } from "../../runtime/cleanup/verify.ts";
import type { FileIdentity, UploadRecord } from "../../runtime/records.ts";

const C = "/srv/completed";
const TV = "/srv/tv";
const DAY = 86_400;
const settings: PlanSettings = { seedingPeriodSeconds: 7 * DAY, orphanGraceSeconds: DAY, maxDeletionsPerRun: 50 };
const NOW = Date.parse("2026-11-26T12:00:00Z");

let nextIno = 100;
const id = (size = 10, ino = nextIno++): FileIdentity => ({ dev: "1", ino: String(ino), size, mtimeNs: "1000", ctimeNs: "1000" });
const key = (f: FileIdentity) => `${f.dev}:${f.ino}`;
const record = (f: FileIdentity, remotePath: string, extra: Partial<UploadRecord> = {}): [string, UploadRecord] => [
  key(f),
  { size: f.size, mtimeNs: f.mtimeNs, ctimeNs: f.ctimeNs, paths: [], kind: "file", copies: [{ remotePath, size: f.size, sha1: "ab".repeat(20) }], uploadedAt: "2026-11-01T00:00:00Z", ...extra },
];

function torrent(name: string, files: { name: string; id?: FileIdentity; priority?: number }[], over: Partial<ObservedTorrent> = {}): ObservedTorrent {
  return {
    hash: `${name.length}`.padStart(40, "a").slice(0, 40),
    name,
    state: "stalledUP",
    class: "due",
    seedingSeconds: 8 * DAY,
    files: files.map((f) => ({ name: f.name, priority: f.priority ?? 1, paths: [`${C}/${f.name}`], ...(f.id ? { id: f.id } : {}) })),
    ...over,
  };
}

function obs(parts: Partial<Observation>): Observation {
  return {
    now: NOW,
    roots: { completed: C, libraries: [TV], kept: [C, TV, `${C}/tv`], skipped: ["/srv/downloading"] },
    torrents: [],
    local: [],
    records: new Map(),
    sightings: new Map(),
    ...parts,
  };
}

describe("plan: torrents", () => {
  it("removes a due torrent whose every file is recorded, with its library hard link", () => {
    const ep = id();
    const t = torrent("Show.S01", [{ name: "Show.S01/e1.mkv", id: ep }]);
    const p = plan(obs({ torrents: [t], local: [{ path: `${C}/Show.S01/e1.mkv`, id: ep }, { path: `${TV}/Show/e1.mkv`, id: ep }], records: new Map([record(ep, "tv/Show/e1.mkv")]) }), settings);
    expect(p.deletions).toHaveLength(1);
    expect(p.deletions[0]!.files.map((f) => f.path).sort()).toEqual([`${C}/Show.S01/e1.mkv`, `${TV}/Show/e1.mkv`]);
    expect(p.deletions[0]!.needs.map((n) => n.remotePath)).toEqual(["tv/Show/e1.mkv"]);
  });

  it.each([
    ["seeding", { class: "seeding" as const, seedingSeconds: DAY }],
    ["downloading", { class: "downloading" as const }],
    ["checking", { class: "unsettled" as const, state: "checkingUP" }],
    ["fetching metadata", { class: "unsettled" as const, state: "metaDL" }],
  ])("keeps a torrent that is %s", (_, over) => {
    const ep = id();
    const t = torrent("X", [{ name: "X/a.mkv", id: ep }], over);
    expect(plan(obs({ torrents: [t], local: [{ path: `${C}/X/a.mkv`, id: ep }], records: new Map([record(ep, "downloads/X/a.mkv")]) }), settings).deletions).toEqual([]);
  });

  it.each([
    ["has no record (a sample named like media, an .nfo: nothing is exempt by name)", (f: FileIdentity) => new Map<string, UploadRecord>([]), "has no upload record"],
    ["changed since its upload (same inode, new size)", (f: FileIdentity) => new Map([record({ ...f, size: f.size + 1 }, "downloads/X/a.mkv")]), "changed since it was uploaded"],
    ["was recorded without a remote hash", (f: FileIdentity) => new Map([record(f, "downloads/X/a.mkv", { copies: [{ remotePath: "downloads/X/a.mkv", size: f.size, sha1: null }] })]), "no SHA-1"],
  ])("keeps a due torrent with a file that %s", (_, records, reason) => {
    const a = id();
    const b = id();
    const t = torrent("X", [{ name: "X/Free.Sample.2021.1080p.mkv", id: a }, { name: "X/b.mkv", id: b }]);
    const p = plan(obs({ torrents: [t], local: [{ path: `${C}/X/Free.Sample.2021.1080p.mkv`, id: a }, { path: `${C}/X/b.mkv`, id: b }], records: new Map([...records(a), record(b, "downloads/X/b.mkv")]) }), settings);
    expect(p.deletions).toEqual([]);
    expect(p.kept[0]!.reason).toContain(reason);
  });

  it("a record vouches for the inode, not the name: a new file with an old name is not covered", () => {
    const old = id(10, 1);
    const replacement = id(10, 2);
    const t = torrent("X", [{ name: "X/a.rar", id: replacement }]);
    const p = plan(obs({ torrents: [t], local: [{ path: `${C}/X/a.rar`, id: replacement }], records: new Map([record(old, "downloads/X/a.rar", { paths: [`${C}/X/a.rar`] })]) }), settings);
    expect(p.deletions).toEqual([]);
  });

  it("keeps a file another remaining torrent lists (a cross-seed) but removes the due one", () => {
    const shared = id();
    const extra = id();
    const due = torrent("A", [{ name: "Pack/a.mkv", id: shared }]);
    const seeding = { ...torrent("B", [{ name: "Pack/a.mkv", id: shared }, { name: "Pack/extra.mkv", id: extra }]), hash: "b".repeat(40), class: "seeding" as const };
    const p = plan(obs({ torrents: [due, seeding], local: [{ path: `${C}/Pack/a.mkv`, id: shared }, { path: `${C}/Pack/extra.mkv`, id: extra }], records: new Map([record(shared, "downloads/Pack/a.mkv")]) }), settings);
    expect(p.deletions).toHaveLength(1);
    expect(p.deletions[0]!.files.map((f) => f.path)).toEqual([`${C}/Pack/a.mkv`]);
    expect(p.listedBy.get(key(shared))).toContain("b".repeat(40));
    expect(p.deletions[0]!.files.map((f) => f.path)).not.toContain(`${C}/Pack/extra.mkv`);
  });

  it("keeps a file a moving cross-seed still has at its old place (4.5 reports the new save path while the files move)", () => {
    const shared = id();
    const due = torrent("A", [{ name: "Pack/a.mkv", id: shared }]);
    // Its first path (the new save path) holds nothing yet; where content_path says, the file is.
    const moving = { ...torrent("B", [{ name: "Pack/a.mkv" }]), hash: "b".repeat(40), class: "unsettled" as const, state: "moving" };
    moving.files[0]!.paths = [`${C}/new/Pack/a.mkv`, `${C}/Pack/a.mkv`];
    const p = plan(obs({ torrents: [due, moving], local: [{ path: `${C}/Pack/a.mkv`, id: shared }], records: new Map([record(shared, "downloads/Pack/a.mkv")]) }), settings);
    expect(p.deletions).toHaveLength(1);
    expect(p.listedBy.get(key(shared))).toContain("b".repeat(40));
  });

  it("ignores an absent 'do not download' file but keeps a torrent whose wanted file is missing", () => {
    const a = id();
    const skipped = torrent("X", [{ name: "X/a.mkv", id: a }, { name: "X/skipped.mkv", priority: 0 }]);
    const missing = { ...torrent("Y", [{ name: "Y/a.mkv", id: a }, { name: "Y/gone.mkv" }]), hash: "c".repeat(40) };
    const records = new Map([record(a, "downloads/X/a.mkv")]);
    expect(plan(obs({ torrents: [skipped], local: [{ path: `${C}/X/a.mkv`, id: a }], records }), settings).deletions).toHaveLength(1);
    const p = plan(obs({ torrents: [missing], local: [{ path: `${C}/X/a.mkv`, id: a }], records }), settings);
    expect(p.deletions).toEqual([]);
    expect(p.kept[0]!.reason).toContain("missing on disk");
  });

  it("keeps a torrent with a file outside the completed folder", () => {
    const a = id();
    const t = { ...torrent("X", []), files: [{ name: "a.mkv", priority: 1, paths: ["/home/user/a.mkv"], id: a }] };
    const p = plan(obs({ torrents: [t], records: new Map([record(a, "downloads/a.mkv")]) }), settings);
    expect(p.deletions).toEqual([]);
    expect(p.kept[0]!.reason).toContain("outside the completed folder");
  });

  it("caps the deletions per run and says how many wait", () => {
    const torrents = [1, 2, 3].map((n) => {
      const f = id();
      return { t: { ...torrent(`T${n}`, [{ name: `T${n}/a`, id: f }]), hash: String(n).repeat(40) }, f };
    });
    const p = plan(obs({ torrents: torrents.map((x) => x.t), local: torrents.map((x) => ({ path: `${C}/${x.t.name}/a`, id: x.f })), records: new Map(torrents.map((x) => record(x.f, `downloads/${x.t.name}/a`))) }), { ...settings, maxDeletionsPerRun: 2 });
    expect(p.deletions).toHaveLength(2);
    expect(p.deferred).toBe(1);
  });
});

describe("plan: orphans", () => {
  const anchor = () => {
    const f = id();
    return { t: { ...torrent("Anchor", [{ name: "Anchor/x", id: f }]), class: "seeding" as const }, local: { path: `${C}/Anchor/x`, id: f } };
  };

  it("never deletes on first sighting; deletes after two runs a grace period apart, if recorded", () => {
    const a = anchor();
    const o = id();
    const local = [a.local, { path: `${TV}/Show/copy.mkv`, id: o }];
    const records = new Map([record(o, "tv/Show/copy.mkv")]);
    const first = plan(obs({ torrents: [a.t], local, records }), settings);
    expect(first.deletions).toEqual([]);
    expect(first.orphansWaiting).toBe(1);
    const soon = plan(obs({ now: NOW + 3600_000, torrents: [a.t], local, records, sightings: first.sightings }), settings);
    expect(soon.deletions).toEqual([]);
    const later = plan(obs({ now: NOW + 25 * 3600_000, torrents: [a.t], local, records, sightings: soon.sightings }), settings);
    expect(later.deletions.map((d) => d.label)).toEqual(["Show/copy.mkv"]);
  });

  it("waits a second run even with no grace period", () => {
    const a = anchor();
    const o = id();
    const local = [a.local, { path: `${TV}/Show/copy.mkv`, id: o }];
    const records = new Map([record(o, "tv/Show/copy.mkv")]);
    const noGrace = { ...settings, orphanGraceSeconds: 0 };
    const first = plan(obs({ torrents: [a.t], local, records }), noGrace);
    expect(first.deletions).toEqual([]);
    expect(plan(obs({ torrents: [a.t], local, records, sightings: first.sightings }), noGrace).deletions).toHaveLength(1);
  });

  it("a file a torrent lists by inode under another name (outside the walked folders) is not an orphan", () => {
    const a = anchor();
    const f = id();
    const t = { ...torrent("Elsewhere", []), class: "seeding" as const, hash: "9".repeat(40), files: [{ name: "e.mkv", priority: 1, paths: ["/elsewhere/e.mkv"], id: f }] };
    const sightings = new Map([[`${f.dev}:${f.ino}:${f.size}:${f.mtimeNs}`, { firstSeen: 0, runs: 9 }]]);
    const p = plan(obs({ torrents: [a.t, t], local: [a.local, { path: `${TV}/Show/e.mkv`, id: f }], records: new Map([record(f, "tv/Show/e.mkv")]), sightings }), settings);
    expect(p.deletions).toEqual([]);
  });

  it("an unreferenced file with no record is never deleted, however long", () => {
    const a = anchor();
    const o = id();
    const local = [a.local, { path: `${C}/Extra/file.mkv`, id: o }];
    const sightings = new Map([[`${o.dev}:${o.ino}:${o.size}:${o.mtimeNs}`, { firstSeen: NOW - 30 * DAY * 1000, runs: 50 }]]);
    const p = plan(obs({ torrents: [a.t], local, sightings }), settings);
    expect(p.deletions).toEqual([]);
    expect(p.kept[0]).toMatchObject({ kind: "orphan", waitingForUpload: true });
  });

  it.each([
    ["an empty session", () => [], "no torrents at all"],
    ["a magnet fetching metadata", () => [anchor().t, { ...torrent("M", []), class: "unsettled" as const, state: "metaDL", hash: "d".repeat(40) }], "metaDL"],
    ["a torrent being checked", () => [{ ...anchor().t, class: "unsettled" as const, state: "checkingUP" }], "checkingUP"],
    ["torrents none of which is under the watched folders", () => [{ ...anchor().t, files: [{ name: "x", priority: 1, paths: ["/elsewhere/x"] }] }], "another folder"],
  ])("judges no orphan and keeps the old sightings in a run with %s", (_, torrents, why) => {
    const o = id();
    const seen = new Map([[`${o.dev}:${o.ino}:${o.size}:${o.mtimeNs}`, { firstSeen: NOW - 30 * DAY * 1000, runs: 9 }]]);
    const p = plan(obs({ torrents: torrents(), local: [{ path: `${C}/Old/a.mkv`, id: o }], records: new Map([record(o, "downloads/Old/a.mkv")]), sightings: seen }), settings);
    expect(p.deletions).toEqual([]);
    expect(p.orphanScanSkipped).toContain(why);
    expect(p.sightings).toEqual(seen);
  });

  it("one listed hard link keeps every name of the file", () => {
    const a = anchor();
    const f = id();
    const t = { ...torrent("Keep", [{ name: "Keep/e.mkv", id: f }]), class: "seeding" as const, hash: "e".repeat(40) };
    const sightings = new Map([[`${f.dev}:${f.ino}:${f.size}:${f.mtimeNs}`, { firstSeen: 0, runs: 9 }]]);
    const p = plan(obs({ torrents: [a.t, t], local: [a.local, { path: `${C}/Keep/e.mkv`, id: f }, { path: `${TV}/Show/e.mkv`, id: f }], records: new Map([record(f, "tv/Show/e.mkv")]), sightings }), settings);
    expect(p.deletions).toEqual([]);
  });

  it("a file seen referenced again starts its wait over", () => {
    const a = anchor();
    const o = id();
    const local = [a.local, { path: `${C}/O/a`, id: o }];
    const first = plan(obs({ torrents: [a.t], local }), settings);
    const back = { ...torrent("O", [{ name: "O/a", id: o }]), class: "seeding" as const, hash: "f".repeat(40) };
    const referenced = plan(obs({ torrents: [a.t, back], local, sightings: first.sightings }), settings);
    expect(referenced.sightings.size).toBe(0);
  });
});

describe("verify", () => {
  const f = id(5);
  const d = { kind: "torrent" as const, label: "X", files: [], reason: "", needs: [{ remotePath: "downloads/X/a", size: 5, sha1: "ab".repeat(20) }] };
  it.each([
    ["matches", new Map([["downloads/X/a", { size: 5, sha1: "AB".repeat(20) }]]), undefined],
    ["is missing", new Map(), "missing on the remote"],
    ["has another size", new Map([["downloads/X/a", { size: 6, sha1: "ab".repeat(20) }]]), "6 bytes on the remote"],
    ["has the same size and another hash", new Map([["downloads/X/a", { size: 5, sha1: "cd".repeat(20) }]]), "another SHA-1"],
    ["lists no hash (size alone is not trusted)", new Map([["downloads/X/a", { size: 5 }]]), "no SHA-1"],
  ])("a remote copy that %s", (_, listing, problem) => {
    const result = verifyDeletion(d, listing);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toContain(problem);
    void f;
  });
});
