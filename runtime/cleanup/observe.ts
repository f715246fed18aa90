/**
 * Cleanup, step 1: observe. Everything the plan needs, read once: qBittorrent's torrents and their
 * files, every regular file under the completed folder and the libraries, the upload records and
 * cleanup's own sightings of unreferenced files. Reads metadata only (one lstat per file), never a
 * media byte. Paths are spelled through the configured folders' real paths, so folders reached
 * through a symlink compare equal to what qBittorrent reports.
 */
import { lstatSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import type { RuntimeConfigModel } from "../config.ts";
import { q } from "../log.ts";
import type { QbittorrentClient, Torrent } from "../qbittorrent.ts";
import { readRecords, statIdentity, type FileIdentity, type UploadRecord } from "../records.ts";
import { spell, walkFiles, type LocalFile } from "../files.ts";
import { classify, contentBase, seededSeconds, torrentFilePaths, type TorrentClass } from "../torrents.ts";
import { readSightings, type Sighting } from "./sightings.ts";

export class CleanupError extends Error {
  override name = "CleanupError";
}


export interface ListedFile {
  /** As qBittorrent names it, relative to the save path. */
  name: string;
  /** 0 = "do not download": such a file may be absent, or partial. */
  priority: number;
  /** Where it is, spelled through real folders; the first is below the save path. */
  paths: string[];
  /** The regular file at the first path, if there is one. */
  id?: FileIdentity;
  /** Something other than a regular file is there (a folder, a symlink). */
  odd?: boolean;
}

export interface ObservedTorrent {
  hash: string;
  name: string;
  state: string;
  class: TorrentClass;
  seedingSeconds: number;
  files: ListedFile[];
}

export interface Roots {
  completed: string;
  libraries: string[];
  /** Never removed, even when empty: the roots, the category folders, the temp and extraction folders. */
  kept: string[];
  /** Below the completed folder but not walked: qBittorrent's temp folder, the extraction folder. */
  skipped: string[];
}

export interface Observation {
  now: number;
  roots: Roots;
  torrents: ObservedTorrent[];
  /** Every regular file under the completed folder (categories included) and the libraries. */
  local: LocalFile[];
  records: ReadonlyMap<string, UploadRecord>;
  sightings: ReadonlyMap<string, Sighting>;
}

export function roots(config: RuntimeConfigModel): Roots {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      throw new CleanupError(`the configured folder ${q(p)} does not exist; refusing to clean up`);
    }
  };
  const completed = config.upload.sources.find((s) => s.kind === "uncategorized");
  if (!completed) throw new CleanupError("the config has no uncategorized source (qBittorrent's completed folder)");
  const libraries = config.upload.sources.filter((s) => s.kind === "library").map((s) => real(s.path));
  const maybe = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const skipped = [config.upload.tempPath, config.upload.extractDir].map(maybe);
  const completedReal = real(completed.path);
  return { completed: completedReal, libraries, kept: [completedReal, ...libraries, ...config.upload.categoryPaths.map(maybe), ...skipped], skipped };
}

async function observeTorrents(client: QbittorrentClient, config: RuntimeConfigModel, now: number): Promise<ObservedTorrent[]> {
  const torrents = await client.torrents();
  const cache = new Map<string, string>();
  const observed: ObservedTorrent[] = [];
  // File lists eight at a time: a large session answers in seconds, not minutes.
  for (let i = 0; i < torrents.length; i += 8) {
    const batch = torrents.slice(i, i + 8);
    const lists = await Promise.all(batch.map((t) => client.files(t.hash)));
    batch.forEach((t: Torrent, j) => {
      // Where content_path says the files are: during a move, 4.5 reports the new save_path while the files are still at the old place.
      const base = contentBase(t, lists[j]!.map((f) => f.name));
      const files: ListedFile[] = lists[j]!.map((f) => {
        const places = torrentFilePaths(t, f.name);
        if (base !== undefined && !places.includes(resolve(base, f.name))) places.push(resolve(base, f.name));
        // With "Append .!qB extension to incomplete files", an unfinished file is `name.!qB` on disk.
        const paths = [...new Set(places.map((p) => spell(p, cache)))];
        paths.push(...paths.map((p) => `${p}.!qB`));
        let odd = false;
        // One lstat for a regular file; a second only to tell "something else is there" from "nothing".
        const id = statIdentity(paths[0]!);
        if (!id) {
          try {
            lstatSync(paths[0]!);
            odd = true;
          } catch {
            /* not on disk */
          }
        }
        return { name: f.name, priority: f.priority ?? 1, paths, ...(id ? { id } : {}), ...(odd ? { odd } : {}) };
      });
      observed.push({ hash: t.hash, name: t.name, state: t.state, class: classify(t, config.cleanup.seedingPeriodSeconds, now), seedingSeconds: seededSeconds(t, now), files });
    });
  }
  return observed;
}

export async function observe(config: RuntimeConfigModel, client: QbittorrentClient, now: number): Promise<Observation> {
  const r = roots(config);
  // qBittorrent first: if it cannot be reached or answers nonsense, this throws and nothing is deleted.
  const torrents = await observeTorrents(client, config, now);
  const local: LocalFile[] = [];
  const skip = new Set(r.skipped);
  for (const root of [r.completed, ...r.libraries]) walkFiles(root, skip, local);
  return { now, roots: r, torrents, local, records: readRecords(config.stateDir), sightings: readSightings(config.stateDir) };
}

/** The torrents' hashes now, to tell whether the session changed while cleanup was deciding. */
export async function sessionHashes(client: QbittorrentClient): Promise<string[]> {
  return (await client.torrents()).map((t) => t.hash).sort();
}
