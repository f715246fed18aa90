/**
 * The four apps as fakes (MODELS written from the apps' sources, test/fakes), and the runtime config
 * generated from the default spec with each app's address moved to its fake. Everything else in the
 * config (categories, root folders, libraries, qBittorrent's address) is what `npm run generate`
 * writes for the host.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import defaultSpec from "../../spec/builder.ts";
import { RuntimeConfig, type RuntimeConfigModel } from "../../runtime/config.ts";
import { setLogSink } from "../../runtime/log.ts";
import { wire, WIRE_ENV, type WireSummary } from "../../runtime/wire/index.ts";
import { startFakeJellyfin, startFakeServarr, type FakeJellyfin, type FakeServarr } from "../fakes/index.ts";
import { parseSpec } from "../../spec/validate.ts";
import { runtimeConfig } from "../../generators/runtime.ts";

export interface Stack {
  sonarr: FakeServarr;
  radarr: FakeServarr;
  prowlarr: FakeServarr;
  jellyfin: FakeJellyfin;
  config: RuntimeConfigModel;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export interface StackOptions {
  contracts?: { sonarr: object; radarr: object; prowlarr: object };
  /** Whether Sonarr's and Radarr's connection test reaches qBittorrent (default true). */
  qbittorrentReachable?: boolean;
  /** Per app: answer 503 for this long after start. */
  unavailableForMs?: Partial<Record<"sonarr" | "radarr" | "prowlarr" | "jellyfin", number>>;
}

/** The generated config for the default spec: what the host gets at /etc/media-pipeline/config.json. */
export function generatedConfig(): RuntimeConfigModel {
  return RuntimeConfig.parse(runtimeConfig({ spec: parseSpec(defaultSpec), specFile: "spec/builder.ts" }));
}

/** Library folders the job and the fake Jellyfin see as existing: the spec's, which do not exist on this machine. */
export const allFoldersExist = () => true;

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // Keys as `openssl rand -hex 16` makes them; the passwords as long random strings.
  const secret = () => randomBytes(16).toString("hex");
  const keys = { sonarr: secret(), radarr: secret(), prowlarr: secret() };
  // The NixOS modules set <APP>__AUTH__METHOD=Forms (out/nixos/sonarr.nix), so the apps start with Forms.
  const servarr = (app: "sonarr" | "radarr" | "prowlarr") =>
    startFakeServarr(app, { apiKey: keys[app], contract: options.contracts?.[app], isDirectory: allFoldersExist, envAuthenticationMethod: "forms", qbittorrentReachable: options.qbittorrentReachable ?? true, unavailableForMs: options.unavailableForMs?.[app] });
  const [sonarr, radarr, prowlarr, jellyfin] = await Promise.all([
    servarr("sonarr"),
    servarr("radarr"),
    servarr("prowlarr"),
    startFakeJellyfin({ isDirectory: allFoldersExist, unavailableForMs: options.unavailableForMs?.jellyfin, processUser: "media" }),
  ]);
  const config = generatedConfig();
  const w = config.wire!;
  w.sonarr.url = sonarr.url;
  w.radarr.url = radarr.url;
  w.prowlarr.url = prowlarr.url;
  w.jellyfin.url = jellyfin.url;
  // Prowlarr calls Sonarr and Radarr at baseUrl (its connection test does, in the fake as in the app).
  // Its test asks the app to add an indexer pointing back at prowlarrUrl, which the app then calls (Prowlarr's SonarrV3Proxy).
  for (const a of w.prowlarr.applications) {
    a.baseUrl = a.app === "sonarr" ? sonarr.url : radarr.url;
    a.prowlarrUrl = prowlarr.url;
  }
  w.waitSeconds = 5;
  w.stateDir = mkdtempSync(join(tmpdir(), "mp-wire-state-"));
  const env = {
    [WIRE_ENV.sonarrApiKey]: keys.sonarr,
    [WIRE_ENV.radarrApiKey]: keys.radarr,
    [WIRE_ENV.prowlarrApiKey]: keys.prowlarr,
    [WIRE_ENV.sonarrPassword]: secret(),
    [WIRE_ENV.radarrPassword]: secret(),
    [WIRE_ENV.prowlarrPassword]: secret(),
    [WIRE_ENV.jellyfinPassword]: secret(),
  };
  return {
    sonarr,
    radarr,
    prowlarr,
    jellyfin,
    config,
    env,
    close: async () => {
      await Promise.all([sonarr.close(), radarr.close(), prowlarr.close(), jellyfin.close()]);
    },
  };
}

export interface Run {
  summary: WireSummary;
  lines: string[];
  /** The writes this run made, per app. */
  writes: Record<"sonarr" | "radarr" | "prowlarr" | "jellyfin", string[]>;
}

/** One wire run, in-process, its log lines captured. */
export async function runWire(stack: Stack, dryRun = false, config: RuntimeConfigModel = stack.config): Promise<Run> {
  const apps = ["sonarr", "radarr", "prowlarr", "jellyfin"] as const;
  const before = Object.fromEntries(apps.map((a) => [a, stack[a].writes.length]));
  const lines: string[] = [];
  // Outside journald the log already prefixes warnings and errors with their level.
  setLogSink((_level, line) => lines.push(line));
  try {
    const summary = await wire(config, { dryRun, env: stack.env, isDirectory: allFoldersExist, pollMs: 100 });
    const writes = Object.fromEntries(apps.map((a) => [a, stack[a].writes.slice(before[a]).map((w) => `${w.method} ${w.path}`)])) as Run["writes"];
    return { summary, lines, writes };
  } finally {
    setLogSink(undefined);
  }
}

const field = (settings: Record<string, unknown>, name: string) => settings[name];

/**
 * What the seed's setup leaves in each app, read from the fakes' state (not through the job):
 * one line per fact that does not hold. Things the spec does not own (extra clients, extra folders)
 * are allowed; the job reports them.
 */
export function seedSetupProblems(stack: Stack): string[] {
  const problems: string[] = [];
  const w = stack.config.wire!;
  for (const app of ["sonarr", "radarr"] as const) {
    const s = stack[app].state;
    const category = app === "sonarr" ? "tvCategory" : "movieCategory";
    const clients = s.downloadClients.filter((c) => c.implementation === "QBittorrent" && ["localhost", "127.0.0.1"].includes(String(field(c.settings, "host"))) && field(c.settings, "port") === w.qbittorrent.port);
    const good = clients.filter((c) => c.enable === true && c.removeCompletedDownloads === false && field(c.settings, category) === w[app].category);
    if (good.length === 0) problems.push(`${app}: no enabled qBittorrent client at localhost:${w.qbittorrent.port} with ${category} ${w[app].category} and removeCompletedDownloads off (${JSON.stringify(s.downloadClients)})`);
    for (const root of w[app].rootFolders) if (!s.rootFolders.some((r) => r.path.replace(/\/$/, "") === root)) problems.push(`${app}: no root folder ${root}`);
    if (!s.user || s.user.username !== w[app].user) problems.push(`${app}: no user ${w[app].user}`);
  }
  const p = stack.prowlarr.state;
  for (const wanted of w.prowlarr.applications) {
    const impl = wanted.app === "sonarr" ? "Sonarr" : "Radarr";
    const key = stack.env[wanted.app === "sonarr" ? WIRE_ENV.sonarrApiKey : WIRE_ENV.radarrApiKey];
    const ok = p.applications.some(
      (a) => a.implementation === impl && a.syncLevel === "fullSync" && field(a.settings, "baseUrl") === wanted.baseUrl && field(a.settings, "prowlarrUrl") === wanted.prowlarrUrl && field(a.settings, "apiKey") === key,
    );
    if (!ok) problems.push(`prowlarr: no ${impl} application at ${wanted.baseUrl} with Full Sync and the right key (${JSON.stringify(p.applications)})`);
  }
  if (!stack.prowlarr.state.user) problems.push("prowlarr: no user");
  const j = stack.jellyfin.state;
  if (!j.wizardCompleted) problems.push("jellyfin: wizard not completed");
  if (!j.users.some((u) => u.name === w.jellyfin.user && u.isAdministrator && u.passwordHash)) problems.push(`jellyfin: no administrator ${w.jellyfin.user} with a password`);
  for (const library of w.jellyfin.libraries) {
    const found = j.virtualFolders.find((f) => f.name === library.name);
    if (!found) problems.push(`jellyfin: no library ${library.name}`);
    else {
      if (found.collectionType !== library.collectionType) problems.push(`jellyfin: ${library.name} is ${String(found.collectionType)}`);
      for (const path of library.paths) if (!found.paths.includes(path)) problems.push(`jellyfin: ${library.name} lacks ${path}`);
    }
  }
  return problems;
}
