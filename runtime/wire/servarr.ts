/**
 * Sonarr, Radarr and Prowlarr: the login, the qBittorrent download client, the root folders and
 * Prowlarr's applications. Every call is one of the apps' published API (OpenAPI v3 for Sonarr and
 * Radarr, v1 for Prowlarr); what the documents do not say is taken from the apps' sources, named
 * where it is used.
 */
import { q } from "../log.ts";
import type { WireConfigModel } from "../config.ts";
import { AppClient, RefusedError, WireError } from "./http.ts";
import type { WireRun } from "./plan.ts";

export type ServarrApp = "sonarr" | "radarr" | "prowlarr";
export const APP_NAMES: Record<ServarrApp | "jellyfin", string> = { sonarr: "Sonarr", radarr: "Radarr", prowlarr: "Prowlarr", jellyfin: "Jellyfin" };
const API: Record<ServarrApp, string> = { sonarr: "/api/v3", radarr: "/api/v3", prowlarr: "/api/v1" };

/** A provider field (`fields[]` of a download client or application): `{ name, value, … }`. */
interface Field {
  name: string;
  value?: unknown;
  [other: string]: unknown;
}
interface Provider {
  id?: number;
  name?: string | null;
  implementation?: string | null;
  fields?: Field[] | null;
  enable?: boolean;
  [other: string]: unknown;
}
interface DownloadClient extends Provider {
  removeCompletedDownloads?: boolean;
}
interface Application extends Provider {
  syncLevel?: string;
}
interface RootFolder {
  id?: number;
  path?: string | null;
}

/**
 * What a write of a secret field carrying this value means: "keep the stored one". The apps answer
 * every password and API key field with it (Sonarr `src/Sonarr.Http/ClientSchema/SchemaBuilder.cs`,
 * PRIVATE_VALUE), so a stored key cannot be read back, only tested.
 */
export const MASKED = "********";

export interface ServarrSecrets {
  apiKey: string;
  password: string;
}

export function servarrClient(app: ServarrApp, url: string, apiKey: string): AppClient {
  return new AppClient(APP_NAMES[app], url, { "X-Api-Key": apiKey });
}

/** Up and taking our API key: `GET system/status`. 401 means the key from sops is not the app's. */
export async function probeServarr(app: ServarrApp, client: AppClient): Promise<void> {
  const answer = await client.call<{ version?: string }>("GET", `${API[app]}/system/status`, { accept: (s) => s === 200 || s === 401 });
  if (answer.status === 401) {
    throw new RefusedError(
      `${APP_NAMES[app]} refuses the API key from sops (401 on ${API[app]}/system/status); it reads its key from ${app.toUpperCase()}__AUTH__APIKEY in its environment, so check that its service has the generated environment file and was restarted after the key changed`,
    );
  }
}

const field = (provider: Provider, name: string): unknown => provider.fields?.find((f) => f.name === name)?.value;

function withFields(provider: Provider, values: Record<string, unknown>): Provider {
  const fields = (provider.fields ?? []).map((f) => (Object.hasOwn(values, f.name) ? { ...f, value: values[f.name] } : f));
  const missing = Object.keys(values).filter((name) => !fields.some((f) => f.name === name));
  if (missing.length > 0) throw new WireError(`${provider.implementation ?? "the provider"} has no field ${missing.map((m) => q(m)).join(", ")}; this app version is not one the wire job knows`);
  return { ...provider, fields };
}

/**
 * The app's login: Forms authentication with the spec's user and the password from sops. Whether it
 * is already right is found by logging in (`POST /login`, Sonarr
 * `src/Sonarr.Http/Authentication/AuthenticationController.cs`: a failed login redirects to
 * `/login?…loginFailed=true`), which writes nothing.
 */
export async function wireLogin(run: WireRun, app: ServarrApp, client: AppClient, user: string, password: string): Promise<void> {
  const name = APP_NAMES[app];
  const answer = await client.call("POST", "/login", { form: { username: user, password, rememberMe: "" }, accept: (s) => s === 302 || s === 303 || s === 200 || s === 401 });
  const location = answer.headers.get("location") ?? "";
  if (answer.status !== 401 && answer.status !== 200 && !/loginFailed=true/i.test(location)) {
    run.ok(name, `login ${q(user)} works`);
    return;
  }
  await run.change(name, `set the login: Forms authentication, user ${q(user)}, password from sops`, async () => {
    const host = await client.get<Record<string, unknown> & { id?: number }>(`${API[app]}/config/host`);
    if (typeof host.id !== "number") throw new WireError(`${name} answered GET ${API[app]}/config/host without an id`);
    await client.call("PUT", `${API[app]}/config/host/${host.id}`, {
      json: { ...host, authenticationMethod: "forms", authenticationRequired: "enabled", username: user, password, passwordConfirmation: password },
    });
  });
}

/** A new provider from a `/schema` template: the template's settings, without its id and presets. */
function fromTemplate(template: Provider, values: Provider): Provider {
  const { id: _id, presets: _presets, ...rest } = { ...template, ...values };
  return { ...rest, tags: template.tags ?? [] };
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);
const isLocalHost = (host: unknown) => LOCAL_HOSTS.has(String(host ?? "").toLowerCase());
/** The apps refuse a second provider whose name differs only in case (ProviderControllerBase.cs: unique name, ignoring case). */
const sameName = (a: unknown, b: string) => String(a ?? "").toLowerCase() === b.toLowerCase();

/** `http://localhost:8989/` and `http://127.0.0.1:8989` are one app: a loopback host and the same port. */
function sameLocalApp(url: unknown, wanted: string): boolean {
  try {
    const a = new URL(String(url ?? ""));
    const b = new URL(wanted);
    const port = (u: URL) => u.port || (u.protocol === "https:" ? "443" : "80");
    if (isLocalHost(a.hostname) && isLocalHost(b.hostname)) return port(a) === port(b) && a.pathname.replace(/\/+$/, "") === b.pathname.replace(/\/+$/, "");
    return a.toString().replace(/\/+$/, "") === b.toString().replace(/\/+$/, "");
  } catch {
    return false;
  }
}
const hostOf = (url: unknown) => {
  try {
    return new URL(String(url ?? "")).hostname;
  } catch {
    return "";
  }
};

/** A name for a new provider that no existing one has, ignoring case. */
function freeName(existing: Provider[], wanted: string): string {
  if (!existing.some((p) => sameName(p.name, wanted))) return wanted;
  for (let i = 2; ; i++) if (!existing.some((p) => sameName(p.name, `${wanted} ${i}`))) return `${wanted} ${i}`;
}

/** Sonarr's category field is `tvCategory`, Radarr's `movieCategory` (`QBittorrentSettings.cs` in each). */
const CATEGORY_FIELD = { sonarr: "tvCategory", radarr: "movieCategory" } as const;
/** The name the job gives the client it adds; an existing client of this name is the one it owns. */
export const CLIENT_NAME = "qBittorrent";

/**
 * The qBittorrent download client, with the spec's category and "Remove Completed" off, so that
 * cleanup, not Sonarr, decides when a torrent leaves qBittorrent. The client the job owns is the
 * first qBittorrent client pointing at this host's qBittorrent, else the first one on this host named
 * "qBittorrent" (its port changed by hand); a client on another host (a seedbox) is never taken over.
 * Any other client is reported and left alone.
 */
export async function wireDownloadClient(run: WireRun, app: "sonarr" | "radarr", client: AppClient, config: WireConfigModel): Promise<void> {
  const name = APP_NAMES[app];
  const api = API[app];
  const { host, port } = config.qbittorrent;
  const category = config[app].category;
  const categoryField = CATEGORY_FIELD[app];
  const clients = await client.get<DownloadClient[]>(`${api}/downloadclient`);
  const isQbt = (c: DownloadClient) => c.implementation === "QBittorrent";
  const pointsHere = (c: DownloadClient) => isLocalHost(field(c, "host")) && Number(field(c, "port")) === port;
  // Of several clients on this qBittorrent, the one named as the job names it, then an enabled one: never a retired duplicate.
  const here = clients.filter((c) => isQbt(c) && pointsHere(c));
  const owned =
    here.find((c) => sameName(c.name, CLIENT_NAME)) ??
    here.find((c) => c.enable === true) ??
    here[0] ??
    clients.find((c) => isQbt(c) && isLocalHost(field(c, "host")) && sameName(c.name, CLIENT_NAME));
  const desired = { host, port, useSsl: false, urlBase: "", [categoryField]: category };
  const newName = freeName(clients, CLIENT_NAME);
  const describe = `download client ${q(newName)}: qBittorrent at ${host}:${port}, category ${q(category)}, Remove Completed off`;

  if (!owned) {
    await run.change(name, `add ${describe}`, async () => {
      const schema = await client.get<DownloadClient[]>(`${api}/downloadclient/schema`);
      const template = schema.find(isQbt);
      if (!template) throw new WireError(`${name}'s download client templates (GET ${api}/downloadclient/schema) have no QBittorrent`);
      const body = fromTemplate(template, { ...withFields(template, desired), name: newName, enable: true, removeCompletedDownloads: false });
      // The app tests the connection to qBittorrent before it adds a client, forceSave or not (forceSave only drops
      // warnings: ProviderControllerBase.cs); the unit runs after qBittorrent, and a later run retries.
      await client.call("POST", `${api}/downloadclient`, { query: { forceSave: true }, json: body });
    });
  } else {
    const wrong: string[] = [];
    for (const [key, value] of Object.entries(desired)) {
      const current = field(owned, key);
      if (current !== value && !(key === "urlBase" && (current === null || current === undefined))) wrong.push(`${key} ${JSON.stringify(current ?? null)} → ${JSON.stringify(value)}`);
    }
    if (owned.enable !== true) wrong.push("enable false → true");
    if (owned.removeCompletedDownloads !== false) wrong.push("Remove Completed on → off");
    if (wrong.length === 0) run.ok(name, `download client ${q(owned.name ?? "")} is right`);
    else {
      await run.change(name, `update download client ${q(owned.name ?? "")}: ${wrong.join(", ")}`, async () => {
        // The whole resource goes back: a field left out would be reset to its default (SchemaBuilder.ReadFromSchema).
        // Secret fields come back as MASKED and go back as MASKED with the id, which keeps the stored value.
        const body = { ...withFields(owned, desired), enable: true, removeCompletedDownloads: false };
        await client.call("PUT", `${api}/downloadclient/${owned.id}`, { query: { forceSave: true }, json: body });
      });
    }
  }
  for (const other of clients) {
    if (other === owned) continue;
    const here = isQbt(other) && pointsHere(other);
    const removes = other.enable && other.removeCompletedDownloads ? ", and it removes completed downloads from its client" : "";
    run.report(name, `download client ${q(other.name ?? "")} (${other.implementation ?? "?"}${here ? ", also this host's qBittorrent" : ""})${removes}`);
  }
}

export async function wireRootFolders(run: WireRun, app: "sonarr" | "radarr", client: AppClient, paths: string[]): Promise<void> {
  const name = APP_NAMES[app];
  const api = API[app];
  const existing = await client.get<RootFolder[]>(`${api}/rootfolder`);
  const normal = (p: string | null | undefined) => (p ?? "").replace(/\/+$/, "");
  for (const path of paths) {
    if (existing.some((r) => normal(r.path) === path)) {
      run.ok(name, `root folder ${q(path)} is there`);
      continue;
    }
    await run.change(name, `add root folder ${q(path)}`, async () => {
      await client.call("POST", `${api}/rootfolder`, { json: { path } });
    });
  }
  for (const r of existing) if (!paths.includes(normal(r.path))) run.report(name, `root folder ${q(r.path ?? "")}`);
}

/** Prowlarr's fields for an application: `SonarrSettings.cs` / `RadarrSettings.cs` in Prowlarr's Applications. */
const APPLICATION_IMPLEMENTATION = { sonarr: "Sonarr", radarr: "Radarr" } as const;

/**
 * Prowlarr's applications: Sonarr and Radarr with Full Sync and their API keys. The stored key cannot
 * be read back (MASKED), so it is checked with Prowlarr's own connection test, which uses the stored
 * key when the test carries MASKED and the application's id; only a failing test rewrites it.
 */
export async function wireApplications(run: WireRun, client: AppClient, config: WireConfigModel, keys: Record<"sonarr" | "radarr", string>): Promise<void> {
  const name = APP_NAMES.prowlarr;
  const api = API.prowlarr;
  const existing = await client.get<Application[]>(`${api}/applications`);
  const owned = new Set<Application>();
  // `enable` is not part of ApplicationResource's contract ([SwaggerIgnore]; Prowlarr derives it from syncLevel).
  const asResource = ({ enable: _enable, ...rest }: Application): Application => rest;
  for (const wanted of config.prowlarr.applications) {
    const implementation = APPLICATION_IMPLEMENTATION[wanted.app];
    // Of several applications for this app, the one named as in the spec, then one that syncs: never a retired duplicate.
    const here = existing.filter((a) => a.implementation === implementation && !owned.has(a) && sameLocalApp(field(a, "baseUrl"), wanted.baseUrl));
    const mine =
      here.find((a) => sameName(a.name, wanted.name)) ??
      here.find((a) => a.syncLevel !== "disabled") ??
      here[0] ??
      existing.find((a) => a.implementation === implementation && !owned.has(a) && sameName(a.name, wanted.name) && isLocalHost(hostOf(field(a, "baseUrl"))));
    const desired = { prowlarrUrl: wanted.prowlarrUrl, baseUrl: wanted.baseUrl };
    if (!mine) {
      const newName = freeName(existing, wanted.name);
      await run.change(name, `add application ${q(newName)}: ${implementation} at ${wanted.baseUrl}, Full Sync, its API key from sops`, async () => {
        const schema = await client.get<Application[]>(`${api}/applications/schema`);
        const template = schema.find((a) => a.implementation === implementation);
        if (!template) throw new WireError(`Prowlarr's application templates (GET ${api}/applications/schema) have no ${implementation}`);
        const body = asResource(fromTemplate(template, { ...withFields(template, { ...desired, apiKey: keys[wanted.app] }), name: newName, syncLevel: "fullSync" }));
        await client.call("POST", `${api}/applications`, { query: { forceSave: true }, json: body });
      });
      continue;
    }
    owned.add(mine);
    const wrong: string[] = [];
    for (const [key, value] of Object.entries(desired)) if (!sameLocalApp(field(mine, key), value)) wrong.push(`${key} ${JSON.stringify(field(mine, key) ?? null)} → ${JSON.stringify(value)}`);
    if (mine.syncLevel !== "fullSync") wrong.push(`syncLevel ${JSON.stringify(mine.syncLevel ?? null)} → "fullSync"`);
    // Only worth testing the stored key when nothing else is wrong: a rewrite sends the key anyway.
    if (wrong.length === 0) {
      const test = await client.call<unknown>("POST", `${api}/applications/test`, { json: asResource(mine), accept: (s) => (s >= 200 && s < 300) || s === 400 });
      if (test.status === 400) {
        const failures = validationFailures(test.body);
        // Only a failure about the key is ours to fix; any other (the app down, a URL it cannot reach) is said, not "fixed" by a rewrite every run.
        if (failures.some((f) => /api ?key/i.test(`${f.propertyName} ${f.errorMessage}`))) wrong.push("its API key fails Prowlarr's connection test → the key from sops");
        else {
          run.fail(name, `application ${q(mine.name ?? "")} matches the spec but fails Prowlarr's connection test: ${failures.map((f) => f.errorMessage).join("; ") || "no reason given"}; nothing changed`);
          continue;
        }
      }
    }
    if (wrong.length === 0) {
      run.ok(name, `application ${q(mine.name ?? "")} is right`);
      continue;
    }
    await run.change(name, `update application ${q(mine.name ?? "")}: ${wrong.join(", ")}`, async () => {
      const body = asResource({ ...withFields(mine, { ...desired, apiKey: keys[wanted.app] }), syncLevel: "fullSync" });
      await client.call("PUT", `${api}/applications/${mine.id}`, { query: { forceSave: true }, json: body });
    });
  }
  for (const other of existing) if (!owned.has(other)) run.report(name, `application ${q(other.name ?? "")} (${other.implementation ?? "?"} at ${String(field(other, "baseUrl") ?? "?")})`);
}

/** The apps' answer to a refused save or test: a list of FluentValidation failures. */
function validationFailures(body: unknown): { propertyName: string; errorMessage: string }[] {
  if (!Array.isArray(body)) return [];
  return body
    .filter((f): f is Record<string, unknown> => !!f && typeof f === "object")
    .map((f) => ({ propertyName: String(f.propertyName ?? ""), errorMessage: String(f.errorMessage ?? "") }));
}
