/**
 * npm run bench [-- --quick]
 * Measures generation, the upload job's idle pass and an upload of new items, cleanup at three
 * sizes (nothing due; due, dry run; due, real run), and a real cleanup of GB-sized files whose media
 * bytes read are counted with strace. Each time is compared with baselines measured in the same run:
 * `find ROOTS -type f -printf '%i %s %T@\n'` (one stat per file, as the runtime's walk needs) and
 * `node -e 0` (Node's bare start). Writes docs/benchmarks.md. It reports; it does not pass or fail,
 * but it stops if a run did not do what the row says (so no number describes the wrong thing).
 *
 * "Everything uploaded" is set up the honest way: at the smaller size of each group by one real
 * `upload` run (real rclone to a local remote), at the larger ones by writing the remote copies and
 * the uploads.json records upload would write (device:inode, size, mtimeNs, ctimeNs, SHA-1 of the content),
 * a writer checked against the real upload's document at the smaller size (each group's world grows
 * from its smaller size to the larger ones: creating files is most of the bench's own time). Real
 * cleanup runs are repeated by putting the deleted names back from spare hard links (refreshCtimes).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statfsSync, utimesSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { bundleRuntime } from "../generators/runtime.ts";
import { scratchHost } from "../test/support/scratch-host.ts";
import { PROJECT_ROOT } from "../generators/paths.ts";
import type { RuntimeConfigModel } from "../runtime/config.ts";
import { formatBytes } from "../runtime/log.ts";
import { parseStrace, straceArgs } from "./strace.ts";

const quick = process.argv.includes("--quick");
const RUNS = quick ? 3 : 5;
/** Runs of the due cleanups, which take seconds each: fewer, to keep the whole bench near 6 minutes on an idle machine. */
const DUE_RUNS = 3;
const MAXRSS = join(PROJECT_ROOT, "bench/maxrss.cjs");
const which = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
const RCLONE = which("rclone");
if (!RCLONE) throw new Error("rclone is not installed: apt-get install rclone");
const STRACE = which("strace");
const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** Temporary folders of this run, removed at exit even when a run fails. */
const temporary = new Set<string>();
const rssFile = join(tmpdir(), `mp-rss-${process.pid}`);
temporary.add(rssFile);
process.on("exit", () => {
  for (const path of temporary) rmSync(path, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.add(dir);
  return dir;
};
const benchStart = performance.now();
const log = (m: string) => process.stderr.write(`bench [${((performance.now() - benchStart) / 1000).toFixed(0)} s]: ${m}\n`);
if (!STRACE) log("strace is not installed (apt-get install strace): media bytes read fall back to /proc/<pid>/io rchar of the Node process, an upper bound");

interface Timing {
  ms: number;
  rssKiB?: number;
  /** /proc/self/io of the Node process at exit. */
  io?: Record<string, number>;
  stdout: string;
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A Node script: run with the peak-memory preload. */
  node?: boolean;
  /** Write an strace log of read-like calls here. */
  strace?: string;
}

/** Runs a command to completion without blocking this process (the recorded qBittorrent answer is served from here). */
async function run(cmd: string, args: string[], options: RunOptions = {}): Promise<Timing> {
  rmSync(rssFile, { force: true });
  let program = options.node ? process.execPath : cmd;
  let fullArgs = options.node ? ["--require", MAXRSS, ...args] : args;
  if (options.strace) {
    fullArgs = [...straceArgs(options.strace), program, ...fullArgs];
    program = STRACE;
  }
  const start = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(program, fullArgs, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, MP_MAXRSS_FILE: rssFile },
      // Only the runtime's own output is kept (its summary line says what the run did); baselines write to /dev/null.
      stdio: ["ignore", options.node ? "pipe" : "ignore", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on("error", fail);
    child.on("close", (c) => done({ code: c, stdout: out, stderr: err }));
  });
  const ms = performance.now() - start;
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${code}): ${stderr.slice(-600)}\n${stdout.slice(-600)}`);
  let rssKiB: number | undefined;
  let io: Record<string, number> | undefined;
  if (options.node) {
    try {
      const data = JSON.parse(readFileSync(rssFile, "utf8")) as { maxRSS: number; io: Record<string, number> };
      rssKiB = data.maxRSS;
      io = data.io;
    } catch {
      /* the process died before exit handlers ran */
    }
  }
  return { ms, rssKiB, io, stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
interface Measured {
  ms: number;
  rssMiB?: number;
  last: Timing;
}
/** `check` sees every run (not only the last): a run that did something else stops the bench. */
async function measure(runs: number, fn: () => Promise<Timing>, before?: () => void, check?: (t: Timing) => void): Promise<Measured> {
  const times: number[] = [];
  let rss = 0;
  let last: Timing | undefined;
  for (let i = 0; i < runs; i++) {
    before?.();
    last = await fn();
    check?.(last);
    times.push(last.ms);
    rss = Math.max(rss, last.rssKiB ?? 0);
  }
  return { ms: median(times), rssMiB: rss ? rss / 1024 : undefined, last: last! };
}

/** Stops the benchmark when a run's summary does not say what the row claims it measured. */
function expectSummary(t: Timing, pattern: RegExp, what: string): string {
  const line = t.stdout.split("\n").find((l) => / finished in /.test(l)) ?? "";
  if (!pattern.test(line)) throw new Error(`${what}: expected a summary matching ${pattern}, got: ${line}\n${t.stdout.split("\n").slice(0, 5).join("\n")}`);
  return line;
}

interface Baseline {
  label: string;
  ms: number;
}
interface Row {
  what: string;
  size: string;
  subject: string;
  subjectMs: number;
  baselines: Baseline[];
  target?: string;
  rssMiB?: number;
  note?: string;
}
const rows: Row[] = [];
interface BytesRow {
  what: string;
  media: string;
  remote: string;
  rchar: string;
  /** Bytes of the media files in the page cache after the run, having been evicted before it. */
  pageCache: string;
  note: string;
}
const bytesRows: BytesRow[] = [];

const FIND = "`find ROOTS -type f -printf '%i %s %T@\\n'`";
const BARE = "`node -e 0`";

/** The two baselines every runtime row is compared with, measured now. */
async function baselines(roots: string[]): Promise<Baseline[]> {
  const find = await measure(RUNS, () => run("find", [...roots, "-type", "f", "-printf", "%i %s %T@\\n"]));
  const bare = await measure(RUNS, () => run(process.execPath, ["-e", "0"]));
  return [
    { label: FIND, ms: find.ms },
    { label: BARE, ms: bare.ms },
  ];
}

interface World {
  root: string;
  config: RuntimeConfigModel;
  configPath: string;
  /** The local folder standing in for the bucket's remote (alias `b2:` → here). */
  remote: string;
  /** Where `b2:entertainment-netmount/x` is on disk. */
  bucket: string;
  re: (p: string) => string;
  env: NodeJS.ProcessEnv;
  roots: string[];
  qbt: FakeQbittorrent;
}

/** What qBittorrent answers: a recorded session served on loopback, switchable between "nothing due" and "due". */
interface FakeQbittorrent {
  torrents: object[];
  files: Map<string, { name: string; size: number }[]>;
  /** Torrents answer with this seeding time (and completed this long ago) instead of their own (60 s: the usual run, nothing due). */
  seedingOverride?: number;
  deleted: number;
  close(): void;
}

async function fakeQbittorrent(): Promise<{ fake: FakeQbittorrent; url: string }> {
  const fake: FakeQbittorrent = { torrents: [], files: new Map(), deleted: 0, close: () => server.close() };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.endsWith("/torrents/info")) {
      // qBittorrent counts an active seed as due by its completion time too (runtime/torrents.ts seededSeconds): both move.
      const now = Math.floor(Date.now() / 1000);
      const list = fake.seedingOverride === undefined ? fake.torrents : fake.torrents.map((t) => ({ ...t, seeding_time: fake.seedingOverride, completion_on: now - fake.seedingOverride! }));
      return void res.end(JSON.stringify(list));
    }
    if (url.pathname.endsWith("/torrents/files")) return void res.end(JSON.stringify(fake.files.get(url.searchParams.get("hash") ?? "") ?? []));
    if (url.pathname.endsWith("/torrents/delete")) {
      fake.deleted++;
      return void res.end("");
    }
    res.end("2.8.19");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { fake, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The builder's folders under a temp directory, with a config for the runtime pointing at them and a recorded qBittorrent. */
async function world(): Promise<World> {
  const root = tempDir("mp-bench-");
  const host = scratchHost(root, { quietPeriodSeconds: 0 });
  const config = host.config;
  const remote = join(root, "remote");
  mkdirSync(remote);
  const { fake, url } = await fakeQbittorrent();
  config.qbittorrent.url = url;
  const configPath = join(root, "config.json");
  writeFileSync(configPath, JSON.stringify(config));
  const bucket = join(remote, config.remote.split(":")[1]!);
  const env = { RCLONE_CONFIG_B2_TYPE: "alias", RCLONE_CONFIG_B2_REMOTE: remote, RCLONE_CONFIG: "/dev/null" };
  return { root, config, configPath, remote, bucket, re: host.path, env, roots: config.upload.sources.map((s) => s.path), qbt: fake };
}

function dispose(w: World): void {
  w.qbt.close();
  rmSync(w.root, { recursive: true, force: true });
  temporary.delete(w.root);
}

function countingRclone(dir: string): { path: string; count: () => number; reset: () => void } {
  const calls = join(dir, "rclone-calls");
  const path = join(dir, "rclone-counting");
  writeFileSync(path, `#!/bin/sh\necho x >> '${calls}'\nexec '${RCLONE}' "$@"\n`);
  chmodSync(path, 0o755);
  return {
    path,
    count: () => {
      try {
        return readFileSync(calls, "utf8").split("\n").filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    reset: () => rmSync(calls, { force: true }),
  };
}

const runtime = (w: World, bundle: string, args: string[], extra: RunOptions = {}) => run("", [bundle, ...args, "--config", w.configPath], { node: true, ...extra, env: { ...w.env, ...extra.env } });

/**
 * The uploads.json upload writes once it has confirmed each file: keyed by device:inode, with size,
 * mtimeNs, ctimeNs, the path it read, and the remote copy with the SHA-1 of the content. Checked
 * against a real upload's document at the smaller sizes (checkAgainstRealUpload). The worlds grow in
 * steps: each step's records are added to the document already there.
 */
class RecordWriter {
  /** Records added since the last write or check. */
  private pending = new Map<string, object>();
  constructor(private readonly w: World) {}
  /** `copy`: write the remote copy too (not when a real upload is to make it, nor where no run reads the remote). */
  add(path: string, remotePath: string, content: string | Buffer, copy: boolean): void {
    const st = lstatSync(path, { bigint: true });
    const sha1 = createHash("sha1").update(content).digest("hex");
    this.pending.set(`${st.dev}:${st.ino}`, { size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), paths: [path], kind: "file", copies: [{ remotePath, size: Number(st.size), sha1 }], uploadedAt: "2026-01-01T00:00:00.000Z" });
    if (!copy) return;
    const file = join(this.w.bucket, remotePath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  /** Adds the pending records to uploads.json. */
  write(): void {
    const file = join(this.w.config.stateDir, "uploads.json");
    const doc = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { records: Record<string, object> }) : { records: {} };
    for (const [key, record] of this.pending) doc.records[key] = record;
    const sorted = Object.entries(doc.records).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    writeFileSync(file, JSON.stringify({ version: 1, records: Object.fromEntries(sorted) }));
    this.pending = new Map();
  }
  /** Compares the pending records with those a real upload just wrote (all but uploadedAt); throws on the first difference. */
  checkAgainstRealUpload(): void {
    const real = (JSON.parse(readFileSync(join(this.w.config.stateDir, "uploads.json"), "utf8")) as { records: Record<string, { uploadedAt?: string }> }).records;
    const canonical = (v: unknown): unknown => (Array.isArray(v) ? v.map(canonical) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canonical(x)])) : v);
    const strip = (r: object) => JSON.stringify(canonical({ ...r, uploadedAt: undefined }));
    if (Object.keys(real).length !== this.pending.size) throw new Error(`the real upload recorded ${Object.keys(real).length} files, the record writer ${this.pending.size}`);
    for (const [key, mine] of this.pending) {
      if (!real[key] || strip(real[key]) !== strip(mine)) throw new Error(`the record writer disagrees with the real upload on ${key}: ${strip(mine)} vs ${JSON.stringify(real[key])}`);
    }
    this.pending = new Map();
  }
}

/**
 * Putting a deleted name back (a hard link from the spare) changes the file's ctime, which upload
 * records and cleanup compares. Content, size, mtime and the remote copy are what upload confirmed,
 * so the records of these files get the new ctime: what a new upload run would record (rclone would
 * find each hash unchanged). Nothing else in the document is touched.
 */
function refreshCtimes(w: World, paths: string[]): void {
  const file = join(w.config.stateDir, "uploads.json");
  const doc = JSON.parse(readFileSync(file, "utf8")) as { version: number; records: Record<string, { ctimeNs: string }> };
  for (const path of paths) {
    const st = lstatSync(path, { bigint: true });
    const record = doc.records[`${st.dev}:${st.ino}`];
    if (!record) throw new Error(`no upload record for ${path}`);
    record.ctimeNs = String(st.ctimeNs);
  }
  writeFileSync(file, JSON.stringify(doc));
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

const fmtBytes = (n: number) => (n >= GiB ? `${(n / GiB).toFixed(2)} GiB` : n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
const count = (n: number) => n.toLocaleString("en");

const loadAtStart = loadavg()[0]!;

async function main(): Promise<void> {
  const started = performance.now();
  const bundleDir = tempDir("mp-bench-runtime-");
  const bundle = join(bundleDir, "media-pipeline.mjs");
  writeFileSync(bundle, await bundleRuntime());

  // 1. Generation against bare Node startup.
  {
    log("generation");
    const out = tempDir("mp-bench-out-");
    const bare = await measure(RUNS, () => run(process.execPath, ["-e", "0"]));
    const gen = await measure(RUNS, () => run("", [join(PROJECT_ROOT, "cli/launch.mjs"), "--out", out], { node: true, cwd: PROJECT_ROOT }));
    rows.push({ what: "Generation (`npm run generate`, default spec)", size: "24 files", subject: "node cli/launch.mjs", subjectMs: gen.ms, baselines: [{ label: BARE, ms: bare.ms }], target: "≤ 4×", rssMiB: gen.rssMiB });
    rmSync(out, { recursive: true, force: true });
  }

  // 2. Upload idle pass: everything uploaded, nothing new. One world, grown from the smaller size to the larger.
  {
    const w = await world();
    const writer = new RecordWriter(w);
    const counter = countingRclone(w.root);
    let items = 0;
    let uploadedForReal = 0;
    for (const [index, files] of (quick ? [2_000] : [20_000, 100_000]).entries()) {
      const realUpload = index === 0;
      log(`upload idle pass, ${files} files (${realUpload ? "set up by a real upload" : "set up by writing records"})`);
      for (; items < files / 10; items++) {
        const i = items;
        const lib = i % 2 === 0 ? "/media/arr/tv" : "/media/arr/movies";
        mkdirSync(w.re(`${lib}/Item ${i}/Season 1`), { recursive: true });
        for (let j = 0; j < 10; j++) {
          const rel = `Item ${i}/Season 1/E${j}.mkv`;
          const f = w.re(`${lib}/${rel}`);
          writeFileSync(f, `${i}-${j}`);
          // The idle pass never reads the remote, so beyond a real upload no remote copy is written.
          writer.add(f, `${lib.endsWith("tv") ? "tv" : "movies"}/${rel}`, `${i}-${j}`, false);
        }
      }
      let setup: string;
      if (realUpload) {
        const first = await runtime(w, bundle, ["upload"]);
        expectSummary(first, new RegExp(`: ${files} items uploaded \\(${files} files`), "first upload");
        writer.checkAgainstRealUpload();
        uploadedForReal = files;
        setup = `set up by one real \`upload\` run (${(first.ms / 1000).toFixed(1)} s, rclone to a local remote); the bench's record writer matched its uploads.json record for record`;
      } else {
        writer.write();
        setup = `the ${count(files - uploadedForReal)} files beyond the first ${count(uploadedForReal)} (uploaded for real) set up by adding to uploads.json the records upload writes (device:inode, size, mtimeNs, ctimeNs, SHA-1 of the content); their remote copies were not written, as the idle pass does not read the remote`;
      }
      const base = await baselines(w.roots);
      counter.reset();
      const idle = await measure(RUNS, () => runtime(w, bundle, ["upload"], { env: { MEDIA_PIPELINE_RCLONE: counter.path } }), undefined, (t) => void expectSummary(t, new RegExp(`: 0 items uploaded .*, ${files} already uploaded, 0 rclone runs`), "upload idle pass"));
      rows.push({
        what: "Upload idle pass (everything uploaded)",
        size: `${count(files)} files in ${count(items)} items`,
        subject: "upload",
        subjectMs: idle.ms,
        baselines: base,
        target: "≤ 2× find, 0 rclone runs",
        rssMiB: idle.rssMiB,
        note: `${counter.count()} rclone processes in ${RUNS} runs; ${setup}; qBittorrent (asked what is still downloading and for due torrents' extras) is an empty session served on loopback`,
      });
    }
    dispose(w);
  }

  // 3. Upload of new items.
  {
    const items = quick ? 100 : 500;
    log(`upload of ${items} new items`);
    const w = await world();
    const targets = ["/media/arr/tv", "/media/arr/movies", "/var/lib/qBittorrent/completed"];
    for (let i = 0; i < items; i++) {
      const root = targets[i % 3]!;
      const f = w.re(`${root}/Item ${i}/${root.endsWith("completed") ? "file.bin" : "Season 1/E1.mkv"}`);
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, Buffer.alloc(64 * 1024, i % 251));
      const old = Date.now() / 1000 - 3600;
      utimesSync(f, old, old);
    }
    const counter = countingRclone(w.root);
    const reset = () => {
      rmSync(w.remote, { recursive: true, force: true });
      mkdirSync(w.remote);
      for (const doc of ["uploads.json", "attention.json"]) rmSync(join(w.config.stateDir, doc), { force: true });
    };
    const single = await measure(RUNS, () => run(RCLONE, ["copy", w.re("/"), "b2:entertainment-netmount", "--checksum", "--exclude", "remote/**", "--exclude", "*.json", "--exclude", "rclone-*"], { env: w.env }), reset);
    counter.reset();
    const up = await measure(RUNS, () => runtime(w, bundle, ["upload"], { env: { MEDIA_PIPELINE_RCLONE: counter.path } }), reset, (t) => void expectSummary(t, new RegExp(`: ${items} items uploaded \\(${items} files`), "upload of new items"));
    rows.push({
      what: "Upload of new items",
      size: `${items} items, 64 KiB each, 3 scan roots`,
      subject: "upload",
      subjectMs: up.ms,
      baselines: [{ label: "one `rclone copy` of the same files", ms: single.ms }],
      target: "one rclone per scan root (+ one listing)",
      rssMiB: up.rssMiB,
      note: `${counter.count() / RUNS} rclone processes per run (3 copies, 1 \`lsjson\` for the SHA-1s to record)`,
    });
    dispose(w);
  }

  // 4. Cleanup at three sizes: nothing due; due, dry run; due, real run. One world, grown from the smallest size.
  {
    const w = await world();
    const writer = new RecordWriter(w);
    /** Eligible torrents' files: [torrent path, library path, spare]; the spare hard link, outside the roots, lets each real run's deletions be put back, same inode. */
    const eligibleFiles: [string, string, string][] = [];
    const spare = join(w.root, "spare");
    mkdirSync(spare);
    const cap = w.config.cleanup.maxDeletionsPerRun;
    let torrents = 0;
    /** Puts back what a real run deleted (same inodes, so the records still match once their ctime is refreshed); returns how many names were missing. */
    const restore = () => {
      let missing = 0;
      for (const [torrentFile, link, sparePath] of eligibleFiles) {
        for (const path of [torrentFile, link]) {
          if (existsSync(path)) continue;
          missing++;
          mkdirSync(dirname(path), { recursive: true });
          linkSync(sparePath, path);
        }
      }
      rmSync(join(w.config.stateDir, "cleanup.json"), { force: true });
      if (missing > 0) refreshCtimes(w, eligibleFiles.map(([, , sparePath]) => sparePath));
      return missing;
    };
    for (const [index, files] of (quick ? [2_000, 5_000, 10_000] : [12_500, 25_000, 50_000]).entries()) {
      const realUpload = index === 0;
      log(`cleanup, ${files} library files, ${files / 50} torrents (${realUpload ? "set up by a real upload" : "set up by writing records"})`);
      for (; torrents < files / 50; torrents++) {
        const t = torrents;
        const name = `Show.${t}.S01`;
        const hash = (t.toString(16).padStart(8, "0") + "0".repeat(32)).slice(0, 40);
        const eligible = t % 2 === 0;
        const list: { name: string; size: number }[] = [];
        mkdirSync(w.re(`/var/lib/qBittorrent/completed/tv/${name}`), { recursive: true });
        mkdirSync(w.re(`/media/arr/tv/Show ${t}/Season 1`), { recursive: true });
        for (let e = 0; e < 50; e++) {
          const data = `${t}-${e}`;
          const torrentFile = w.re(`/var/lib/qBittorrent/completed/tv/${name}/e${e}.mkv`);
          writeFileSync(torrentFile, data);
          const rel = `Show ${t}/Season 1/S01E${e}.mkv`;
          const link = w.re(`/media/arr/tv/${rel}`);
          linkSync(torrentFile, link);
          if (eligible) {
            eligibleFiles.push([torrentFile, link, join(spare, `${t}-${e}`)]);
            linkSync(torrentFile, join(spare, `${t}-${e}`));
          }
          // After the last link: a new link changes the file's ctime, which its record holds.
          writer.add(link, `tv/${rel}`, data, !realUpload);
          list.push({ name: `${name}/e${e}.mkv`, size: data.length });
        }
        w.qbt.files.set(hash, list);
        w.qbt.torrents.push({ hash, name, category: "tv-sonarr", state: "stalledUP", save_path: w.re("/var/lib/qBittorrent/completed/tv"), content_path: w.re(`/var/lib/qBittorrent/completed/tv/${name}`), progress: 1, seeding_time: eligible ? 10 * 86400 : 3600, completion_on: Math.floor(Date.now() / 1000) - (eligible ? 10 * 86400 : 3600) });
      }
      const dueRemoved = Math.min(cap, torrents / 2);
      let setup: string;
      w.qbt.seedingOverride = 60; // nothing is due while it uploads, as on a real host
      if (realUpload) {
        const first = await runtime(w, bundle, ["upload"]);
        expectSummary(first, new RegExp(`: ${files} items uploaded \\(${files} files`), "first upload");
        writer.checkAgainstRealUpload();
        setup = `set up by one real \`upload\` run (${(first.ms / 1000).toFixed(1)} s); the record writer matched its uploads.json`;
      } else {
        writer.write();
        setup = `the torrents beyond the first ${count((quick ? 2_000 : 12_500) / 50)} (uploaded for real) set up by writing their remote copies and adding their records to uploads.json`;
      }
      const base = await baselines(w.roots);
      const idleRun = await measure(RUNS, () => runtime(w, bundle, ["cleanup"]), undefined, (t) => void expectSummary(t, /: 0 torrents and 0 orphans removed/, "cleanup, nothing due"));
      w.qbt.seedingOverride = undefined;
      const dry = await measure(DUE_RUNS, () => runtime(w, bundle, ["cleanup", "--dry-run"]), undefined, (t) => void expectSummary(t, new RegExp(`: ${dueRemoved} torrents and 0 orphans would be removed`), "cleanup dry run"));
      const deletedNames: number[] = [];
      const real = await measure(
        DUE_RUNS,
        () => runtime(w, bundle, ["cleanup"]),
        () => deletedNames.push(restore()),
        (t) => void expectSummary(t, new RegExp(`: ${dueRemoved} torrents and 0 orphans removed`), "cleanup real run"),
      );
      deletedNames.push(restore());
      deletedNames.shift(); // before the first run nothing was missing
      if (deletedNames.some((n) => n !== dueRemoved * 50 * 2)) throw new Error(`real cleanup runs deleted ${deletedNames.join(", ")} names, expected ${dueRemoved * 100} each`);
      let bytesNote = "";
      if (realUpload) {
        // One more real run, traced, for the media bytes read with many small files.
        const traced = await tracedCleanup(w, bundle, `cleanup, ${count(files)} library files (${dueRemoved} torrents, ${count(dueRemoved * 50)} files × 2 names deleted)`);
        if (restore() !== dueRemoved * 100) throw new Error("the traced cleanup run did not delete what the others did");
        bytesNote = `; media bytes read by the Node process in a traced real run: ${traced}`;
      }
      // The naive way: one `find -inum` over the library per torrent file. Measured on a sample.
      const sample = eligibleFiles.slice(0, 10);
      const naiveStart = performance.now();
      for (const [f] of sample) await run("find", [w.re("/media/arr/tv"), "-inum", String(lstatSync(f).ino)]);
      const naive = ((performance.now() - naiveStart) / sample.length) * eligibleFiles.length;
      const sizeText = `${count(files)} library files, ${torrents} torrents`;
      rows.push({
        what: "Cleanup, nothing past the seeding period (the usual run)",
        size: sizeText,
        subject: "cleanup",
        subjectMs: idleRun.ms,
        baselines: base,
        target: "≤ 3× find",
        rssMiB: idleRun.rssMiB,
        note: `${setup}; qBittorrent is a recorded answer served on loopback`,
      });
      rows.push({
        what: `Cleanup, ${torrents / 2} torrents past the seeding period, dry run (observe, plan, one \`rclone lsjson\`, no deletions)`,
        size: sizeText,
        subject: "cleanup --dry-run",
        subjectMs: dry.ms,
        baselines: base,
        target: "≤ 3× find",
        rssMiB: dry.rssMiB,
        note: `median of ${DUE_RUNS}; ${dueRemoved} torrents would go (the cap per run is ${cap}); naive \`find -inum\` per file of the ${torrents / 2} torrents: ${(naive / 1000).toFixed(1)} s (measured on ${sample.length} files, scaled to ${count(eligibleFiles.length)}), ${(naive / dry.ms).toFixed(0)}× cleanup's time`,
      });
      rows.push({
        what: `Cleanup, ${torrents / 2} torrents past the seeding period, real run`,
        size: sizeText,
        subject: "cleanup",
        subjectMs: real.ms,
        baselines: base,
        target: "≤ 3× find",
        rssMiB: real.rssMiB,
        note: `median of ${DUE_RUNS}; each run removed ${dueRemoved} torrents and unlinked ${count(dueRemoved * 100)} names (${count(dueRemoved * 50)} files and their library links), put back between runs from spare hard links (same inodes; their records' ctimeNs updated, as linking changes it)${bytesNote}`,
      });
    }
    dispose(w);
  }

  // 5. Cleanup of GB-sized files: media bytes read (target 0).
  await gigabyteCleanup(bundle);

  writeReport((performance.now() - started) / 1000);
}

const classifier = (w: World) => {
  const media = [w.config.upload.sources.map((s) => realpathSync(s.path)), realpathSync(w.re("/var/lib/qBittorrent"))].flat();
  const remote = realpathSync(w.remote);
  const inside = (p: string, r: string) => p === r || p.startsWith(`${r}/`);
  return (path: string) => (inside(path, remote) ? "remote" : media.some((r) => inside(path, r)) ? "media" : "other");
};

interface TracedResult {
  ms: number;
  nodeMedia: number;
  nodeOther: number;
  /** Everything the Node process read: files, pipes, sockets. */
  nodeTotal: number;
  childMedia: number;
  childRemote: number;
  /** io_uring calls by the Node process (reads through a ring would not be in the strace counts). */
  uring: number;
  rchar?: number;
  stdout: string;
}

/** One real cleanup run; under strace when it is installed. Returns what the Node process and its children read. */
async function traceRun(w: World, bundle: string): Promise<TracedResult> {
  const traceFile = join(w.root, "cleanup.strace");
  const t = await runtime(w, bundle, ["cleanup"], STRACE ? { strace: traceFile } : {});
  const result: TracedResult = { ms: t.ms, nodeMedia: NaN, nodeOther: NaN, nodeTotal: NaN, childMedia: NaN, childRemote: NaN, uring: NaN, rchar: t.io?.rchar, stdout: t.stdout };
  if (STRACE) {
    const { root, processes } = parseStrace(readFileSync(traceFile, "utf8"), classifier(w));
    rmSync(traceFile, { force: true });
    const node = processes.get(root);
    const get = (m: Map<string, number> | undefined, k: string) => m?.get(k) ?? 0;
    result.nodeMedia = get(node?.bytes, "media");
    result.nodeOther = get(node?.bytes, "other");
    result.uring = node?.uring ?? 0;
    result.nodeTotal = [...(node?.bytes.values() ?? [])].reduce((a, b) => a + b, 0);
    result.childMedia = 0;
    result.childRemote = 0;
    for (const [pid, p] of processes) {
      if (pid === root) continue;
      result.childMedia += get(p.bytes, "media");
      result.childRemote += get(p.bytes, "remote");
      if (p.program !== "rclone" && (get(p.bytes, "media") || get(p.bytes, "remote"))) throw new Error(`an unexpected child (${p.program}) of cleanup read files`);
    }
  }
  return result;
}

async function tracedCleanup(w: World, bundle: string, what: string, note = ""): Promise<string> {
  const r = await traceRun(w, bundle);
  const media = STRACE ? fmtBytes(r.nodeMedia) : "not measured (no strace)";
  bytesRows.push({
    what,
    media,
    remote: STRACE ? `${fmtBytes(r.childRemote)} (rclone child)${r.childMedia ? `; rclone read ${fmtBytes(r.childMedia)} of local media` : ""}` : "",
    rchar: r.rchar !== undefined ? fmtBytes(r.rchar) : "",
    pageCache: "not measured (thousands of small files)",
    note: `${STRACE ? `traced run: ${(r.ms / 1000).toFixed(1)} s under strace; the Node process read ${fmtBytes(r.nodeOther)} of other files (the bundle, config, state documents, system files), ${fmtBytes(r.nodeTotal)} in all with pipes and sockets; ${r.uring ? `it made ${r.uring} io_uring calls (reads through a ring are not in the strace count)` : "it set up no io_uring"}` : ""}${note}`,
  });
  return media;
}

/** Three torrents of one ~1 GiB file each, uploaded for real to the local remote, then cleaned up for real. */
async function gigabyteCleanup(bundle: string): Promise<void> {
  const torrents = 3;
  let size = quick ? 128 * MiB : GiB;
  const free = freeBytes(tmpdir());
  // The local files, the remote copies, and room to spare; total kept under ~7 GiB.
  if (free < 2 * torrents * size + 2 * GiB) {
    const fits = Math.floor((free - 2 * GiB) / (2 * torrents) / MiB) * MiB;
    if (fits < 64 * MiB) {
      log(`GB-scale cleanup skipped: only ${fmtBytes(free)} free under ${tmpdir()}`);
      bytesRows.push({ what: "cleanup of GB-sized files", media: "not measured", remote: "", rchar: "", pageCache: "", note: `skipped: only ${fmtBytes(free)} free under ${tmpdir()}` });
      return;
    }
    size = fits;
  }
  log(`cleanup of ${torrents} torrents of ${fmtBytes(size)} each (free under ${tmpdir()}: ${fmtBytes(free)})`);
  const w = await world();
  try {
    const spare = join(w.root, "spare");
    mkdirSync(spare);
    const pairs: [string, string][] = [];
    let allocated = "fallocate";
    for (let t = 0; t < torrents; t++) {
      const name = `Big.Show.${t}.S01`;
      const hash = (`b${t}`.padEnd(8, "0") + "0".repeat(32)).slice(0, 40);
      const torrentFile = w.re(`/var/lib/qBittorrent/completed/tv/${name}/${name}.E01.mkv`);
      mkdirSync(dirname(torrentFile), { recursive: true });
      // Zero-filled: what is counted is bytes read, not their values. fallocate is instant; head -c writes them.
      if (spawnSync("fallocate", ["-l", String(size), torrentFile]).status !== 0) {
        allocated = "head -c from /dev/zero";
        spawnSync("sh", ["-c", `head -c ${size} /dev/zero > '${torrentFile}'`]);
      }
      const link = w.re(`/media/arr/tv/Big Show ${t}/Season 1/S01E01.mkv`);
      mkdirSync(dirname(link), { recursive: true });
      linkSync(torrentFile, link);
      linkSync(torrentFile, join(spare, String(t)));
      pairs.push([torrentFile, link]);
      w.qbt.files.set(hash, [{ name: `${name}/${name}.E01.mkv`, size }]);
      w.qbt.torrents.push({ hash, name, category: "tv-sonarr", state: "stalledUP", save_path: w.re("/var/lib/qBittorrent/completed/tv"), content_path: w.re(`/var/lib/qBittorrent/completed/tv/${name}`), progress: 1, seeding_time: 10 * 86400, completion_on: Math.floor(Date.now() / 1000) - 10 * 86400 });
    }
    // The real upload, while nothing is due: rclone copies each file to the local remote, which then holds its own copy.
    w.qbt.seedingOverride = 60;
    const up = await runtime(w, bundle, ["upload"]);
    expectSummary(up, new RegExp(`: ${torrents} items uploaded \\(${torrents} files`), "GB upload");
    w.qbt.seedingOverride = undefined;
    const restore = () => {
      let missing = 0;
      for (const [i, pair] of pairs.entries()) {
        for (const path of pair) {
          if (existsSync(path)) continue;
          missing++;
          mkdirSync(dirname(path), { recursive: true });
          linkSync(join(spare, String(i)), path);
        }
      }
      rmSync(join(w.config.stateDir, "cleanup.json"), { force: true });
      if (missing > 0) refreshCtimes(w, pairs.map((_, i) => join(spare, String(i))));
      return missing;
    };
    const runs = DUE_RUNS;
    const base = await baselines(w.roots);
    // What the remote-side SHA-1s cost with the local backend: the same listing cleanup asks for, alone.
    const list = join(w.root, "list");
    writeFileSync(list, pairs.map(([, link]) => `tv/${relative(w.re("/media/arr/tv"), link)}\n`).join(""));
    const lsjson = await measure(1, () => run(RCLONE, ["lsjson", w.config.remote, "--files-from-raw", list, "-R", "--files-only", "--hash", "--hash-type", "sha1", "--no-mimetype"], { env: w.env }));
    // The instruments below, shown to see a reader of the media: `sha1sum` of one file, traced, with its pages evicted first.
    const spares = pairs.map((_, i) => join(spare, String(i)));
    const fincore = which("fincore");
    const resident = () => spares.reduce((n, f) => n + Number(spawnSync(fincore, ["--bytes", "--noheadings", "--raw", "--output", "RES", f], { encoding: "utf8" }).stdout.trim() || NaN), 0);
    const evict = () => {
      spawnSync("sync");
      for (const f of spares) spawnSync("dd", [`if=${f}`, "iflag=nocache", "count=0", "status=none"]);
      return resident();
    };
    const controls: string[] = [];
    if (fincore && evict() === 0) {
      const traceFile = join(w.root, "control.strace");
      await run("sha1sum", [pairs[0]![0]], STRACE ? { strace: traceFile } : {});
      controls.push(`the page cache then held ${fmtBytes(resident())}`);
      if (STRACE) {
        const { root, processes } = parseStrace(readFileSync(traceFile, "utf8"), classifier(w));
        controls.unshift(`strace counted ${fmtBytes(processes.get(root)?.bytes.get("media") ?? 0)} of media read`);
        rmSync(traceFile, { force: true });
      }
    }
    const control = controls.length > 0 ? ` Control: for \`sha1sum\` of one ${fmtBytes(size)} media file, ${controls.join(" and ")}.` : "";
    // What hashing the local files would cost (what cleanup no longer does).
    const sha1sum = await measure(1, () => run("sha1sum", [pairs[0]![0]]));
    const dry = await measure(runs, () => runtime(w, bundle, ["cleanup", "--dry-run"]), undefined, (t) => void expectSummary(t, new RegExp(`: ${torrents} torrents and 0 orphans would be removed`), "GB cleanup dry run"));
    const deleted: number[] = [];
    const real = await measure(runs, () => runtime(w, bundle, ["cleanup"]), () => deleted.push(restore()), (t) => void expectSummary(t, new RegExp(`: ${torrents} torrents and 0 orphans removed`), "GB cleanup real run"));
    deleted.push(restore());
    deleted.shift();
    if (deleted.some((n) => n !== torrents * 2)) throw new Error(`GB cleanup runs deleted ${deleted.join(", ")} names, expected ${torrents * 2}`);
    // The measured run: real, traced. The media files' pages are dropped from the page cache first
    // (dd iflag=nocache count=0), so what is resident afterwards was read during the run, by any
    // process and any means (read, mmap, io_uring): a check that does not depend on strace.
    let pageCache = "not measured (no fincore: apt-get install util-linux)";
    if (fincore) {
      const before = evict();
      pageCache = before !== 0 ? `not measured (${fmtBytes(before)} stayed cached after eviction)` : "";
    }
    const traced = await traceRun(w, bundle);
    if (fincore && pageCache === "") pageCache = `${fmtBytes(resident())} of ${fmtBytes(torrents * size)}`;
    expectSummary({ ms: 0, stdout: traced.stdout }, new RegExp(`: ${torrents} torrents and 0 orphans removed \\(${formatBytes(torrents * size).replace(".", "\\.")} freed\\)`), "traced GB cleanup");
    const gone = pairs.flat().filter((p) => !existsSync(p)).length;
    if (gone !== torrents * 2) throw new Error(`after the traced GB cleanup ${gone} of ${torrents * 2} names are gone`);
    const remoteSizes = pairs.map(([, link]) => lstatSync(join(w.bucket, "tv", relative(w.re("/media/arr/tv"), link))).size);
    if (remoteSizes.some((s) => s !== size)) throw new Error("a remote copy changed during cleanup");
    const total = torrents * size;
    bytesRows.push({
      what: `real cleanup of ${torrents} torrents × ${fmtBytes(size)} (${fmtBytes(total)} of media, one file each plus its library hard link)`,
      media: STRACE ? fmtBytes(traced.nodeMedia) : "not measured (no strace)",
      remote: STRACE ? `${fmtBytes(traced.childRemote)} (rclone child)${traced.childMedia ? `; rclone read ${fmtBytes(traced.childMedia)} of local media` : "; 0 B of local media"}` : "",
      rchar: traced.rchar !== undefined ? fmtBytes(traced.rchar) : "",
      pageCache,
      note: `${STRACE ? `traced run: ${(traced.ms / 1000).toFixed(1)} s under strace; the Node process read ${fmtBytes(traced.nodeOther)} of other files, ${fmtBytes(traced.nodeTotal)} in all with pipes and sockets; ${traced.uring ? `it made ${traced.uring} io_uring calls (reads through a ring are not in the strace count; the page cache column covers them)` : "it set up no io_uring"}. ` : ""}Verified after it: all ${torrents * 2} names gone, the remote copies intact.${control}`,
    });
    const sizeText = `${torrents} torrents × ${fmtBytes(size)}`;
    const setup = `files made with ${allocated}, uploaded by one real \`upload\` run (${(up.ms / 1000).toFixed(1)} s) to a local remote holding its own copy`;
    const lsjsonNote = `one \`rclone lsjson --hash\` of the ${torrents} remote copies alone: ${lsjson.ms.toFixed(0)} ms (the local backend reads each copy to compute its SHA-1, B2 stores it); \`sha1sum\` of one local file: ${sha1sum.ms.toFixed(0)} ms, so about ${((sha1sum.ms * torrents) / 1000).toFixed(1)} s for the ${torrents}, which cleanup no longer spends`;
    rows.push({
      what: "Cleanup of GB-sized files, dry run",
      size: sizeText,
      subject: "cleanup --dry-run",
      subjectMs: dry.ms,
      baselines: base,
      target: "0 media bytes read",
      rssMiB: dry.rssMiB,
      note: `median of ${runs}; ${setup}; ${lsjsonNote}`,
    });
    rows.push({
      what: "Cleanup of GB-sized files, real run",
      size: sizeText,
      subject: "cleanup",
      subjectMs: real.ms,
      baselines: base,
      target: "0 media bytes read",
      rssMiB: real.rssMiB,
      note: `median of ${runs}; each run freed ${fmtBytes(total)} (put back between runs from spare hard links, records' ctimeNs updated); media bytes read: see below`,
    });
  } finally {
    dispose(w);
  }
}

function writeReport(seconds: number): void {
  const rclone = spawnSync(RCLONE, ["version"], { encoding: "utf8" }).stdout.split("\n")[0];
  const strace = STRACE ? spawnSync(STRACE, ["-V"], { encoding: "utf8" }).stdout.split("\n")[0] : "strace not installed";
  const fs = spawnSync("findmnt", ["-n", "-o", "FSTYPE", "-T", tmpdir()], { encoding: "utf8" }).stdout.trim() || "?";
  const ratio = (r: Row) => r.baselines.map((b) => `${(r.subjectMs / b.ms).toFixed(1)}× ${b.label === FIND ? "find" : b.label === BARE ? "Node start" : "baseline"}`).join("<br>");
  const lines = [
    "# Benchmarks",
    "",
    `Written by \`npm run bench${quick ? " -- --quick" : ""}\` (this run took ${(seconds / 60).toFixed(1)} minutes); rerun it to refresh. Each time is the median of ${RUNS} runs unless a note says otherwise; each ratio is against a baseline measured in the same run, on the same files: ${FIND} walks the same roots with one stat per file, as the runtime's walk needs, and ${BARE} is Node's bare start. Nothing here is asserted by the test suite.`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()} (temp files on ${fs}), Node.js ${process.version}, ${rclone}, ${strace}. Load average (1 min) ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end: other work on the machine shows up in the times, not in the bytes.`,
    "",
    "| What | Size | Ours (median) | Baselines (median) | Ratio | Target | Peak memory | Notes |",
    "|------|------|---------------|--------------------|-------|--------|-------------|-------|",
    ...rows.map((r) => `| ${r.what} | ${r.size} | ${r.subject}: ${r.subjectMs.toFixed(0)} ms | ${r.baselines.map((b) => `${b.label}: ${b.ms.toFixed(0)} ms`).join("<br>")} | ${ratio(r)} | ${r.target ?? ""} | ${r.rssMiB ? `${r.rssMiB.toFixed(0)} MiB` : ""} | ${r.note ?? ""} |`),
    "",
    "## Media bytes read by cleanup",
    "",
    STRACE
      ? "Counted with `strace -f -y -e trace=read,pread64,readv,preadv,preadv2,sendfile,copy_file_range,splice` (plus clone and execve, to tell threads from child processes, and io_uring_setup/io_uring_enter): every byte returned by a read-like call is added to the file its descriptor names. \"Media\" is any file under the scan roots and the rest of /var/lib/qBittorrent; the Node process (all its threads) is counted apart from the rclone child it starts for the one `rclone lsjson`. rclone's `local` backend stands in for B2 and computes each remote copy's SHA-1 by reading it; B2 stores the SHA-1 given at upload and lists it without reading, so the rclone column is the stand-in's cost, not cleanup's. `/proc/<pid>/io` rchar, read by the Node process as it exits, is a cruder upper bound measured in the same run: every byte read from files, pipes and sockets by the Node process and, because Linux adds a reaped child's counters to its parent's, by the rclone child too. strace does not see reads that make no read-like syscall (a mapped file, or io_uring, which Node 20's libuv uses for asynchronous file operations), so for the GB-sized files the page cache is checked as well: their pages are dropped before the run (`dd iflag=nocache count=0`) and `fincore` counts what is resident after it, which any read by any process, however made, would have brought in."
      : "strace is not installed (`apt-get install strace`), so only `/proc/<pid>/io` rchar of the Node process is reported: every byte it, and the rclone child it reaped, read from files, pipes and sockets; an upper bound on media bytes read.",
    "",
    "| Run | Media bytes read by the Node process (target 0) | Read by rclone (remote side) | rchar of Node + reaped rclone (upper bound) | Media in the page cache after the run (evicted before; any reader) | Notes |",
    "|-----|------------------------------------------------|------------------------------|---------------------------------------------|---------------------------------------------------------------------|-------|",
    ...bytesRows.map((b) => `| ${b.what} | ${b.media} | ${b.remote} | ${b.rchar} | ${b.pageCache} | ${b.note} |`),
    "",
  ];
  const file = join(PROJECT_ROOT, "docs/benchmarks.md");
  const previous = (() => {
    try {
      return readFileSync(file, "utf8").split("\n## Reading the numbers")[1];
    } catch {
      return undefined;
    }
  })();
  writeFileSync(file, `${lines.join("\n")}${previous ? `\n## Reading the numbers${previous}` : ""}`);
  process.stdout.write(`${lines.join("\n")}\nwritten to ${relative(process.cwd(), file)}\n`);
}

await main();
