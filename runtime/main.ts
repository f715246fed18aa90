/**
 * The media-pipeline runtime: the jobs the generated systemd units run.
 *   node media-pipeline.mjs <command> --config FILE [--dry-run]
 * Bundled into out/runtime/media-pipeline.mjs; needs nothing but Node.js at run time.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { RuntimeConfig, type RuntimeConfigModel } from "./config.ts";
import { categories } from "./categories.ts";
import { Attention } from "./attention.ts";
import { cleanup, CleanupError } from "./cleanup/index.ts";
import { acquireLock } from "./lock.ts";
import { join } from "node:path";
import { StateError } from "./state.ts";
import { QbittorrentError } from "./qbittorrent.ts";
import { RemoteError } from "./rclone.ts";
import { upload } from "./upload.ts";
import { UsageError } from "./usage.ts";
import { wire } from "./wire/index.ts";
import { WireError } from "./wire/http.ts";

const HELP = `Usage: media-pipeline <command> --config FILE [options]

Commands:
  upload       Upload library files, uncategorized downloads and the extras of due torrents
               to B2, and record each file confirmed there
  cleanup      Remove torrents past the seeding period, and unreferenced files, whose every
               file is recorded as uploaded and verified on B2 now
  categories   Create qBittorrent's download categories with their save paths
  wire         Set up Sonarr, Radarr, Prowlarr and Jellyfin as the spec declares: logins,
               download client, root folders, Prowlarr's apps, Jellyfin's wizard and libraries;
               reads its API keys and passwords from $CREDENTIALS_DIRECTORY (the unit's
               LoadCredential=), or from MP_SONARR_API_KEY, MP_SONARR_PASSWORD, … when run by hand
  attention    List the items upload set aside after failing the same way repeatedly
  retry KEY    Clear a set-aside item so the next upload run tries it again
  check-config Validate the config file and print it

Options:
  --config FILE  The runtime config (on a host: /etc/media-pipeline/config.json)
  --dry-run      Print what would be done; change nothing
  -h, --help     Show this help

Exit codes: 0 success, 1 a job failed (wire: an app failed; the others are still set up),
2 bad usage or config, 75 retry while upload runs.`;

export { UsageError };

export function loadConfig(file: string): RuntimeConfigModel {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read config ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config ${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = RuntimeConfig.safeParse(data);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new UsageError(`config ${file} is invalid:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

type Command = (config: RuntimeConfigModel, options: { dryRun: boolean; args: string[] }) => Promise<number>;

function listAttention(config: RuntimeConfigModel): number {
  const attention = Attention.open(config.stateDir);
  if (attention.entries.size === 0) {
    process.stdout.write("No item needs attention.\n");
    return 0;
  }
  for (const [key, e] of attention.entries) {
    const status = e.setAside ? "set aside" : `failed ${e.failures}×, still retried`;
    process.stdout.write(`${JSON.stringify(key)}: ${status} since ${e.firstFailed}, last ${e.lastFailed}\n    ${e.lastError}\n`);
  }
  process.stdout.write(`\nRetry one with: media-pipeline retry KEY --config FILE\n`);
  return 0;
}

function retry(config: RuntimeConfigModel, key: string | undefined, dryRun: boolean): number {
  if (!key) throw new UsageError("retry needs the KEY of an item; media-pipeline attention lists them");
  // attention.json belongs to upload: change it only while no upload runs.
  const lock = dryRun ? undefined : acquireLock(join(config.lockDir, "upload.lock"));
  if (lock && "heldBy" in lock) {
    process.stderr.write(`media-pipeline: an upload run (pid ${lock.heldBy}) is in progress; try again when it ends\n`);
    return 75;
  }
  try {
    const attention = Attention.open(config.stateDir);
    if (!attention.entries.has(key)) throw new UsageError(`no item ${JSON.stringify(key)} needs attention; media-pipeline attention lists them`);
    if (dryRun) {
      process.stdout.write(`would clear ${JSON.stringify(key)}; the next upload run would try it again\n`);
      return 0;
    }
    attention.clear(key);
    attention.save();
    process.stdout.write(`cleared ${JSON.stringify(key)}; the next upload run tries it again\n`);
    return 0;
  } finally {
    lock?.release();
  }
}

const COMMANDS: Record<string, Command> = {
  upload: async (config, options) => (await upload(config, options)).exitCode,
  cleanup: async (config, options) => (await cleanup(config, options)).exitCode,
  categories,
  wire: async (config, options) => (await wire(config, options)).exitCode,
  attention: async (config) => listAttention(config),
  retry: async (config, options) => retry(config, options.args[0], options.dryRun),
  "check-config": async (config) => {
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    return 0;
  },
};

export async function main(argv: string[]): Promise<number> {
  let values: { config?: string; "dry-run"?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: "string" }, "dry-run": { type: "boolean" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    process.stderr.write(`media-pipeline: ${(error as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const [name, ...extra] = positionals;
  if (!name) {
    process.stderr.write(`media-pipeline: no command given\n\n${HELP}\n`);
    return 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`media-pipeline: unknown command ${JSON.stringify(name)}; run with --help for the list\n`);
    return 2;
  }
  if (extra.length > (name === "retry" ? 1 : 0)) {
    process.stderr.write(`media-pipeline: unexpected argument ${JSON.stringify(extra[0])}\n`);
    return 2;
  }
  if (!values.config) {
    process.stderr.write(`media-pipeline: ${name} needs --config FILE\n`);
    return 2;
  }
  try {
    return await command(loadConfig(values.config), { dryRun: values["dry-run"] ?? false, args: extra });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`media-pipeline: ${error.message}\n`);
      return 2;
    }
    // Expected failures (qBittorrent unreachable, remote unlisted) are one clear line; anything else keeps its stack.
    const expected = error instanceof QbittorrentError || error instanceof CleanupError || error instanceof RemoteError || error instanceof StateError || error instanceof WireError;
    process.stderr.write(`media-pipeline: ${name} failed: ${expected ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
    return 1;
  }
}

