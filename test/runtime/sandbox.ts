/**
 * A scratch copy of the builder's folders for runtime tests: the spec's directories re-rooted under
 * a temp folder, a `local`-type rclone remote named like the spec's B2 remote standing in for B2 (B2
 * itself cannot run here), and the runtime bundled from the current source.
 */
import { execa } from "execa";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { crc32 } from "node:zlib";
import { dirname, join } from "node:path";
import builder from "../../spec/builder.ts";
import { bundleRuntime } from "../../generators/runtime.ts";
import type { RuntimeConfigModel } from "../../runtime/config.ts";
import { requireTool, ROOT } from "../helpers.ts";
import { scratchHost } from "../support/scratch-host.ts";

let bundlePath: string | undefined;
/** The runtime, bundled once per test file from runtime/ as `npm run generate` bundles it. */
export async function runtimeBundle(): Promise<string> {
  if (!bundlePath) {
    const dir = mkdtempSync(join(tmpdir(), "mp-runtime-"));
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
}

export async function sandbox(edit: (config: RuntimeConfigModel) => void = () => {}): Promise<Sandbox> {
  requireTool("rclone");
  const root = mkdtempSync(join(tmpdir(), "mp-sandbox-"));
  const host = scratchHost(root, { quietPeriodSeconds: 60 });
  const { config } = host;
  const reroot = host.path;
  edit(config);
  const remoteRoot = join(root, "remote");
  mkdirSync(remoteRoot);
  const configPath = join(root, "config.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const bundle = await runtimeBundle();
  const bucket = join(remoteRoot, builder.b2.bucket);
  const write = (p: string, contents: string | Buffer, ageSeconds = 3600) => {
    const full = p.startsWith(root) ? p : reroot(p);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, contents);
    const t = Date.now() / 1000 - ageSeconds;
    utimesSync(full, t, t);
    return full;
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
      writeFileSync(configPath, JSON.stringify(config, null, 2));
    },
    async run(command, args = [], options = {}) {
      const result = await execa(process.execPath, [bundle, command, "--config", configPath, ...args], {
        reject: false,
        cwd: remoteRoot,
        env: { RCLONE_CONFIG_B2_TYPE: "local", ...(options.env ?? {}) },
      });
      return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
    },
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

export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, "utf8"));
}
