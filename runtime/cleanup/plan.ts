/**
 * Cleanup, step 2: plan. A pure function from an observation to the deletions cleanup may make, and
 * why everything else stays. No file system, no process, no clock: the tests give it small tables.
 *
 * The one rule, enforced here and re-checked by execute:
 *   a file is deleted only when that very file (device, inode, size and modification time as when it
 *   was uploaded) has an upload record, and every remote copy the record names still has the hash
 *   recorded then (verify.ts); folders are removed only when empty; nothing is exempt by name.
 * From it:
 *   - a torrent leaves qBittorrent only when it is due (complete, settled, seeded long enough) and
 *     every file it lists is covered; its files go with it, with their library hard links, except a
 *     file another remaining torrent lists;
 *   - a file no torrent lists (an orphan) is deleted only if it is covered itself, and only after it
 *     stayed unreferenced in at least two runs `orphanGraceSeconds` apart, counted only in runs whose
 *     qBittorrent answer is trustworthy (not empty, nothing checking, fetching metadata or moving).
 */
import { identityKey, recordMatches, type FileIdentity, type RemoteCopy, type UploadRecord } from "../records.ts";
import type { LocalFile } from "../files.ts";
import type { Observation, ObservedTorrent } from "./observe.ts";
import type { Sighting } from "./sightings.ts";

export interface PlanSettings {
  seedingPeriodSeconds: number;
  orphanGraceSeconds: number;
  maxDeletionsPerRun: number;
}

export interface DoomedFile {
  path: string;
  id: FileIdentity;
}

export interface Deletion {
  kind: "torrent" | "orphan";
  /** The torrent's name, or the orphan's path relative to its root. */
  label: string;
  torrent?: { hash: string; name: string };
  files: DoomedFile[];
  /** Every remote copy that must still match before anything of this deletion goes. */
  needs: RemoteCopy[];
  reason: string;
}

export interface Kept {
  kind: "torrent" | "orphan";
  label: string;
  reason: string;
  /** Not on the remote yet (upload will get to it), as opposed to a problem someone should look at. */
  waitingForUpload: boolean;
}

export interface Plan {
  deletions: Deletion[];
  /** Due deletions beyond this run's cap: they wait for the next run. */
  deferred: number;
  kept: Kept[];
  seeding: number;
  /** Unreferenced files still inside their grace period. */
  orphansWaiting: number;
  /** Why no file was judged an orphan this run, if none was. */
  orphanScanSkipped?: string;
  /** The sightings to store for the next run. */
  sightings: Map<string, Sighting>;
  /** For each identity, the torrents that list it: execute keeps a file while one of them remains. */
  listedBy: Map<string, string[]>;
}

/** Why `id` is not covered by an upload record, or the remote copies that cover it. */
export function coverage(records: ReadonlyMap<string, UploadRecord>, id: FileIdentity): { copies: RemoteCopy[] } | { missing: string; waitingForUpload: boolean } {
  const record = records.get(identityKey(id));
  if (!record) return { missing: "has no upload record", waitingForUpload: true };
  if (!recordMatches(record, id)) return { missing: "changed since it was uploaded (its size, modification or change time differ)", waitingForUpload: true };
  if (record.copies.length === 0) return { missing: "its upload record names no remote copy", waitingForUpload: false };
  const unhashed = record.copies.find((c) => c.sha1 === null);
  if (unhashed) return { missing: `the remote reported no SHA-1 for ${JSON.stringify(unhashed.remotePath)} at upload, so its copy cannot be verified`, waitingForUpload: false };
  return { copies: record.copies };
}

const sightingKey = (id: FileIdentity) => `${id.dev}:${id.ino}:${id.size}:${id.mtimeNs}`;
const inside = (path: string, root: string) => path === root || path.startsWith(`${root}/`);
const label = (path: string, obs: Observation) => {
  const root = [obs.roots.completed, ...obs.roots.libraries].find((r) => inside(path, r));
  return root ? path.slice(root.length + 1) : path;
};

function torrentDeletion(t: ObservedTorrent, obs: Observation, byKey: Map<string, LocalFile[]>): Deletion | Kept {
  const keep = (reason: string, waitingForUpload = false): Kept => ({ kind: "torrent", label: t.name, reason, waitingForUpload });
  const files: DoomedFile[] = [];
  const needs = new Map<string, RemoteCopy>();
  for (const f of t.files) {
    const path = f.paths[0]!;
    if (!inside(path, obs.roots.completed) || obs.roots.skipped.some((s) => inside(path, s))) return keep(`its file ${JSON.stringify(f.name)} is at ${JSON.stringify(path)}, outside the completed folder`);
    if (f.odd) return keep(`${JSON.stringify(f.name)} is not a regular file on disk (a folder or a symlink)`);
    if (!f.id) {
      if (f.priority === 0) continue; // not downloaded ("do not download"): nothing to protect
      return keep(`${JSON.stringify(f.name)} is missing on disk`);
    }
    const covered = coverage(obs.records, f.id);
    if ("missing" in covered) return keep(`${JSON.stringify(f.name)} ${covered.missing}`, covered.waitingForUpload);
    for (const c of covered.copies) needs.set(c.remotePath, c);
    // The file, and every other name of it (its library hard links).
    for (const local of byKey.get(identityKey(f.id)) ?? [{ path, id: f.id }]) files.push({ path: local.path, id: local.id });
    if (!(byKey.get(identityKey(f.id)) ?? []).some((l) => l.path === path)) files.push({ path, id: f.id });
  }
  const unique = [...new Map(files.map((f) => [f.path, f])).values()];
  const days = (t.seedingSeconds / 86400).toFixed(1);
  return { kind: "torrent", label: t.name, torrent: { hash: t.hash, name: t.name }, files: unique, needs: [...needs.values()], reason: `seeded ${days} days, ${t.files.length} file${t.files.length === 1 ? "" : "s"}` };
}

/** Why qBittorrent's answer cannot tell which files are unreferenced, or undefined when it can. */
function untrusted(obs: Observation): string | undefined {
  if (obs.torrents.length === 0) return "qBittorrent reports no torrents at all (a lost session or a new profile?)";
  const unsettled = obs.torrents.filter((t) => t.class === "unsettled");
  if (unsettled.length > 0) return `${unsettled.length} torrent${unsettled.length === 1 ? " is" : "s are"} not settled (${[...new Set(unsettled.map((t) => t.state))].join(", ")}): its files are not known for sure`;
  const watched = [obs.roots.completed, ...obs.roots.libraries];
  if (!obs.torrents.some((t) => t.files.some((f) => f.paths.some((p) => watched.some((r) => inside(p, r)))))) {
    return `no torrent of qBittorrent's ${obs.torrents.length} has a file under ${JSON.stringify(obs.roots.completed)} (is it looking at another folder?)`;
  }
  return undefined;
}

export function plan(obs: Observation, settings: PlanSettings): Plan {
  const byKey = new Map<string, LocalFile[]>();
  for (const f of obs.local) byKey.set(identityKey(f.id), [...(byKey.get(identityKey(f.id)) ?? []), f]);
  const byPath = new Map(obs.local.map((f) => [f.path, f]));
  const listedBy = new Map<string, string[]>();
  const listedPaths = new Set<string>();
  for (const t of obs.torrents) {
    for (const f of t.files) {
      // The file at every path the torrent may have it at (save path, download path, where content_path
      // says, .!qB), not only the first: a moving torrent's files are still at the old place (4.5).
      const keys = new Set<string>();
      if (f.id) keys.add(identityKey(f.id));
      for (const p of f.paths) {
        listedPaths.add(p);
        const local = byPath.get(p);
        if (local) keys.add(identityKey(local.id));
      }
      for (const k of keys) if (!(listedBy.get(k) ?? []).includes(t.hash)) listedBy.set(k, [...(listedBy.get(k) ?? []), t.hash]);
    }
  }

  const result: Plan = { deletions: [], deferred: 0, kept: [], seeding: 0, orphansWaiting: 0, sightings: new Map(obs.sightings), listedBy };
  const candidates: Deletion[] = [];
  for (const t of [...obs.torrents].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.hash < b.hash ? -1 : 1))) {
    if (t.class === "seeding" || t.class === "downloading") {
      result.seeding++;
      continue;
    }
    if (t.class === "unsettled") {
      result.kept.push({ kind: "torrent", label: t.name, reason: `qBittorrent reports it ${t.state}; its files are not settled`, waitingForUpload: false });
      continue;
    }
    const d = torrentDeletion(t, obs, byKey);
    if ("files" in d) candidates.push(d);
    else result.kept.push(d);
  }

  const why = untrusted(obs);
  if (why) {
    result.orphanScanSkipped = why;
  } else {
    // Unreferenced: no torrent lists the file (by inode) and none names its path.
    const unreferenced = new Map<string, LocalFile[]>();
    for (const f of obs.local) {
      const key = identityKey(f.id);
      if (listedBy.has(key) || listedPaths.has(f.path)) continue;
      unreferenced.set(key, [...(unreferenced.get(key) ?? []), f]);
    }
    const next = new Map<string, Sighting>();
    for (const [key, files] of [...unreferenced].sort(([a], [b]) => (a < b ? -1 : 1))) {
      // Every name of the file must be unreferenced: one listed hard link keeps them all.
      if ((byKey.get(key) ?? []).length !== files.length) continue;
      const id = files[0]!.id;
      const skey = sightingKey(id);
      const before = obs.sightings.get(skey);
      const seen: Sighting = { firstSeen: before?.firstSeen ?? obs.now, runs: (before?.runs ?? 0) + 1 };
      next.set(skey, seen);
      const sorted = files.map((f) => f.path).sort();
      const what = label(sorted[0]!, obs);
      if (seen.runs < 2 || obs.now - seen.firstSeen < settings.orphanGraceSeconds * 1000) {
        result.orphansWaiting++;
        continue;
      }
      const covered = coverage(obs.records, id);
      if ("missing" in covered) {
        result.kept.push({ kind: "orphan", label: what, reason: `no torrent lists it, but it ${covered.missing}`, waitingForUpload: covered.waitingForUpload });
        continue;
      }
      const since = Math.round((obs.now - seen.firstSeen) / 3600_000);
      candidates.push({
        kind: "orphan",
        label: what,
        files: files.map((f) => ({ path: f.path, id: f.id })).sort((a, b) => (a.path < b.path ? -1 : 1)),
        needs: covered.copies,
        reason: `no torrent has listed it for ${since} h (${seen.runs} runs)`,
      });
    }
    result.sightings = next;
  }

  result.deletions = candidates.slice(0, settings.maxDeletionsPerRun);
  result.deferred = candidates.length - result.deletions.length;
  return result;
}
