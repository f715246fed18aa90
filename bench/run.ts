/**
 * npm run bench [-- --quick]
 * Measures generation, the upload job's idle pass and a 500-item upload, and cleanup at three
 * sizes, each against a baseline measured in the same run, and writes docs/benchmarks.md.
 * It reports; it does not pass or fail.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { bundleRuntime } from "../generators/runtime.ts";
import { scratchHost } from "../test/support/scratch-host.ts";
import { PROJECT_ROOT } from "../generators/paths.ts";
import type { RuntimeConfigModel } from "../runtime/config.ts";

const quick = process.argv.includes("--quick");
const RUNS = quick ? 3 : 5;
const MAXRSS = join(PROJECT_ROOT, "bench/maxrss.cjs");
const which = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
const RCLONE = which("rclone");
if (!RCLONE) throw new Error("rclone is not installed: apt-get install rclone");

interface Timing {
  ms: number;
  rssKiB?: number;
}

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; node?: boolean } = {}): Timing {
  const rssFile = join(tmpdir(), `mp-rss-${process.pid}`);
  const fullArgs = options.node ? ["--require", MAXRSS, ...args] : args;
  const start = performance.now();
  const result = spawnSync(options.node ? process.execPath : cmd, fullArgs, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, MP_MAXRSS_FILE: rssFile },
    stdio: ["ignore", "ignore", "pipe"],
    maxBuffer: 1 << 26,
  });
  const ms = performance.now() - start;
  if (result.status !== 0 && !(options.env?.MP_ALLOW_FAIL)) throw new Error(`${cmd} ${args.join(" ")} failed (${result.status}): ${result.stderr?.toString().slice(-400)}`);
  let rssKiB: number | undefined;
  if (options.node) {
    try {
      rssKiB = Number(readFileSync(rssFile, "utf8"));
    } catch {
      /* the process died before exit handlers ran */
    }
  }
  return { ms, rssKiB };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function measure(runs: number, fn: () => Timing, before?: () => void): { ms: number; rssMiB?: number } {
  const times: number[] = [];
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    before?.();
    const t = fn();
    times.push(t.ms);
    rss = Math.max(rss, t.rssKiB ?? 0);
  }
  return { ms: median(times), rssMiB: rss ? rss / 1024 : undefined };
}

interface Row {
  what: string;
  size: string;
  subject: string;
  subjectMs: number;
  baseline: string;
  baselineMs: number;
  target?: string;
  rssMiB?: number;
  note?: string;
}
const rows: Row[] = [];
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

/** The builder's folders under a temp directory, with a config for the runtime pointing at them. */
function world(): { root: string; config: RuntimeConfigModel; configPath: string; remote: string; re: (p: string) => string } {
  const root = mkdtempSync(join(tmpdir(), "mp-bench-"));
  const host = scratchHost(root, { quietPeriodSeconds: 0 });
  const config = host.config;
  const remote = join(root, "remote");
  mkdirSync(remote);
  const configPath = join(root, "config.json");
  writeFileSync(configPath, JSON.stringify(config));
  return { root, config, configPath, remote, re: host.path };
}

function countingRclone(dir: string): { path: string; count: () => number; reset: () => void } {
  const log = join(dir, "rclone-calls");
  const path = join(dir, "rclone-counting");
  writeFileSync(path, `#!/bin/sh\necho x >> ${log}\nexec ${RCLONE} "$@"\n`);
  chmodSync(path, 0o755);
  return {
    path,
    count: () => {
      try {
        return readFileSync(log, "utf8").split("\n").filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    reset: () => rmSync(log, { force: true }),
  };
}

function writeMarker(file: string, remotePath: string): void {
  const st = statSync(file);
  writeFileSync(join(dirname(file), `.${file.split("/").pop()}.uploaded`), JSON.stringify({ version: 1, uploadedAt: "2026-01-01T00:00:00Z", remote: "b2:x", files: [{ remotePath, size: st.size, inode: st.ino }] }));
}

async function main(): Promise<void> {
  const bundleDir = mkdtempSync(join(tmpdir(), "mp-bench-runtime-"));
  const bundle = join(bundleDir, "media-pipeline.mjs");
  writeFileSync(bundle, await bundleRuntime());

  // 1. Generation against bare Node startup.
  log("generation");
  const out = mkdtempSync(join(tmpdir(), "mp-bench-out-"));
  const bare = measure(RUNS, () => run(process.execPath, ["-e", "0"]));
  const gen = measure(RUNS, () => run("", [join(PROJECT_ROOT, "cli/launch.mjs"), "--out", out], { node: true, cwd: PROJECT_ROOT }));
  rows.push({ what: "Generation (`npm run generate`, default spec)", size: "24 files", subject: "node cli/launch.mjs", subjectMs: gen.ms, baseline: "`node -e 0`", baselineMs: bare.ms, target: "≤ 4×", rssMiB: gen.rssMiB });

  // 2. Upload idle pass: everything marked, nothing new.
  for (const files of quick ? [2_000] : [20_000, 100_000]) {
    log(`upload idle pass, ${files} files`);
    const w = world();
    const items = files / 10;
    for (let i = 0; i < items; i++) {
      const lib = i % 2 === 0 ? "/media/arr/tv" : "/media/arr/movies";
      for (let j = 0; j < 10; j++) {
        const rel = `Item ${i}/Season 1/E${j}.mkv`;
        const f = w.re(`${lib}/${rel}`);
        mkdirSync(dirname(f), { recursive: true });
        writeFileSync(f, `${i}-${j}`);
        writeMarker(f, `${lib.endsWith("tv") ? "tv" : "movies"}/${rel}`);
      }
    }
    const counter = countingRclone(w.root);
    const roots = w.config.upload.sources.map((s) => s.path);
    const find = measure(RUNS, () => run("find", [...roots, "-type", "f"]));
    counter.reset();
    const idle = measure(RUNS, () => run("", [bundle, "upload", "--config", w.configPath], { node: true, env: { MEDIA_PIPELINE_RCLONE: counter.path } }));
    rows.push({
      what: "Upload idle pass (all marked)",
      size: `${files.toLocaleString("en")} files in ${items.toLocaleString("en")} items`,
      subject: "upload",
      subjectMs: idle.ms,
      baseline: "`find` over the same roots",
      baselineMs: find.ms,
      target: "≤ 2×, 0 rclone runs",
      rssMiB: idle.rssMiB,
      note: `${counter.count()} rclone processes in ${RUNS} runs`,
    });
    rmSync(w.root, { recursive: true, force: true });
  }

  // 3. Upload of new items.
  {
    const items = quick ? 100 : 500;
    log(`upload of ${items} new items`);
    const w = world();
    const targets = ["/media/arr/tv", "/media/arr/movies", "/var/lib/qBittorrent/completed"];
    for (let i = 0; i < items; i++) {
      const root = targets[i % 3]!;
      const f = w.re(`${root}/Item ${i}/${root.endsWith("completed") ? "file.bin" : "Season 1/E1.mkv"}`);
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, Buffer.alloc(64 * 1024, i % 251));
      const old = Date.now() / 1000 - 3600;
      (await import("node:fs")).utimesSync(f, old, old);
    }
    const counter = countingRclone(w.root);
    const reset = () => {
      rmSync(w.remote, { recursive: true, force: true });
      mkdirSync(w.remote);
      spawnSync("sh", ["-c", `find ${JSON.stringify(w.root)} -name '.*.uploaded' -delete`]);
    };
    const env = { RCLONE_CONFIG_B2_TYPE: "alias", RCLONE_CONFIG_B2_REMOTE: w.remote, RCLONE_CONFIG: "/dev/null" };
    const single = measure(RUNS, () => run(RCLONE, ["copy", w.re("/"), `b2:entertainment-netmount`, "--checksum", "--exclude", "remote/**", "--exclude", "*.json"], { env }), reset);
    counter.reset();
    const up = measure(RUNS, () => run("", [bundle, "upload", "--config", w.configPath], { node: true, env: { ...env, MEDIA_PIPELINE_RCLONE: counter.path } }), reset);
    rows.push({
      what: "Upload of new items",
      size: `${items} items, 64 KiB each, 3 scan roots`,
      subject: "upload",
      subjectMs: up.ms,
      baseline: "one `rclone copy` of the same files",
      baselineMs: single.ms,
      target: "one rclone per scan root",
      rssMiB: up.rssMiB,
      note: `${counter.count() / RUNS} rclone processes per run`,
    });
    rmSync(w.root, { recursive: true, force: true });
  }

  // 4. Cleanup at three sizes, against one find walk and against one `find -inum` per file.
  for (const files of quick ? [2_000, 5_000, 10_000] : [12_500, 25_000, 50_000]) {
    const torrents = files / 50;
    log(`cleanup, ${files} library files, ${torrents} torrents`);
    const w = world();
    const recorded: unknown[] = [];
    /** Whether the recorded answer says no torrent has seeded long enough (the usual 10-minute run). */
    let idle = false;
    const filesOf = new Map<string, { name: string; size: number }[]>();
    const eligibleFiles: string[] = [];
    for (let t = 0; t < torrents; t++) {
      const name = `Show.${t}.S01`;
      const hash = (t.toString(16).padStart(8, "0") + "0".repeat(32)).slice(0, 40);
      const eligible = t % 2 === 0;
      const list: { name: string; size: number }[] = [];
      for (let e = 0; e < 50; e++) {
        const data = `${t}-${e}`;
        const torrentFile = w.re(`/var/lib/qBittorrent/completed/tv/${name}/e${e}.mkv`);
        mkdirSync(dirname(torrentFile), { recursive: true });
        writeFileSync(torrentFile, data);
        const rel = `Show ${t}/Season 1/S01E${e}.mkv`;
        const link = w.re(`/media/arr/tv/${rel}`);
        mkdirSync(dirname(link), { recursive: true });
        linkSync(torrentFile, link);
        writeMarker(link, `tv/${rel}`);
        const remoteCopy = join(w.remote, "entertainment-netmount/tv", rel);
        mkdirSync(dirname(remoteCopy), { recursive: true });
        writeFileSync(remoteCopy, data);
        list.push({ name: `${name}/e${e}.mkv`, size: data.length });
        if (eligible) eligibleFiles.push(link);
      }
      filesOf.set(hash, list);
      recorded.push({ hash, name, category: "tv-sonarr", state: "stalledUP", save_path: w.re("/var/lib/qBittorrent/completed/tv"), content_path: w.re(`/var/lib/qBittorrent/completed/tv/${name}`), progress: 1, seeding_time: eligible ? 10 * 86400 : 3600, completion_on: 1 });
    }
    // A recorded qBittorrent answer served on loopback stands in for qbittorrent-nox at this size.
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname.endsWith("/torrents/info")) return void res.end(JSON.stringify(idle ? recorded.map((t) => ({ ...(t as object), seeding_time: 60 })) : recorded));
      if (url.pathname.endsWith("/torrents/files")) return void res.end(JSON.stringify(filesOf.get(url.searchParams.get("hash") ?? "") ?? []));
      res.end("2.8.19");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    w.config.qbittorrent.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(w.configPath, JSON.stringify(w.config));
    const env = { RCLONE_CONFIG_B2_TYPE: "alias", RCLONE_CONFIG_B2_REMOTE: w.remote, RCLONE_CONFIG: "/dev/null" };
    const roots = w.config.upload.sources.map((s) => s.path);
    const find = measure(RUNS, () => run("find", [...roots, "-type", "f"]));
    const cleanupRuns = async (): Promise<{ ms: number; rssMiB?: number }> => {
      // spawnSync would block the recorded-answer server in this process, so the runs are async.
      const { spawn } = await import("node:child_process");
      const times: number[] = [];
      let rss = 0;
      for (let i = 0; i < RUNS; i++) {
        const rssFile = join(tmpdir(), `mp-rss-clean-${process.pid}`);
        const start = performance.now();
        await new Promise<void>((done, fail) => {
          const child = spawn(process.execPath, ["--require", MAXRSS, bundle, "cleanup", "--dry-run", "--config", w.configPath], { env: { ...process.env, ...env, MP_MAXRSS_FILE: rssFile }, stdio: ["ignore", "ignore", "pipe"] });
          let err = "";
          child.stderr.on("data", (d) => (err += d));
          child.on("close", (code) => (code === 0 ? done() : fail(new Error(`cleanup failed: ${err.slice(-400)}`))));
        });
        times.push(performance.now() - start);
        rss = Math.max(rss, Number(readFileSync(rssFile, "utf8")));
      }
      return { ms: median(times), rssMiB: rss / 1024 };
    };
    idle = true;
    const idleRun = await cleanupRuns();
    idle = false;
    const clean = await cleanupRuns();
    server.close();
    // The naive way: one `find -inum` over the library per torrent file. Measured on a sample.
    const sample = eligibleFiles.slice(0, quick ? 10 : 20);
    const naiveSample = measure(1, () => {
      const start = performance.now();
      for (const f of sample) run("find", [w.re("/media/arr/tv"), "-inum", String(statSync(f).ino)]);
      return { ms: performance.now() - start };
    });
    const naive = (naiveSample.ms / sample.length) * eligibleFiles.length;
    const sizeText = `${files.toLocaleString("en")} library files, ${torrents} torrents`;
    rows.push({
      what: "Cleanup, nothing past the seeding period (the usual run)",
      size: sizeText,
      subject: "cleanup",
      subjectMs: idleRun.ms,
      baseline: "one `find` walk",
      baselineMs: find.ms,
      target: "≤ 3×",
      rssMiB: idleRun.rssMiB,
      note: "qBittorrent is a recorded answer served on loopback",
    });
    rows.push({
      what: `Cleanup, ${torrents / 2} torrents past the seeding period (dry run: plan, remote listing and SHA-1 checks up to the cap of ${w.config.cleanup.maxDeletionsPerRun}, no deletions)`,
      size: sizeText,
      subject: "cleanup --dry-run",
      subjectMs: clean.ms,
      baseline: "one `find` walk",
      baselineMs: find.ms,
      target: "≤ 3×",
      rssMiB: clean.rssMiB,
      note: `naive \`find -inum\` per file of the ${torrents / 2} torrents: ${(naive / 1000).toFixed(1)} s (measured on ${sample.length} files, scaled to ${eligibleFiles.length}), ${(naive / clean.ms).toFixed(0)}× cleanup's time; qBittorrent is a recorded answer served on loopback`,
    });
    rmSync(w.root, { recursive: true, force: true });
  }

  writeReport();
}

function writeReport(): void {
  const rclone = spawnSync(RCLONE, ["version"], { encoding: "utf8" }).stdout.split("\n")[0];
  const lines = [
    "# Benchmarks",
    "",
    `Written by \`npm run bench${quick ? " -- --quick" : ""}\`; rerun it to refresh. Each time is the median of ${RUNS} runs; each ratio is against a baseline measured in the same run, on the same files. Nothing here is asserted by the test suite.`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node.js ${process.version}, ${rclone}.`,
    "",
    "| What | Size | Ours (median) | Baseline (median) | Ratio | Target | Peak memory | Notes |",
    "|------|------|---------------|-------------------|-------|--------|-------------|-------|",
    ...rows.map((r) => `| ${r.what} | ${r.size} | ${r.subject}: ${r.subjectMs.toFixed(0)} ms | ${r.baseline}: ${r.baselineMs.toFixed(0)} ms | ${(r.subjectMs / r.baselineMs).toFixed(1)}× | ${r.target ?? ""} | ${r.rssMiB ? `${r.rssMiB.toFixed(0)} MiB` : ""} | ${r.note ?? ""} |`),
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
