/**
 * `wire`: brings Sonarr, Radarr, Prowlarr and Jellyfin to what the spec declares, through their
 * APIs, so no setting is copied from one web UI into another. Idempotent: what is already right is
 * left alone (a second run writes nothing); what the spec does not own is reported, not changed.
 *
 * Order: Sonarr and Radarr first (their login, download client and root folders), then Prowlarr,
 * whose applications are tested against them, then Jellyfin. One app failing does not stop the others.
 */
import { existsSync, statSync } from "node:fs";
import type { RuntimeConfigModel, WireConfigModel } from "../config.ts";
import { formatSeconds, log } from "../log.ts";
import { UsageError } from "../usage.ts";
import { WireError, waitUntilUp } from "./http.ts";
import { jellyfinClient, probeJellyfin, wireJellyfin } from "./jellyfin.ts";
import { WireRun } from "./plan.ts";
import { WIRE_ENV } from "./env.ts";
import { APP_NAMES, probeServarr, servarrClient, wireApplications, wireDownloadClient, wireLogin, wireRootFolders, type ServarrApp } from "./servarr.ts";

type WireSecrets = Record<keyof typeof WIRE_ENV, string>;

export function readWireSecrets(env: NodeJS.ProcessEnv): WireSecrets {
  const missing = Object.values(WIRE_ENV).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new UsageError(`wire needs ${missing.join(", ")} in its environment; on the host they come from the wire unit's EnvironmentFile (the sops template media-pipeline-wire.env)`);
  }
  return Object.fromEntries(Object.entries(WIRE_ENV).map(([key, name]) => [key, env[name]!])) as WireSecrets;
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

  for (const app of ["sonarr", "radarr"] as const) {
    await step(app, async () => {
      const client = servarrClient(app, w[app].url, app === "sonarr" ? secrets.sonarrApiKey : secrets.radarrApiKey);
      await up(app, () => probeServarr(app, client));
      await wireLogin(run, app, client, w[app].user, app === "sonarr" ? secrets.sonarrPassword : secrets.radarrPassword);
      await wireDownloadClient(run, app, client, w);
      await wireRootFolders(run, app, client, w[app].rootFolders);
    });
  }
  await step("prowlarr", async () => {
    const client = servarrClient("prowlarr", w.prowlarr.url, secrets.prowlarrApiKey);
    await up("prowlarr", () => probeServarr("prowlarr", client));
    await wireLogin(run, "prowlarr", client, w.prowlarr.user, secrets.prowlarrPassword);
    await wireApplications(run, client, w, { sonarr: secrets.sonarrApiKey, radarr: secrets.radarrApiKey });
  });
  await step("jellyfin", async () => {
    await up("jellyfin", () => probeJellyfin(jellyfinClient(w.jellyfin.url)));
    await wireJellyfin(run, w.jellyfin.url, w.jellyfin, secrets.jellyfinPassword, { isDirectory: options.isDirectory ?? isDirectory });
  });

  const failed = run.failed.length > 0;
  const parts = [
    `${run.changes} ${run.changes === 1 ? "change" : "changes"}${options.dryRun ? " to make" : ""}`,
    `${run.reported} not in the spec, left alone`,
    `${run.pending} waiting for a folder`,
    failed ? `failed: ${run.failed.join(", ")}` : "every app answered",
  ];
  const line = `wire ${options.dryRun ? "(dry run) " : ""}finished in ${formatSeconds(Date.now() - started)}: ${parts.join(", ")}`;
  if (failed) log.warn(line);
  else log.info(line);
  return { exitCode: failed ? 1 : 0, changes: run.changes, reported: run.reported, pending: run.pending, failed: run.failed };
}
export { WIRE_ENV };
