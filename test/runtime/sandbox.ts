/**
 * A scratch copy of the builder's folders for runtime tests: the spec's directories re-rooted under
 * a temp folder, a `local`-type rclone remote named like the spec's B2 remote standing in for B2 (B2
 * itself cannot run here), and the runtime bundled from the current source.
 *
 * Another build of the runtime can be put under the same tests: MP_TEST_RUNTIME names its bundle,
 * and MP_TEST_RUNTIME_LEGACY=1 writes the config as the runtime before upload records read it
 * (`upload.marker`, no `stateDir`, `extractedPrefix`, `attentionAfterFailures`, `orphanGraceSeconds`).
 * That is how the cleanup-safety cases were checked against the code they fix.
 */
import { execa } from "execa";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { crc32 } from "node:zlib";
import { dirname, join } from "node:path";
import builder from "../../spec/builder.ts";
import { bundleRuntime } from "../../generators/runtime.ts";
import type { RuntimeConfigModel } from "../../runtime/config.ts";
import type { UploadRecord } from "../../runtime/records.ts";
import { requireTool, ROOT } from "../helpers.ts";
import { scratchHost } from "../support/scratch-host.ts";

let bundlePath: string | undefined;
/** The runtime, bundled once per test file from runtime/ as `npm run generate` bundles it (again if its file went away), or MP_TEST_RUNTIME. */
export async function runtimeBundle(): Promise<string> {
  if (process.env.MP_TEST_RUNTIME) return process.env.MP_TEST_RUNTIME;
  if (!bundlePath || !existsSync(bundlePath)) {
    // Under node_modules/.cache, not /tmp: a bundle in /tmp was seen to vanish mid-run while other
    // test files cleaned up their temporary folders.
    const dir = join(ROOT, "node_modules", ".cache", "media-pipeline-test", `runtime-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    bundlePath = join(dir, "media-pipeline.mjs");
    writeFileSync(bundlePath, await bundleRuntime());
  }
  return bundlePath;
}

export const FIXTURES = join(ROOT, "test", "fixtures", "archives");
export function fixture(name: string): string {
  const path = join(FIXTURES, name);
  if (!existsSync(path)) throw new Error(`fixture ${path} is missing; it belongs to the repository (test/fixtures/archives)`);
  return path;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** An upload record as stored in uploads.json, with its `dev:ino` key. */
export type StoredRecord = UploadRecord & { key: string };

export interface Sandbox {
  root: string;
  config: RuntimeConfigModel;
  configPath: string;
  /** The folder the local remote resolves `b2:entertainment-netmount` in. */
  remoteRoot: string;
  bucket: string;
  path(p: string): string;
  /** Writes a file, dated `ageSeconds` ago (default: an hour, well past the quiet period). */
  write(p: string, contents: string | Buffer, ageSeconds?: number): string;
  /** Changes the config file the runtime reads. */
  update(edit: (config: RuntimeConfigModel) => void): void;
  /** Copies a fixture in, dated an hour ago. */
  copy(from: string, p: string): string;
  run(command: string, args?: string[], options?: { env?: Record<string, string> }): Promise<RunResult>;
  /** Every record of ${stateDir}/uploads.json (none when upload has not written it). */
  records(): StoredRecord[];
  /** The current record of the file at `p` (same inode, size, modification and change time), if any. */
  recordOf(p: string): StoredRecord | undefined;
  /** The files on the stand-in remote, relative to the bucket, sorted. */
  remoteFiles(): string[];
  /** A file on the stand-in remote (relative to the bucket). */
  remote(p: string): Buffer;
}

const legacy = () => process.env.MP_TEST_RUNTIME_LEGACY === "1";

/** The config as the runtime before upload records read it (see the header). */
function legacyConfig(config: RuntimeConfigModel): unknown {
  const { stateDir: _state, ...rest } = config;
  const { extractedPrefix: _prefix, attentionAfterFailures: _attention, ...upload } = config.upload;
  const { orphanGraceSeconds: _grace, ...cleanup } = config.cleanup;
  return { ...rest, upload: { ...upload, marker: ".uploaded" }, cleanup };
}

/** Regular files below `dir`, relative to it, sorted; [] when it does not exist. */
export function listFiles(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
        .sort()
    : [];
}

/**
 * A sandbox. `parent` puts its root in that folder instead of the system temp folder: a folder
 * qBittorrent 5.1 (under chroot) sees at the same path, from `sharedDir`.
 */
export async function sandbox(edit: (config: RuntimeConfigModel) => void = () => {}, options: { parent?: string } = {}): Promise<Sandbox> {
  requireTool("rclone");
  const root = mkdtempSync(join(options.parent ?? tmpdir(), "mp-sandbox-"));
  const host = scratchHost(root, { quietPeriodSeconds: 60 });
  const { config } = host;
  const reroot = host.path;
  edit(config);
  const remoteRoot = join(root, "remote");
  mkdirSync(remoteRoot);
  const configPath = join(root, "config.json");
  const save = () => writeFileSync(configPath, JSON.stringify(legacy() ? legacyConfig(config) : config, null, 2));
  save();
  await runtimeBundle();
  const bucket = join(remoteRoot, builder.b2.bucket);
  const write = (p: string, contents: string | Buffer, ageSeconds = 3600) => {
    const full = p.startsWith(root) ? p : reroot(p);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, contents);
    const t = Date.now() / 1000 - ageSeconds;
    utimesSync(full, t, t);
    return full;
  };
  const records = (): StoredRecord[] => {
    const file = join(config.stateDir, "uploads.json");
    if (!existsSync(file)) return [];
    const doc = JSON.parse(readFileSync(file, "utf8")) as { version: number; records: Record<string, UploadRecord> };
    return Object.entries(doc.records).map(([key, r]) => ({ ...r, key }));
  };
  return {
    root,
    config,
    configPath,
    remoteRoot,
    bucket,
    path: reroot,
    write,
    copy: (from, p) => write(p, readFileSync(from)),
    update(edit) {
      edit(config);
      save();
    },
    async run(command, args = [], options = {}) {
      // Looked up at each run: a temp folder cleaner may have taken the bundle since.
      const result = await execa(process.execPath, [await runtimeBundle(), command, "--config", configPath, ...args], {
        reject: false,
        cwd: remoteRoot,
        env: { RCLONE_CONFIG_B2_TYPE: "local", ...(options.env ?? {}) },
      });
      return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
    },
    records,
    recordOf(p) {
      const full = p.startsWith(root) ? p : reroot(p);
      const st = statSync(full, { bigint: true });
      const r = records().find((x) => x.key === `${st.dev}:${st.ino}`);
      // As upload matches a record to a file: same inode (the key), size, modification and change time.
      return r && r.size === Number(st.size) && r.mtimeNs === String(st.mtimeNs) && r.ctimeNs === String(st.ctimeNs) ? r : undefined;
    },
    remoteFiles: () => listFiles(bucket),
    remote: (p) => readFileSync(join(bucket, p)),
  };
}

/**
 * The multi-volume fixture as an old-style set (`set.rar`, `set.r00`, `set.r01`): the same RAR4
 * volumes with the "new volume naming" flag (0x0010) cleared in each main header, and the header
 * CRC recomputed, which is all that differs between the two naming styles.
 */
export function oldStyleVolumes(): { name: string; data: Buffer }[] {
  return ["set.rar", "set.r00", "set.r01"].map((name, i) => {
    const data = Buffer.from(readFileSync(fixture(`multivolume.part${i + 1}.rar`)));
    if (data.subarray(0, 7).toString("latin1") !== "Rar!\x1a\x07\x00" || data[9] !== 0x73) throw new Error("fixture is not a RAR4 volume");
    data.writeUInt16LE(data.readUInt16LE(10) & ~0x0010, 10);
    const size = data.readUInt16LE(12);
    data.writeUInt16LE(crc32(data.subarray(9, 7 + size)) & 0xffff, 7);
    return { name, data };
  });
}

/**
 * A Zip archive of regular files, stored (no compression), written byte by byte: unar reads it like
 * any other, and the test shows exactly what it holds. Folders come from the names (`dir/x.txt`).
 */
export function storedZip(entries: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [entryName, contents] of Object.entries(entries)) {
    const name = Buffer.from(entryName);
    const data = Buffer.from(contents);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(0x0800, 8);
    header.writeUInt16LE(0x21, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(data.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    header.writeUInt32LE(offset, 42);
    parts.push(local, name, data);
    central.push(header, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, "utf8"));
}
