/**
 * `wire`: brings Sonarr, Radarr, Prowlarr and Jellyfin to what the spec declares, through their
 * APIs, so no setting is copied from one web UI into another. Idempotent: what is already right is
 * left alone (a second run writes nothing); what the spec does not own is reported, not changed.
 *
 * Order: Sonarr and Radarr first (their login, download client and root folders), then Prowlarr,
 * whose applications are tested against them, then Jellyfin. One app failing does not stop the others.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { RuntimeConfigModel, WireConfigModel } from "../config.ts";
import { sayFinished } from "../job.ts";
import { log } from "../log.ts";
import { UsageError } from "../usage.ts";
import { WireError, waitUntilUp } from "./http.ts";
import { jellyfinClient, probeJellyfin, wireJellyfin } from "./jellyfin.ts";
import { WireRun } from "./plan.ts";
import { WIRE_CREDENTIALS, WIRE_ENV } from "./env.ts";
import { APP_NAMES, probeServarr, servarrClient, wireApplications, wireDownloadClient, wireLogin, wireRootFolders, type ServarrApp } from "./servarr.ts";

type WireSecrets = Record<keyof typeof WIRE_ENV, string>;

/**
 * The secrets: systemd credentials when the unit provides them, else the MP_* environment. An API key
 * must be letters and digits: the apps read theirs from an EnvironmentFile, whose parsing would alter
 * quotes, backslashes and spaces, so the app's key would differ from the one the job sends.
 */
export function readWireSecrets(env: NodeJS.ProcessEnv): WireSecrets {
  const dir = env.CREDENTIALS_DIRECTORY;
  const keys = Object.keys(WIRE_ENV) as (keyof typeof WIRE_ENV)[];
  const read = (key: keyof typeof WIRE_ENV): string | undefined => {
    if (!dir) return env[WIRE_ENV[key]] || undefined;
    const file = join(dir, WIRE_CREDENTIALS[key]);
    if (!existsSync(file)) return undefined;
    // A sops secret file holds the value as written; an editor may have added one final newline.
    return readFileSync(file, "utf8").replace(/\n$/, "") || undefined;
  };
  const values = Object.fromEntries(keys.map((k) => [k, read(k)]));
  const missing = keys.filter((k) => values[k] === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      dir
        ? `wire needs the credentials ${missing.map((k) => WIRE_CREDENTIALS[k]).join(", ")} in ${dir}; the unit loads them from the sops secrets (LoadCredential=)`
        : `wire needs ${missing.map((k) => WIRE_ENV[k]).join(", ")} in its environment, or its credentials in $CREDENTIALS_DIRECTORY as the unit provides them`,
    );
  }
  for (const key of ["sonarrApiKey", "radarrApiKey", "prowlarrApiKey"] as const) {
    if (!/^[A-Za-z0-9]+$/.test(values[key]!)) {
      throw new UsageError(`the ${key.replace("ApiKey", "")} API key from sops has characters other than letters and digits; the app reads it from an environment file, which would alter them. Generate one with: openssl rand -hex 16`);
    }
  }
  return values as WireSecrets;
}

export interface WireOptions {
  dryRun: boolean;
  env?: NodeJS.ProcessEnv;
  /** Whether a library path exists; Jellyfin refuses one that does not. Tests replace it. */
  isDirectory?: (path: string) => boolean;
  /** Seconds between attempts while an app is starting. */
  pollMs?: number;
}

export interface WireSummary {
  exitCode: number;
  changes: number;
  reported: number;
  pending: number;
  failed: string[];
}

const isDirectory = (path: string) => existsSync(path) && statSync(path).isDirectory();

export async function wire(config: RuntimeConfigModel, options: WireOptions): Promise<WireSummary> {
  if (!config.wire) throw new UsageError("the config has no wire section; regenerate it from the spec");
  const w: WireConfigModel = config.wire;
  const secrets = readWireSecrets(options.env ?? process.env);
  const started = Date.now();
  const run = new WireRun(options.dryRun);
  for (const [app, key] of [["sonarr", secrets.sonarrApiKey], ["radarr", secrets.radarrApiKey], ["prowlarr", secrets.prowlarrApiKey]] as const) {
    // Sonarr raises a health warning for keys under 20 characters (ConfigFileProvider.cs).
    if (key.length < 20) log.warn(`${APP_NAMES[app]}: the API key from sops has ${key.length} characters; the app warns below 20, so generate a longer one (openssl rand -hex 16)`);
  }

  const step = async (app: ServarrApp | "jellyfin", body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      run.fail(APP_NAMES[app], error.message);
    }
  };
  const up = (app: ServarrApp | "jellyfin", probe: () => Promise<unknown>) =>
    waitUntilUp(APP_NAMES[app], w.waitSeconds, async () => void (await probe()), () => log.info(`${APP_NAMES[app]}: waiting for it to answer (up to ${w.waitSeconds}s)`), options.pollMs);

  // Once an app answers, each part is its own step: qBittorrent down (the client's connection test fails) must not keep the root folders unset.
  const inParts = async (app: ServarrApp, client: ReturnType<typeof servarrClient>, ...rest: (() => Promise<void>)[]) => {
    let answered = false;
    await step(app, async () => {
      await up(app, () => probeServarr(app, client));
      answered = true;
    });
    if (answered) for (const part of rest) await step(app, part);
  };
  for (const app of ["sonarr", "radarr"] as const) {
    const client = servarrClient(app, w[app].url, app === "sonarr" ? secrets.sonarrApiKey : secrets.radarrApiKey);
    await inParts(
      app,
      client,
      () => wireLogin(run, app, client, w[app].user, app === "sonarr" ? secrets.sonarrPassword : secrets.radarrPassword),
      () => wireDownloadClient(run, app, client, w),
      () => wireRootFolders(run, app, client, w[app].rootFolders),
    );
  }
  const prowlarr = servarrClient("prowlarr", w.prowlarr.url, secrets.prowlarrApiKey);
  await inParts(
    "prowlarr",
    prowlarr,
    () => wireLogin(run, "prowlarr", prowlarr, w.prowlarr.user, secrets.prowlarrPassword),
    () => wireApplications(run, prowlarr, w, { sonarr: secrets.sonarrApiKey, radarr: secrets.radarrApiKey }),
  );
  await step("jellyfin", async () => {
    await up("jellyfin", () => probeJellyfin(jellyfinClient(w.jellyfin.url)));
    await wireJellyfin(run, w.jellyfin.url, w.jellyfin, secrets.jellyfinPassword, { isDirectory: options.isDirectory ?? isDirectory, stateDir: w.stateDir });
  });

  const failed = run.failed.length > 0;
  const parts = [
    `${run.changes} ${run.changes === 1 ? "change" : "changes"}${options.dryRun ? " to make" : ""}`,
    `${run.reported} not in the spec, left alone`,
    `${run.pending} waiting for a folder`,
    failed ? `failed: ${run.failed.join(", ")}` : "every app answered",
  ];
  sayFinished("wire", options.dryRun, started, { parts, failed });
  return { exitCode: failed ? 1 : 0, changes: run.changes, reported: run.reported, pending: run.pending, failed: run.failed };
}
export { WIRE_CREDENTIALS, WIRE_ENV };
