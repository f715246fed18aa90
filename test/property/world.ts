/**
 * A small world for the property test: the builder's folders under a temp directory, the real
 * rclone with a local folder standing in for B2 (B2 cannot run here), the real unar, real hard links,
 * and a model of qBittorrent's WebUI API served on loopback. The model stands in for qbittorrent-nox
 * because a real one takes seconds per torrent, and the property needs thousands of histories; the
 * end-to-end test and test/runtime/cleanup.test.ts run the real qbittorrent-nox.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import builder from "../../spec/builder.ts";
import type { RuntimeConfigModel } from "../../runtime/config.ts";
import { requireTool } from "../helpers.ts";
import { scratchHost } from "../support/scratch-host.ts";

export const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

export type ItemKind = "tv" | "movie" | "uncategorized" | "archive" | "corrupt-archive" | "no-subfolder";

export interface ModelTorrent {
  hash: string;
  name: string;
  category: string;
  savePath: string;
  /** Files relative to savePath. */
  files: string[];
  seedingTime: number;
  /** What qBittorrent reports: the folder `savePath/name`, the save path itself without a subfolder, "" without metadata. */
  contentPath: string;
}

/** What the qBittorrent model answers: normally, not at all, or nonsense. */
export type ApiMode = "ok" | "down" | "nonsense" | "error";

export class World {
  readonly root = mkdtempSync(join(tmpdir(), "mp-world-"));
  readonly remoteRoot = join(this.root, "remote");
  readonly config: RuntimeConfigModel;
  readonly completed: string;
  readonly library: { tv: string; movies: string };
  torrents: ModelTorrent[] = [];
  apiMode: ApiMode = "ok";
  /** Every file content that was ever in the library or in completed/, by hash, with where it was. */
  readonly ever = new Map<string, string>();
  /** An archive counts as safe while present, or once every file extracted from it is on the remote. */
  readonly archiveContents = new Map<string, string[]>();
  private server?: Server;
  private seq = 0;

  constructor(readonly rcloneWrapper: string) {
    const host = scratchHost(this.root, { quietPeriodSeconds: 0 });
    const re = host.path;
    this.config = { ...host.config, cleanup: { ...host.config.cleanup, seedingPeriodSeconds: 100, maxDeletionsPerRun: 3 } };
    mkdirSync(this.remoteRoot, { recursive: true });
    this.completed = re(builder.qbittorrent.defaultSavePath);
    this.library = { tv: re("/media/arr/tv"), movies: re("/media/arr/movies") };
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (this.apiMode === "error") return void res.writeHead(500).end("Internal Server Error");
      if (this.apiMode === "nonsense") return void res.end(url.pathname.endsWith("info") ? '[{"hash":42}]' : "<html>");
      if (url.pathname === "/api/v2/app/webapiVersion") return void res.end("2.8.19");
      if (url.pathname === "/api/v2/torrents/info") {
        return void res.end(
          JSON.stringify(
            this.torrents.map((t) => ({
              hash: t.hash,
              name: t.name,
              category: t.category,
              state: t.contentPath === "" ? "metaDL" : "stalledUP",
              save_path: t.savePath,
              content_path: t.contentPath,
              progress: t.contentPath === "" ? 0 : 1,
              seeding_time: t.seedingTime,
              completion_on: 1,
            })),
          ),
        );
      }
      if (url.pathname === "/api/v2/torrents/files") {
        const t = this.torrents.find((x) => x.hash === url.searchParams.get("hash"));
        return void res.end(JSON.stringify((t?.files ?? []).map((f) => ({ name: f, size: existsSync(join(t!.savePath, f)) ? statSync(join(t!.savePath, f)).size : 0 }))));
      }
      if (url.pathname === "/api/v2/torrents/delete") {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          const form = new URLSearchParams(body);
          this.removeTorrent(form.get("hashes") ?? "", form.get("deleteFiles") === "true");
          res.end();
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.config.qbittorrent.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The URL the runtime is given: the model, or (down) a port nothing listens on. */
  configFor(): RuntimeConfigModel {
    if (this.apiMode !== "down") return this.config;
    return { ...this.config, qbittorrent: { ...this.config.qbittorrent, url: "http://127.0.0.1:9" } };
  }

  private write(path: string, data: Buffer | string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
    const old = Date.now() / 1000 - 3600;
    utimesSync(path, old, old);
    // Every file counts, .nfo and samples too: nothing is exempt from the upload requirement by its name.
    this.ever.set(sha(data), path);
  }

  /** A download seeding in qBittorrent: a torrent with one or two files. */
  addItem(kind: ItemKind, name: string, fixtures: { good: Buffer; goodContents: Buffer[]; corrupt: Buffer }): number {
    const n = this.seq++;
    const torrentName = `${name}.${n}`;
    const category = kind === "tv" ? "tv-sonarr" : kind === "movie" ? "radarr" : "";
    const savePath = kind === "tv" ? join(this.completed, "tv") : kind === "movie" ? join(this.completed, "movies") : this.completed;
    const files: string[] = [];
    const add = (rel: string, data: Buffer | string) => {
      this.write(join(savePath, torrentName, rel), data);
      files.push(`${torrentName}/${rel}`);
    };
    if (kind === "no-subfolder") {
      // Added without a subfolder: its files sit in the completed folder itself, which is its content path.
      for (const [rel, data] of [[`${torrentName}.mkv`, `loose ${torrentName}`], [`${torrentName}.nfo`, `nfo of loose ${torrentName}`]] as const) {
        this.write(join(savePath, rel), data);
        files.push(rel);
      }
      this.torrents.push({ hash: sha(torrentName).slice(0, 40), name: torrentName, category, savePath, files, seedingTime: 0, contentPath: savePath });
      return this.torrents.length - 1;
    }
    if (kind === "archive") {
      add("release.rar", fixtures.good);
      this.archiveContents.set(sha(fixtures.good), fixtures.goodContents.map((c) => sha(c)));
    } else if (kind === "corrupt-archive") {
      add("release.rar", fixtures.corrupt);
    } else {
      add("video.mkv", `${kind} ${torrentName} ${"x".repeat(n % 7)}`);
      if (n % 3 === 0) add("sample.nfo", `nfo of ${torrentName}`);
    }
    this.torrents.push({ hash: sha(torrentName).slice(0, 40), name: torrentName, category, savePath, files, seedingTime: 0, contentPath: join(savePath, torrentName) });
    return this.torrents.length - 1;
  }

  /** A cross-seed: a second torrent of the same folder with one more file, written just now. */
  crossSeed(index: number): void {
    const t = this.torrents[index % Math.max(this.torrents.length, 1)];
    if (!t || t.contentPath !== join(t.savePath, t.name)) return;
    const n = this.seq++;
    const extra = `${t.name}/extra.${n}.mkv`;
    this.write(join(t.savePath, extra), `extra ${n} of ${t.name}`);
    this.torrents.push({ ...t, hash: sha(`${t.name} cross-seed ${n}`).slice(0, 40), files: [...t.files, extra], seedingTime: 0 });
  }

  /** A magnet still fetching its metadata: no files, content path "". */
  addMagnet(): void {
    const n = this.seq++;
    this.torrents.push({ hash: sha(`magnet ${n}`).slice(0, 40), name: `Magnet.${n}`, category: "", savePath: this.completed, files: [], seedingTime: 0, contentPath: "" });
  }

  /** Sonarr or Radarr importing a download: a hard link with a clean name in the library. */
  importToLibrary(index: number, cleanName: string): void {
    const t = this.torrents[index % Math.max(this.torrents.length, 1)];
    if (!t || !t.category) return;
    const video = t.files.find((f) => f.endsWith(".mkv"));
    if (!video || !existsSync(join(t.savePath, video))) return;
    const target = t.category === "tv-sonarr" ? join(this.library.tv, cleanName, "Season 1", `${t.name}.mkv`) : join(this.library.movies, `${cleanName}`, `${t.name}.mkv`);
    if (existsSync(target)) return;
    mkdirSync(dirname(target), { recursive: true });
    linkSync(join(t.savePath, video), target);
  }

  seedLong(index: number): void {
    const t = this.torrents[index % Math.max(this.torrents.length, 1)];
    if (t) t.seedingTime = 1_000_000;
  }

  /** The user removes a torrent in the WebUI, with or without its files. */
  removeTorrent(hash: string, deleteFiles: boolean): void {
    const t = this.torrents.find((x) => x.hash === hash);
    if (!t) return;
    this.torrents = this.torrents.filter((x) => x !== t);
    // As libtorrent does: each file the torrent lists, then its folders while empty.
    if (deleteFiles) {
      for (const f of t.files) rmSync(join(t.savePath, f), { force: true });
      for (const f of t.files) {
        for (let dir = dirname(join(t.savePath, f)); dir !== t.savePath && existsSync(dir) && readdirSync(dir).length === 0; dir = dirname(dir)) rmdirSync(dir);
      }
    }
  }

  /** The user removes a torrent in the WebUI. Files deleted that way are the user's choice, not a loss. */
  userRemoves(index: number, deleteFiles: boolean): void {
    const t = this.torrents[index % Math.max(this.torrents.length, 1)];
    if (!t) return;
    if (deleteFiles) {
      const gone = new Set(t.files.map((f) => join(t.savePath, f)));
      for (const [hash, path] of [...this.ever]) if (gone.has(path)) this.ever.delete(hash);
    }
    this.removeTorrent(t.hash, deleteFiles);
  }

  /** A remote object disappears while its local copy still exists. */
  vanish(pick: number): void {
    const local = new Set(this.localContents());
    const objects = walkFiles(this.remoteRoot).filter((p) => local.has(sha(readFileSync(p))));
    const victim = objects[pick % Math.max(objects.length, 1)];
    if (victim) rmSync(victim);
  }

  localContents(): string[] {
    return [this.completed, this.library.tv, this.library.movies].flatMap((r) => walkFiles(r).filter((p) => !p.split("/").pop()!.startsWith(".")).map((p) => sha(readFileSync(p))));
  }

  remoteContents(): Set<string> {
    return new Set(walkFiles(this.remoteRoot).map((p) => sha(readFileSync(p))));
  }

  /** The property: every file ever placed here is still here or byte-identical on the remote. */
  lost(): string[] {
    const present = new Set([...this.localContents(), ...this.remoteContents()]);
    const lost: string[] = [];
    for (const [hash, path] of this.ever) {
      if (present.has(hash)) continue;
      const parts = this.archiveContents.get(hash);
      if (parts && parts.every((p) => present.has(p))) continue;
      lost.push(relative(this.root, path));
    }
    return lost;
  }
}

export function walkFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** rclone as the runtime runs it, or cut off after a byte (a transfer interrupted part-way). */
export function rcloneWrappers(dir: string): { normal: string; interrupted: string } {
  const rclone = requireTool("rclone");
  const normal = join(dir, "rclone");
  const interrupted = join(dir, "rclone-interrupted");
  writeFileSync(normal, `#!/bin/sh\nexec ${rclone} "$@"\n`);
  writeFileSync(interrupted, `#!/bin/sh\nexec ${rclone} --max-transfer 1 --cutoff-mode hard "$@"\n`);
  chmodSync(normal, 0o755);
  chmodSync(interrupted, 0o755);
  return { normal, interrupted };
}
