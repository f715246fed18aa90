/**
 * A stateful MODEL of Sonarr, Radarr and Prowlarr's HTTP API, written from their sources (bare
 * repos: Sonarr 49df353f, Radarr 1b9662d5, Prowlarr 0ffcfccf). Paths below are relative to each
 * repo; `<App>` stands for Sonarr/Radarr/Prowlarr where the three files agree.
 */
import { pbkdf2Sync, randomBytes, randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { Contract, type ContractPatch } from "./contract.ts";
import { type FakeBase, type Reply, type Req, formFields, json, serve } from "./http.ts";
import {
  type Failure, type FieldDef, type Template, fail, indexerTemplates,
  PROWLARR_RADARR, PROWLARR_SONARR, RADARR_QBITTORRENT, SONARR_QBITTORRENT,
} from "./servarr-fields.ts";

export type ServarrApp = "sonarr" | "radarr" | "prowlarr";
export type AuthenticationType = "none" | "basic" | "forms" | "external";
export type SyncLevel = "disabled" | "addOnly" | "fullSync";

/** A stored provider (download client or Prowlarr application): `ProviderDefinition` + subclass. */
export interface ProviderDefinition {
  id: number;
  name: string | null;
  implementation: string;
  implementationName: string;
  configContract: string;
  tags: number[] | null;
  settings: Record<string, unknown>;
  // DownloadClientDefinition (src/NzbDrone.Core/Download/DownloadClientDefinition.cs)
  enable?: boolean;
  protocol?: string;
  priority?: number;
  removeCompletedDownloads?: boolean;
  removeFailedDownloads?: boolean;
  // ApplicationDefinition (Prowlarr src/NzbDrone.Core/Applications/ApplicationDefinition.cs)
  syncLevel?: SyncLevel;
}

/** `User` (src/NzbDrone.Core/Authentication/User.cs): the password is a PBKDF2 hash, never the password. */
export interface ServarrUser { identifier: string; username: string; password: string; salt: string; iterations: number }

export interface ServarrState {
  apiKey: string;
  /** The config.xml / config table values HostConfigResource shows (the file's view). */
  hostConfig: Record<string, unknown>;
  /**
   * An `<APP>__AUTH__METHOD` environment value: it wins over the file
   * (src/NzbDrone.Core/Configuration/ConfigFileProvider.cs `AuthenticationMethod`).
   */
  envAuthenticationMethod?: AuthenticationType;
  /**
   * The method `AuthenticationService` read when it was constructed: a singleton
   * (src/NzbDrone.Common/Composition/Extensions.cs, Reuse.Singleton) with a static field, so
   * POST /login keeps using the method of the last start until `restart()`.
   */
  loginAuthenticationMethod: AuthenticationType;
  user?: ServarrUser;
  downloadClients: ProviderDefinition[];
  rootFolders: { id: number; path: string }[];
  applications: ProviderDefinition[];
  nextId: number;
}

export interface ServarrOptions {
  apiKey: string;
  contract?: object;
  isDirectory?: (path: string) => boolean;
  unavailableForMs?: number;
  /** The config file's AuthenticationMethod at first start (default "none": ConfigFileProvider's default). */
  authenticationMethod?: AuthenticationType;
  envAuthenticationMethod?: AuthenticationType;
  /**
   * Whether qBittorrent answers the download client test (`QBittorrent.TestConnection`,
   * src/NzbDrone.Core/Download/Clients/QBittorrent/QBittorrent.cs). Default false: there is no
   * qBittorrent here, so the test fails as "Unable to connect to qBittorrent".
   */
  qbittorrentReachable?: boolean;
}

export interface FakeServarr extends FakeBase {
  app: ServarrApp;
  state: ServarrState;
  /** The app restarted: AuthenticationService reads the authentication method again. */
  restart(): void;
  /** The same code paths as the HTTP handlers, for drift(); synchronous unless a test calls out. */
  handle(req: Pick<Req, "method" | "path"> & Partial<Req>): Reply | Promise<Reply>;
}

const APP_NAME = { sonarr: "Sonarr", radarr: "Radarr", prowlarr: "Prowlarr" } as const;
// Version strings are set at build time, not in the repos; these only have the right shape.
const VERSION = { sonarr: "4.0.16.2944", radarr: "6.0.4.10291", prowlarr: "2.3.6.5220" } as const;
const PORTS = { sonarr: [8989, 9898], radarr: [7878, 9898], prowlarr: [9696, 6969] } as const;
const MASK = "********"; // src/<App>.Http/ClientSchema/SchemaBuilder.cs PRIVATE_VALUE

/** Properties the sources send that the published documents lack (see Contract). */
export const CONTRACT_PATCHES: Record<ServarrApp, ContractPatch[]> = {
  sonarr: [
    { schema: "HostConfigResource", property: "sslKeyPath", type: { type: "string", nullable: true }, source: "Sonarr src/Sonarr.Api.V3/Config/HostConfigResource.cs" },
    { schema: "RootFolderResource", property: "totalSpace", type: { type: "integer", format: "int64", nullable: true }, source: "Sonarr src/Sonarr.Api.V3/RootFolders/RootFolderResource.cs" },
  ],
  radarr: [],
  prowlarr: [
    { schema: "ApplicationResource", property: "enable", type: { type: "boolean" }, source: "Prowlarr src/Prowlarr.Api.V1/Applications/ApplicationResource.cs ([SwaggerIgnore] Enable)" },
  ],
};

/**
 * Fresh-install config (src/NzbDrone.Core/Configuration/ConfigFileProvider.cs and ConfigService.cs
 * defaults). Sonarr's branch is "main", Radarr's and Prowlarr's "master".
 */
function freshHostConfig(app: ServarrApp, auth: AuthenticationType): Record<string, unknown> {
  return {
    bindAddress: "*", port: PORTS[app][0], sslPort: PORTS[app][1], enableSsl: false, launchBrowser: true,
    authenticationMethod: auth, authenticationRequired: "enabled", analyticsEnabled: true, logLevel: "debug",
    logSizeLimit: 1, consoleLogLevel: "", branch: app === "sonarr" ? "main" : "master", sslCertPath: "",
    ...(app === "sonarr" ? { sslKeyPath: "" } : {}), sslCertPassword: "", urlBase: "", instanceName: APP_NAME[app],
    applicationUrl: "", updateAutomatically: false, updateMechanism: "builtIn", updateScriptPath: "", proxyEnabled: false,
    proxyType: "http", proxyHostname: "", proxyPort: 8080, proxyUsername: "", proxyPassword: "", proxyBypassFilter: "",
    proxyBypassLocalAddresses: true, certificateValidation: "enabled", backupFolder: "Backups", backupInterval: 7,
    backupRetention: 28, ...(app === "prowlarr" ? { historyCleanupDays: 365 } : {}), trustCgnatIpAddresses: false,
  };
}

/** C# defaults of HostConfigResource's properties: what a property missing from a PUT body becomes. */
const HOST_DEFAULTS: Record<string, unknown> = {
  port: 0, sslPort: 0, enableSsl: false, launchBrowser: false, authenticationMethod: "none", authenticationRequired: "enabled",
  analyticsEnabled: false, logSizeLimit: 0, updateAutomatically: false, updateMechanism: "builtIn", proxyEnabled: false,
  proxyType: "http", proxyPort: 0, proxyBypassLocalAddresses: false, certificateValidation: "enabled", backupInterval: 0,
  backupRetention: 0, historyCleanupDays: 0, trustCgnatIpAddresses: false,
};
/** Keys ConfigService saves; the rest belong to ConfigFileProvider, which throws on a null value. */
const CONFIG_SERVICE_KEYS = new Set(["proxyEnabled", "proxyType", "proxyHostname", "proxyPort", "proxyUsername", "proxyPassword", "proxyBypassFilter", "proxyBypassLocalAddresses", "certificateValidation", "backupFolder", "backupInterval", "backupRetention", "applicationUrl", "historyCleanupDays"]);

/** PBKDF2-HMACSHA512, 10000 iterations, 32 bytes, base64 (src/NzbDrone.Core/Authentication/UserService.cs). */
const hashPassword = (password: string, salt: Buffer) => pbkdf2Sync(password, salt, 10000, 32, "sha512").toString("base64");

/** FluentValidation's JSON for a failure list (src/<App>.Http/ErrorManagement/<App>ErrorPipeline.cs: 400 + the errors). */
const invalid = (failures: Failure[]): Reply => json(400, failures);
const notFound = (message = "NotFound"): Reply => json(404, { message });

function readField(def: FieldDef, value: unknown): unknown {
  // SchemaBuilder.GetValueConverter
  switch (def.kind) {
    case "int": { const n = value == null ? NaN : Number.parseInt(String(value), 10); return Number.isFinite(n) && /^\s*-?\d+\s*$/.test(String(value)) ? n : 0; }
    case "intList": return value == null ? [] : Array.isArray(value) ? value.map(Number) : String(value).split(",").filter(Boolean).map(Number);
    case "bool": if (value === null || typeof value === "boolean") return value ?? false; throw new TypeError(`'${def.name}' is not a boolean`);
    default: if (value === null || typeof value === "string") return value; throw new TypeError(`'${def.name}' is not a string`);
  }
}

/** SchemaBuilder.ToSchema: fields in order, ApiKey/Password values masked. */
function toFields(template: Template, settings: Record<string, unknown>) {
  return template.fields.map((f, order) => {
    let value = settings[f.name];
    if (value != null && value !== "" && (f.privacy === "apiKey" || f.privacy === "password")) value = MASK;
    return {
      order, name: f.name, label: f.label, ...(value != null ? { value } : {}), type: f.type ?? "textbox", advanced: f.advanced ?? false,
      ...(f.selectOptions ? { selectOptions: f.selectOptions } : {}), privacy: f.privacy ?? "normal",
      ...(f.placeholder ? { placeholder: f.placeholder } : {}), isFloat: false,
    };
  });
}

/** SchemaBuilder.ReadFromSchema: constructor defaults, then the fields sent; masked secrets keep the stored value. */
function fromFields(template: Template, fields: unknown[], existing?: Record<string, unknown>) {
  const settings: Record<string, unknown> = Object.fromEntries(template.fields.map((f) => [f.name, structuredClone(f.value)]));
  for (const f of template.fields) {
    const sent = fields.find((x): x is { value?: unknown } => !!x && typeof x === "object" && (x as { name?: unknown }).name === f.name);
    if (!sent) continue;
    const secret = f.privacy === "apiKey" || f.privacy === "password";
    settings[f.name] = secret && sent.value === MASK && existing ? existing[f.name] : readField(f, sent.value ?? null);
  }
  return settings;
}

export async function startFakeServarr(app: ServarrApp, options: ServarrOptions): Promise<FakeServarr> {
  const name = APP_NAME[app];
  const base = app === "prowlarr" ? "/api/v1" : "/api/v3";
  const isDirectory = options.isDirectory ?? ((p: string) => existsSync(p) && statSync(p).isDirectory());
  const contract = options.contract ? new Contract(app, options.contract, CONTRACT_PATCHES[app]) : undefined;
  const auth = options.authenticationMethod ?? "none";
  const state: ServarrState = {
    apiKey: options.apiKey, hostConfig: freshHostConfig(app, auth), envAuthenticationMethod: options.envAuthenticationMethod,
    loginAuthenticationMethod: options.envAuthenticationMethod ?? auth, downloadClients: [], rootFolders: [], applications: [], nextId: 1,
  };
  const writes: FakeBase["writes"] = [];
  const violations: string[] = [];
  const effectiveAuth = () => state.envAuthenticationMethod ?? (state.hostConfig.authenticationMethod as AuthenticationType);

  // ---------------------------------------------------------------- providers
  const templates: Template[] = app === "sonarr" ? [SONARR_QBITTORRENT] : app === "radarr" ? [RADARR_QBITTORRENT] : [PROWLARR_RADARR, PROWLARR_SONARR];
  const kind = app === "prowlarr" ? "applications" : "downloadclient";
  const list = () => (app === "prowlarr" ? state.applications : state.downloadClients);
  const enabled = (d: ProviderDefinition) => (app === "prowlarr" ? d.syncLevel === "addOnly" || d.syncLevel === "fullSync" : !!d.enable);
  const infoLink = (impl: string) => `https://wiki.servarr.com/${app}/supported#${impl.toLowerCase()}`;

  function toResource(d: ProviderDefinition) {
    const t = templates.find((x) => x.implementation === d.implementation)!;
    const common = {
      id: d.id, ...(d.name != null ? { name: d.name } : {}), fields: toFields(t, d.settings), implementationName: t.implementationName,
      implementation: d.implementation, configContract: d.configContract, infoLink: infoLink(d.implementation), ...(d.tags ? { tags: d.tags } : {}),
    };
    return app === "prowlarr"
      ? { ...common, syncLevel: d.syncLevel, enable: enabled(d) } // ApplicationResource.cs
      : { ...common, enable: d.enable, protocol: t.protocol, priority: d.priority, removeCompletedDownloads: d.removeCompletedDownloads, removeFailedDownloads: d.removeFailedDownloads };
  }

  /** GET schema (ProviderControllerBase.GetTemplates + ProviderFactory.GetDefaultDefinitions), by implementation name. */
  const schema = () => templates.map((t) => {
    const d: ProviderDefinition = {
      id: 0, name: app === "prowlarr" ? null : "", implementation: t.implementation, implementationName: t.implementationName, configContract: t.configContract,
      tags: [], settings: Object.fromEntries(t.fields.map((f) => [f.name, f.value])),
      // Prowlarr ApplicationBase.DefaultDefinitions: SyncLevel FullSync; download clients: new DownloadClientDefinition().
      ...(app === "prowlarr" ? { syncLevel: "fullSync" as const } : { enable: false, priority: 1, removeCompletedDownloads: true, removeFailedDownloads: true }),
    };
    return { ...toResource(d), presets: [] };
  });

  /** ProviderResourceMapper.ToModel + the subclass mapper. Missing bools/ints become C# defaults (false/0), not the definition defaults. */
  function toModel(r: Record<string, unknown>, existing?: ProviderDefinition): ProviderDefinition | Reply {
    const t = templates.find((x) => x.configContract === r.configContract);
    if (!t) {
      violations.push(`${name}: ${kind} with configContract ${JSON.stringify(r.configContract)}: the fake models only ${templates.map((x) => x.configContract).join(", ")}`);
      return json(400, [fail("ConfigContract", "not modelled by the fake", r.configContract)]);
    }
    let settings: Record<string, unknown>;
    try {
      settings = fromFields(t, Array.isArray(r.fields) ? r.fields : [], existing?.settings);
    } catch (e) {
      // STJson.Deserialize of a wrong JSON kind throws; the error pipeline answers 500.
      violations.push(`${name}: ${kind} field value of the wrong JSON type: ${(e as Error).message}`);
      return json(500, { message: (e as Error).message });
    }
    const tags = Array.isArray(r.tags) ? (r.tags as number[]) : app === "prowlarr" ? [] : null; // Prowlarr: Tags ?? new HashSet
    const d: ProviderDefinition = {
      id: Number(r.id ?? 0), name: (r.name as string) ?? null, implementation: t.implementation, implementationName: t.implementationName,
      configContract: t.configContract, tags, settings,
    };
    if (app === "prowlarr") d.syncLevel = (r.syncLevel as SyncLevel) ?? "disabled"; // enum default: Disabled
    else Object.assign(d, { enable: r.enable === true, protocol: t.protocol, priority: Number(r.priority ?? 0), removeCompletedDownloads: r.removeCompletedDownloads === true, removeFailedDownloads: r.removeFailedDownloads === true });
    return d;
  }

  /** ProviderControllerBase's SharedValidator (+ DownloadClientController's priority rule, + PostValidator). */
  function sharedRules(r: Record<string, unknown>, post: boolean): Failure[] {
    const out: Failure[] = [];
    const n = typeof r.name === "string" ? r.name : "";
    if (!n.trim()) out.push(fail("Name", "'Name' must not be empty.", r.name));
    else if (list().some((p) => (p.name ?? "").toLowerCase() === n.toLowerCase() && p.id !== Number(r.id ?? 0))) out.push(fail("Name", "Should be unique", r.name));
    if (!r.implementation) out.push(fail("Implementation", "'Implementation' must not be empty.", r.implementation));
    if (!r.configContract) out.push(fail("ConfigContract", "'Config Contract' must not be empty.", r.configContract));
    if (app !== "prowlarr") {
      const p = Number(r.priority ?? 0);
      if (p < 1 || p > 50) out.push(fail("Priority", `'Priority' must be between 1 and 50. You entered ${p}.`, p));
    }
    if (post && r.fields == null) out.push(fail("Fields", "'Fields' must not be empty.", null));
    return out;
  }

  /** VerifyValidationResult: errors always throw; warnings only with includeWarnings. */
  const verdict = (failures: Failure[], includeWarnings: boolean) =>
    failures.some((f) => f.severity === "error") || (includeWarnings && failures.length > 0) ? invalid(failures) : undefined;

  /** The provider's Test(). Download clients: QBittorrent.Test; applications: Sonarr/Radarr.Test (over HTTP). */
  function test(d: ProviderDefinition): Failure[] | Promise<Failure[]> {
    if (app !== "prowlarr") {
      if (!options.qbittorrentReachable) {
        return [{ ...fail("Host", "Unable to connect to qBittorrent", d.settings.host), detailedDescription: "Please verify the hostname and port." }];
      }
      const category = d.settings[app === "sonarr" ? "tvCategory" : "movieCategory"];
      // TestConnection: a qBittorrent with categories and no category set → a warning (IsWarning = true).
      return category ? [] : [fail(app === "sonarr" ? "TvCategory" : "MovieCategory", "Category is recommended", category, true)];
    }
    return testApplication(d);
  }

  /**
   * Prowlarr src/NzbDrone.Core/Applications/Sonarr/Sonarr.cs `Test` + SonarrV3Proxy.cs (Radarr alike):
   * 1. GET {BaseUrl}/api/v3/indexer/schema with X-Api-Key: ApiKey (BuildSonarrIndexer needs the
   *    Newznab template; the real one caches this per BaseUrl for 7 days — not modelled);
   * 2. POST {BaseUrl}/api/v3/indexer/test with a Newznab indexer whose baseUrl is
   *    {ProwlarrUrl}/0/ and apiKey is Prowlarr's own key; Sonarr then tests that indexer by calling
   *    back to Prowlarr, so a wrong ProwlarrUrl fails here with 400;
   * 3. the response must carry an X-Application-Version header (its minimum is not checked here).
   * HTTP 401 → "API Key is invalid", 400 → ProwlarrUrl invalid, 404 → BaseUrl invalid, other → BaseUrl.
   */
  async function testApplication(d: ProviderDefinition): Promise<Failure[]> {
    const appName = d.implementation;
    const baseUrl = String(d.settings.baseUrl ?? "").replace(/\/+$/, "");
    const headers = { "X-Api-Key": String(d.settings.apiKey ?? ""), Accept: "application/json", "Content-Type": "application/json" };
    const byStatus = (status: number, message: string): Failure => {
      if (status === 401) return fail("ApiKey", "API Key is invalid");
      if (status === 400) return fail("ProwlarrUrl", `Prowlarr URL is invalid, ${appName} cannot connect to Prowlarr`);
      if (status === 303 || status === 307) return fail("BaseUrl", `${appName} URL is invalid, Prowlarr cannot connect to ${appName} - are you missing a URL base?`);
      if (status === 404) return fail("BaseUrl", `${appName} URL is invalid, Prowlarr cannot connect to ${appName}. Is ${appName} running and accessible? ${appName} v2 is not supported.`);
      return fail("BaseUrl", `Unable to complete application test, cannot connect to ${appName}. ${message}`);
    };
    try {
      const schemaRes = await fetch(`${baseUrl}/api/v3/indexer/schema`, { headers, signal: AbortSignal.timeout(5000) });
      if (schemaRes.status >= 300) return [byStatus(schemaRes.status, `HTTP ${schemaRes.status}`)];
      const schemas = (await schemaRes.json()) as { implementation: string; fields: { name: string; value?: unknown }[] }[];
      const newznab = schemas.find((s) => s.implementation === "Newznab");
      if (!newznab) return [fail("BaseUrl", `Unable to complete application test, cannot connect to ${appName}. Sequence contains no matching element`)];
      const values: Record<string, unknown> = { baseUrl: `${String(d.settings.prowlarrUrl).replace(/\/+$/, "")}/0/`, apiPath: "/api", apiKey: state.apiKey, categories: d.settings.syncCategories, animeCategories: d.settings.animeSyncCategories ?? [] };
      const indexer = { id: 0, name: "Test (Prowlarr)", enableRss: true, enableAutomaticSearch: true, enableInteractiveSearch: true, priority: 25, implementation: "Newznab", configContract: "NewznabSettings", tags: [],
        fields: newznab.fields.filter((f) => f.name in values).map((f) => ({ ...f, value: values[f.name] })) };
      const res = await fetch(`${baseUrl}/api/v3/indexer/test`, { method: "POST", headers, body: JSON.stringify(indexer), signal: AbortSignal.timeout(10000) });
      if (res.status >= 300) return [byStatus(res.status, `HTTP ${res.status}`)];
      const version = res.headers.get("x-application-version");
      if (!version) return [fail("", `Failed to fetch ${appName} version`)];
      return [];
    } catch (e) {
      return [fail("BaseUrl", `Unable to complete application test, cannot connect to ${appName}. ${(e as Error).message}`)];
    }
  }

  /** POST/PUT/test: src/<App>.Api.V*\/ProviderControllerBase.cs. */
  function saveProvider(r: Record<string, unknown>, mode: "post" | "put" | "test", id: number | undefined, force: boolean): Reply | Promise<Reply> {
    if (mode === "put" && !r.id && id) r = { ...r, id }; // RestController: route id into a body without one
    const shared = sharedRules(r, mode === "post");
    if (mode === "put" && !(Number(r.id) > 0)) shared.push(fail("Id", "'Id' must be greater than '0'.", r.id)); // IdValidator (ValidId)
    if (shared.length) return invalid(shared);
    // Sonarr/Radarr PUT: existing by route id, then body id; Prowlarr and /test: by body id.
    const existing = mode === "put" && app !== "prowlarr" ? list().find((p) => p.id === id) ?? list().find((p) => p.id === Number(r.id)) : Number(r.id) > 0 ? list().find((p) => p.id === Number(r.id)) : undefined;
    if (mode === "put" && !existing) return notFound();
    const model = toModel(r, mode === "post" ? undefined : existing);
    if (!("settings" in model)) return model;
    if (mode === "put") model.id = existing!.id;
    const includeWarnings = !force;
    // GetDefinition: settings validated when enabled (always for /test: forceValidate).
    if (enabled(model) || mode === "test") {
      const bad = verdict(templates.find((t) => t.implementation === model.implementation)!.validate(model.settings), includeWarnings);
      if (bad) return bad;
    }
    const changed = !existing || JSON.stringify({ ...existing, implementationName: "" }) !== JSON.stringify({ ...model, implementationName: "" });
    // POST: Test when enabled (warnings only without forceSave). PUT: Sonarr/Radarr when enabled, not forced and
    // changed; Prowlarr when enabled and not forced. /test: always, with warnings (unless forceTest).
    const runTest = mode === "test" || (enabled(model) && (mode === "post" || (!force && (app === "prowlarr" || changed))));
    const finish = (failures: Failure[]): Reply => {
      const bad = verdict(failures, mode === "test" ? includeWarnings : mode === "post" ? includeWarnings : true);
      if (bad) return bad;
      if (mode === "test") return { status: 200, text: "{}" };
      if (mode === "post") {
        model.id = state.nextId++;
        list().push(model);
        return json(201, toResource(model));
      }
      if (changed || app === "prowlarr") list().splice(list().indexOf(existing!), 1, model);
      return json(202, toResource(model));
    };
    if (!runTest) return finish([]);
    const failures = test(model);
    return Array.isArray(failures) ? finish(failures) : failures.then(finish);
  }

  // ---------------------------------------------------------------- host config
  function hostResource() {
    // HostConfigController.GetHostConfig: Id 1, the user's name and stored HASH, empty confirmation.
    const effective = { ...state.hostConfig, authenticationMethod: effectiveAuth() };
    return { id: 1, ...effective, apiKey: state.apiKey, username: state.user?.username ?? "", password: state.user?.password ?? "", passwordConfirmation: "" };
  }

  function putHost(body: Record<string, unknown>): Reply {
    // Missing properties are the C# defaults of HostConfigResource (null strings, 0, false, first enum value).
    const r: Record<string, unknown> = { ...HOST_DEFAULTS, ...Object.fromEntries(Object.entries(body).map(([k, v]) => [k[0]!.toLowerCase() + k.slice(1), v])) };
    const failures: Failure[] = [];
    const s = (k: string) => (typeof r[k] === "string" ? (r[k] as string) : "");
    const between = (k: string, label: string, lo: number, hi: number) => {
      const v = Number(r[k]);
      if (!(v >= lo && v <= hi)) failures.push(fail(label, `'${label.replace(/([a-z])([A-Z])/g, "$1 $2")}' must be between ${lo} and ${hi}. You entered ${v}.`, v));
    };
    // src/<App>.Api.V*/Config/HostConfigController.cs, rule by rule
    if (r.bindAddress !== "*" && r.bindAddress !== "localhost" && !/^(\d{1,3}\.){3}\d{1,3}$|:/.test(s("bindAddress"))) failures.push(fail("BindAddress", "Enter a valid IP address", r.bindAddress));
    between("port", "Port", 1, 65535);
    if (/^\/?https?:\/\/[-_a-z0-9.]+/i.test(s("urlBase"))) failures.push(fail("UrlBase", `Must be a valid URL path (ie: '/${app}')`, r.urlBase));
    if (r.instanceName != null && !(s("instanceName").startsWith(name) || s("instanceName").endsWith(name))) failures.push(fail("InstanceName", `Must contain '${name}' at the start or end`, r.instanceName));
    if (r.authenticationMethod === "forms") {
      if (!s("username")) failures.push(fail("Username", "'Username' must not be empty.", r.username));
      if (!s("password")) failures.push(fail("Password", "'Password' must not be empty.", r.password));
    }
    if (r.authenticationMethod === "basic") failures.push(fail("AuthenticationMethod", "'Basic' is no longer supported, switch to 'Forms' instead.", "basic"));
    // IsMatchingPassword: the stored hash sent back as password, or password == confirmation.
    if (!((state.user && state.user.password === r.password) || (r.password ?? null) === (r.passwordConfirmation ?? null))) failures.push(fail("PasswordConfirmation", "Must match Password", r.passwordConfirmation));
    if (r.enableSsl) { between("sslPort", "SslPort", 1, 65535); if (r.sslPort === r.port) failures.push(fail("SslPort", "'Ssl Port' must not be equal to 'Port'.", r.sslPort)); }
    if (r.enableSsl && !s("sslCertPath")) failures.push(fail("SslCertPath", "'Ssl Cert Path' must not be empty.", r.sslCertPath));
    between("logSizeLimit", "LogSizeLimit", 1, 10);
    if (!s("branch")) failures.push(fail("Branch", "Branch name is required, 'main' is the default", r.branch));
    between("backupInterval", "BackupInterval", 1, 7);
    between("backupRetention", "BackupRetention", 1, 90);
    if (failures.length) return invalid(failures);
    // ConfigFileProvider.SaveConfigDictionary: `configValue.Value.ToString()` on a null → NullReferenceException (500).
    const nullFileKey = Object.keys(state.hostConfig).find((k) => !CONFIG_SERVICE_KEYS.has(k) && r[k] == null);
    if (nullFileKey) {
      violations.push(`${name}: PUT config/host without '${nullFileKey}': ConfigFileProvider.SaveConfigDictionary throws on a null value (500); send the whole resource from GET`);
      return json(500, { message: "Object reference not set to an instance of an object." });
    }
    for (const k of Object.keys(state.hostConfig)) if (r[k] != null) state.hostConfig[k] = r[k]; // ApiKey is skipped: not a hostConfig key
    if (s("username").trim() && s("password").trim()) {
      // UserService.Upsert: rehash only when the password is not the stored hash; username lower-cased.
      const user = state.user ?? { identifier: randomUUID(), username: "", password: "", salt: "", iterations: 10000 };
      if (user.password !== r.password) { const salt = randomBytes(16); Object.assign(user, { salt: salt.toString("base64"), password: hashPassword(s("password"), salt) }); }
      user.username = s("username").toLowerCase();
      state.user = user;
    }
    return json(202, hostResource());
  }

  // ---------------------------------------------------------------- root folders
  /** RootFolderController's validators, in their cascade order (src/NzbDrone.Core/Validation/Paths/*). */
  function addRootFolder(r: Record<string, unknown>): Reply {
    const path = typeof r.path === "string" ? r.path : "";
    const clean = (p: string) => p.replace(/\/+$/, "") || "/";
    const under = (dir: string) => clean(path) === dir || clean(path).startsWith(`${dir}/`);
    const check = (): string | undefined => {
      if (!path.trim() || !path.startsWith("/") || path.includes("\0")) return `Invalid Path: '${path}'`; // PathValidator
      if (state.rootFolders.some((f) => clean(f.path) === clean(path))) return `Path '${path}' is already configured as a root folder`; // RootFolderValidator
      const system = ["/bin", "/boot", "/lib", "/sbin", "/proc", "/usr/bin"].find(under); // SystemFolders.GetSystemFolders (Linux)
      if (!isDirectory(path)) return `Path '${path}' does not exist`; // PathExistsValidator
      if (system) return `Path '${path}' is ${clean(path) === system ? "set to" : "child of"} system folder ${system}`;
      return undefined; // FolderWritableValidator: the fake takes every directory as writable
    };
    const message = check();
    if (message) return invalid([fail("Path", message, r.path)]);
    const folder = { id: state.nextId++, path: clean(path) }; // the model keeps the path as sent; the fake drops a trailing "/"
    state.rootFolders.push(folder);
    return json(201, rootFolderResource(folder));
  }
  const rootFolderResource = (f: { id: number; path: string }) => ({ id: f.id, path: f.path, accessible: isDirectory(f.path), freeSpace: 1_000_000_000_000, ...(app === "sonarr" ? { totalSpace: 2_000_000_000_000 } : {}), unmappedFolders: [] });

  // ---------------------------------------------------------------- routing
  const apiKeyOf = (req: Partial<Req>) => {
    // ApiKeyAuthenticationHandler.ParseApiKey: the `apikey` query first (even if wrong), then X-Api-Key, then "Bearer".
    const q = [...(req.query ?? new URLSearchParams()).entries()].find(([k]) => k.toLowerCase() === "apikey");
    if (q) return q[1];
    const h = req.headers?.["x-api-key"];
    if (h) return Array.isArray(h) ? h[0] : h;
    return req.headers?.authorization?.replace("Bearer ", "");
  };

  async function login(req: Req): Promise<Reply> {
    // AuthenticationController.Login: [FromForm]; failure → redirect to ~/login?returnUrl=...&loginFailed=true.
    const form = await formFields(req);
    const returnUrl = req.query.get("returnUrl") ?? "";
    const failed = { status: 302, headers: { location: `/login?returnUrl=${returnUrl}&loginFailed=true` } };
    if (!form) { violations.push(`${name}: POST /login without a form body (content-type ${req.contentType || "none"})`); return { status: 415 }; }
    // AuthenticationService.Login: null when the method read at start was None; UserService.FindUser(username, password).
    if (state.loginAuthenticationMethod === "none") return failed;
    const u = state.user;
    if (!form.username?.trim() || !form.password?.trim() || !u || u.username !== form.username.toLowerCase()) return failed;
    if (hashPassword(form.password, Buffer.from(u.salt, "base64")) !== u.password) return failed;
    const cookie = `${name}Auth=fake-${randomUUID()}; path=/; httponly${form.rememberMe === "on" ? "; expires=" + new Date(Date.now() + 7 * 864e5).toUTCString() : ""}`;
    const local = returnUrl.startsWith("/") && !returnUrl.startsWith("//");
    return { status: 302, headers: { location: local ? returnUrl : "/", "set-cookie": cookie } };
  }

  function handle(req: Pick<Req, "method" | "path"> & Partial<Req>): Reply | Promise<Reply> {
    const { method, path } = req;
    const body = (req.json && !(req.json instanceof SyntaxError) ? req.json : {}) as Record<string, unknown>;
    const flag = (k: string) => /^true$/i.test(req.query?.get(k) ?? "");
    if (method === "POST" && path.toLowerCase() === "/login") return login(req as Req);
    // Fallback policy "API": everything but [AllowAnonymous] needs the key (src/NzbDrone.Host/Startup.cs).
    if (apiKeyOf(req) !== state.apiKey) return { status: 401 };
    if (req.json instanceof SyntaxError) return json(400, { message: req.json.message });
    const m = /^(\/api\/v\d)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/i.exec(path);
    const id = m?.[3] && /^\d+$/.test(m[3]) ? Number(m[3]) : undefined;
    const [prefix, resource, sub] = [m?.[1]?.toLowerCase(), m?.[2]?.toLowerCase(), m?.[3]?.toLowerCase()];

    // Prowlarr NewznabController: /{id}/api and /api/v1/indexer/{id}/newznab; id 0 is the test indexer.
    const newznab = app === "prowlarr" && (/^\/(\d+)\/api$/.exec(path) ?? /^\/api\/v1\/indexer\/(\d+)\/newznab$/.exec(path));
    if (newznab && method === "GET") {
      const t = req.query?.get("t");
      if (!t) return { status: 400, text: '<?xml version="1.0" encoding="UTF-8"?><error code="200" description="Missing parameter (t)" />', headers: { "content-type": "application/rss+xml" } };
      if (newznab[1] !== "0") return notFound("Indexer Not Found");
      return { status: 200, text: t === "caps" ? '<?xml version="1.0" encoding="UTF-8"?><caps><searching><search available="yes" supportedParams="q" /></searching><categories /></caps>' : '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><item><title>Test Release</title></item></channel></rss>', headers: { "content-type": "application/rss+xml" } };
    }
    if (prefix !== base) return unknown(req);

    if (resource === "system" && sub === "status" && method === "GET") {
      return json(200, {
        appName: name, instanceName: state.hostConfig.instanceName, version: VERSION[app], buildTime: "2026-01-01T00:00:00Z", isDebug: false, isProduction: true,
        isAdmin: false, isUserInteractive: false, startupPath: `/nix/store/fake-${app}/lib/${app}`, appData: `/var/lib/${app}`, osName: "nixos", osVersion: "26.05",
        isNetCore: true, isLinux: true, isOsx: false, isWindows: false, isDocker: false, mode: "console", branch: state.hostConfig.branch,
        authentication: effectiveAuth(), migrationVersion: 1, urlBase: state.hostConfig.urlBase, runtimeVersion: "8.0.0", runtimeName: ".NET",
        startTime: new Date().toISOString(), packageUpdateMechanism: "builtIn", databaseType: "sqLite", databaseVersion: "3.45.0",
      });
    }
    if (resource === "config" && sub === "host") {
      if (method === "GET") return json(200, hostResource());
      if (method === "PUT") return putHost(body);
    }
    if (resource === kind) {
      if (method === "GET" && sub === "schema") return json(200, schema());
      if (method === "GET" && !sub) return json(200, [...list()].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "")).map(toResource));
      if (method === "GET" && id) { const d = list().find((p) => p.id === id); return d ? json(200, toResource(d)) : notFound(); }
      if (method === "POST" && !sub) return saveProvider(body, "post", undefined, flag("forceSave"));
      if (method === "POST" && sub === "test") return saveProvider(body, "test", undefined, flag("forceTest"));
      if (method === "PUT" && id) return saveProvider(body, "put", id, flag("forceSave"));
      // DeleteProvider: the repository deletes by id; a missing id is no error.
      if (method === "DELETE" && id) { const i = list().findIndex((p) => p.id === id); if (i >= 0) list().splice(i, 1); return json(200, {}); }
    }
    if (app !== "prowlarr" && resource === "rootfolder") {
      if (method === "GET" && !sub) return json(200, state.rootFolders.map(rootFolderResource));
      if (method === "GET" && id) { const f = state.rootFolders.find((x) => x.id === id); return f ? json(200, rootFolderResource(f)) : notFound(); }
      if (method === "POST" && !sub) return addRootFolder(body);
      if (method === "DELETE" && id) {
        // RootFolderService.Remove → repository Delete; missing id: ModelNotFoundException → 404.
        const i = state.rootFolders.findIndex((x) => x.id === id);
        if (i < 0) return notFound();
        state.rootFolders.splice(i, 1);
        return { status: 200 };
      }
    }
    if (app !== "prowlarr" && resource === "indexer") {
      if (method === "GET" && sub === "schema") return json(200, indexerTemplates(app));
      if (method === "POST" && sub === "test") return testIndexer(body);
    }
    return unknown(req);
  }

  /**
   * Sonarr src/NzbDrone.Core/Indexers/Newznab/Newznab.cs Test: fetch from the indexer, then its caps.
   * The fake asks `{baseUrl}{apiPath}?t=caps&apikey=` only.
   */
  async function testIndexer(r: Record<string, unknown>): Promise<Reply> {
    const fields = Array.isArray(r.fields) ? (r.fields as { name: string; value?: unknown }[]) : [];
    const v = (n: string) => fields.find((f) => f.name === n)?.value;
    const url = `${String(v("baseUrl") ?? "").replace(/\/+$/, "")}${String(v("apiPath") ?? "/api")}?t=caps&apikey=${encodeURIComponent(String(v("apiKey") ?? ""))}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.ok) return { status: 200, text: "{}" };
      return invalid([fail("", `Unable to connect to indexer, check the log above the ValidationFailure for more details. HTTP ${res.status}`)]);
    } catch (e) {
      return invalid([fail("", `Unable to connect to indexer: ${(e as Error).message}`)]);
    }
  }

  function unknown(req: Pick<Req, "method" | "path">): Reply {
    violations.push(`${name}: ${req.method} ${req.path} is not an endpoint the fake models (404)`);
    return { status: 404 };
  }

  const starting = (req: Req): Reply => req.path.toLowerCase().startsWith("/api")
    // StartingUpMiddleware (src/<App>.Http/Middleware/StartingUpMiddleware.cs)
    ? json(503, { errorMessage: `${name} is starting up, please try again later` })
    : { status: 503, text: `${name} is starting up, please try again later` };

  // A request "changed state" when the stored state differs after it (concurrent requests may blur this).
  let snapshot = "";
  const served = await serve({
    unavailableForMs: options.unavailableForMs, starting,
    check: (req, reply) => {
      const after = JSON.stringify(state);
      if (after !== snapshot && req.method !== "GET") writes.push({ app, method: req.method, path: req.path, ...(req.json !== undefined ? { body: req.json } : {}) });
      if (!contract || (req.method === "POST" && req.path.toLowerCase() === "/login") || /^\/\d+\/api$/.test(req.path)) return;
      if (reply.status === 401 || reply.status === 404) return;
      violations.push(...contract.request(req.method, req.path, req.query, req.json, req.contentType));
      if (reply.body !== undefined && reply.status < 400) violations.push(...contract.response(req.method, req.path, reply.status, reply.body));
    },
  }, async (req) => {
    snapshot = JSON.stringify(state);
    const reply = await handle(req);
    // VersionMiddleware: every API response carries X-Application-Version.
    if (req.path.toLowerCase().startsWith("/api")) reply.headers = { ...reply.headers, "x-application-version": VERSION[app] };
    return reply;
  });

  return {
    ...served, app, state, writes, violations, handle,
    restart() { state.loginAuthenticationMethod = effectiveAuth(); },
  };
}

