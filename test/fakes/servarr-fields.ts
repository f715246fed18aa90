/**
 * The provider templates the Servarr fakes know: settings classes rewritten as data (field name,
 * label, type, default, privacy, select options), in source order. Labels are the English strings of
 * the localization keys (`src/NzbDrone.Core/Localization/Core/en.json`); help texts are left out.
 *
 * How fields become JSON (`src/<App>.Http/ClientSchema/SchemaBuilder.cs`, same in all three apps):
 * - name: the property name with its first letter lower-cased; type: the FieldType, first letter
 *   lower-cased ("textbox" is the FieldDefinition default); order: renumbered 0..n in source order.
 * - value: the property of a new settings object (its constructor sets the defaults).
 * - Privacy ApiKey or Password and a non-empty value: "********" in every response.
 * - Reading (`ReadFromSchema`): a NEW settings object (constructor defaults), then each known field
 *   found by exact, case-sensitive name overwrites its property; unknown names are ignored; a missing
 *   field keeps the constructor default (not the stored value!); "********" in an ApiKey/Password
 *   field keeps the stored value when there is a stored definition, else it is stored literally.
 * - int properties: `value?.ToString().ParseInt32() ?? 0` (numbers and numeric strings; anything else 0);
 *   IEnumerable<int>: a JSON array, or a comma-separated string; null → empty.
 */
export type FieldKind = "string" | "int" | "bool" | "intList";
export type Privacy = "normal" | "password" | "apiKey" | "userName";

export interface FieldDef {
  name: string;
  label: string;
  kind: FieldKind;
  type?: "textbox" | "checkbox" | "password" | "select" | "number";
  value: unknown;
  advanced?: boolean;
  privacy?: Privacy;
  placeholder?: string;
  selectOptions?: { value: number; name: string; order: number; hint?: string }[];
}

export interface Failure { propertyName: string; errorMessage: string; attemptedValue?: unknown; severity: "error" | "warning"; isWarning?: boolean; detailedDescription?: string }

export interface Template {
  implementation: string;
  implementationName: string;
  configContract: string;
  fields: FieldDef[];
  protocol?: "torrent" | "usenet";
  /** The settings class's FluentValidation rules. */
  validate: (s: Record<string, unknown>) => Failure[];
}

export const fail = (propertyName: string, errorMessage: string, attemptedValue?: unknown, isWarning = false): Failure =>
  ({ propertyName, errorMessage, attemptedValue, severity: isWarning ? "warning" : "error", ...(isWarning ? { isWarning } : {}) });

// `SchemaBuilder.GetSelectOptions`: enum members in value order; a [FieldOption] label replaces the name.
const options = (names: string[]) => names.map((name, value) => ({ value, name, order: value }));
const priority = options(["Last", "First"]); // QBittorrentPriority.cs
// QBittorrentState.cs: [FieldOption(Label = ...)] members get `Hint = attrib.Hint ?? "(value)"`.
const initialState = ["Started", "Force Started", "Stopped"].map((name, value) => ({ value, name, order: value, hint: `(${value})` }));
const contentLayout = options(["Default", "Original", "Subfolder"]); // QBittorrentContentLayout.cs

// `QBittorrentSettingsValidator` (src/NzbDrone.Core/Download/Clients/QBittorrent/QBittorrentSettings.cs)
const CATEGORY = /^([^\\/](\/?[^\\/])*)?$/;
const HOST = /^[-_a-z0-9.]+$/i; // RuleBuilderExtensions.ValidHost: NotEmpty + a host name or IP (simplified)
function qbittorrentRules(category: string, imported: string, hasApiKey: boolean) {
  return (s: Record<string, unknown>): Failure[] => {
    const out: Failure[] = [];
    const host = String(s.host ?? "");
    if (!host) out.push(fail("Host", "'Host' must not be empty.", host));
    else if (!HOST.test(host)) out.push(fail("Host", "Invalid Host", host));
    const port = s.port as number;
    if (port < 1 || port > 65535) out.push(fail("Port", `'Port' must be between 1 and 65535. You entered ${port}.`, port));
    const urlBase = String(s.urlBase ?? "");
    if (urlBase.trim() && (!urlBase.startsWith("/") || urlBase.includes("//") || urlBase.includes("://"))) out.push(fail("UrlBase", "Must start with /", urlBase));
    if (hasApiKey && String(s.apiKey ?? "").trim()) {
      if (s.username) out.push(fail("Username", "Username must be empty when using API Key.", s.username));
      if (s.password) out.push(fail("Password", "Password must be empty when using API Key.", s.password));
    }
    for (const [field, name] of [[category, category[0]!.toUpperCase() + category.slice(1)], [imported, imported[0]!.toUpperCase() + imported.slice(1)]] as const) {
      if (s[field] != null && !CATEGORY.test(String(s[field]))) out.push(fail(name, "Can not contain '\\', '//', or start/end with '/'", s[field]));
    }
    return out;
  };
}

/** Sonarr src/NzbDrone.Core/Download/Clients/QBittorrent/QBittorrentSettings.cs (commit 49df353f). */
export const SONARR_QBITTORRENT: Template = {
  implementation: "QBittorrent", implementationName: "qBittorrent", configContract: "QBittorrentSettings", protocol: "torrent",
  fields: [
    { name: "host", label: "Host", kind: "string", value: "localhost" },
    { name: "port", label: "Port", kind: "int", value: 8080 },
    { name: "useSsl", label: "Use SSL", kind: "bool", type: "checkbox", value: false },
    { name: "urlBase", label: "URL Base", kind: "string", value: null, advanced: true },
    { name: "apiKey", label: "API Key", kind: "string", value: null, privacy: "apiKey" },
    { name: "username", label: "Username", kind: "string", value: null, privacy: "userName" },
    { name: "password", label: "Password", kind: "string", type: "password", value: null, privacy: "password" },
    { name: "tvCategory", label: "Category", kind: "string", value: "tv-sonarr" },
    { name: "tvImportedCategory", label: "Post-Import Category", kind: "string", value: null, advanced: true },
    { name: "recentTvPriority", label: "Recent Priority", kind: "int", type: "select", value: 0, selectOptions: priority },
    { name: "olderTvPriority", label: "Older Priority", kind: "int", type: "select", value: 0, selectOptions: priority },
    { name: "initialState", label: "Initial State", kind: "int", type: "select", value: 0, selectOptions: initialState },
    { name: "sequentialOrder", label: "Sequential Order", kind: "bool", type: "checkbox", value: false },
    { name: "firstAndLast", label: "First and Last First", kind: "bool", type: "checkbox", value: false },
    { name: "contentLayout", label: "Content Layout", kind: "int", type: "select", value: 0, selectOptions: contentLayout },
    { name: "addSeriesTags", label: "Add Series Tags", kind: "bool", type: "checkbox", value: false },
  ],
  validate: qbittorrentRules("tvCategory", "tvImportedCategory", true),
};

/**
 * Radarr src/NzbDrone.Core/Download/Clients/QBittorrent/QBittorrentSettings.cs (commit 1b9662d5):
 * no apiKey field, movie* names, category "radarr".
 */
export const RADARR_QBITTORRENT: Template = {
  implementation: "QBittorrent", implementationName: "qBittorrent", configContract: "QBittorrentSettings", protocol: "torrent",
  fields: [
    { name: "host", label: "Host", kind: "string", value: "localhost" },
    { name: "port", label: "Port", kind: "int", value: 8080 },
    { name: "useSsl", label: "Use SSL", kind: "bool", type: "checkbox", value: false },
    { name: "urlBase", label: "URL Base", kind: "string", value: null, advanced: true },
    { name: "username", label: "Username", kind: "string", value: null, privacy: "userName" },
    { name: "password", label: "Password", kind: "string", type: "password", value: null, privacy: "password" },
    { name: "movieCategory", label: "Category", kind: "string", value: "radarr" },
    { name: "movieImportedCategory", label: "Post-Import Category", kind: "string", value: null, advanced: true },
    { name: "recentMoviePriority", label: "Recent Priority", kind: "int", type: "select", value: 0, selectOptions: priority },
    { name: "olderMoviePriority", label: "Older Priority", kind: "int", type: "select", value: 0, selectOptions: priority },
    { name: "initialState", label: "Initial State", kind: "int", type: "select", value: 0, selectOptions: initialState },
    { name: "sequentialOrder", label: "Sequential Order", kind: "bool", type: "checkbox", value: false },
    { name: "firstAndLast", label: "First and Last First", kind: "bool", type: "checkbox", value: false },
    { name: "contentLayout", label: "Content Layout", kind: "int", type: "select", value: 0, selectOptions: contentLayout },
  ],
  validate: qbittorrentRules("movieCategory", "movieImportedCategory", false),
};

// Prowlarr src/NzbDrone.Core/Applications/{Sonarr,Radarr}/*Settings.cs validators: BaseUrl and
// ProwlarrUrl IsValidUrl, ApiKey NotEmpty; Radarr also SyncCategories NotEmpty.
function applicationRules(requireCategories: boolean) {
  return (s: Record<string, unknown>): Failure[] => {
    const out: Failure[] = [];
    for (const [field, prop] of [["baseUrl", "BaseUrl"], ["prowlarrUrl", "ProwlarrUrl"]] as const) {
      let ok = false;
      try { ok = /^https?:$/.test(new URL(String(s[field] ?? "")).protocol); } catch { /* not a URL */ }
      if (!ok) out.push(fail(prop, "Invalid Url", s[field]));
    }
    if (!String(s.apiKey ?? "").trim()) out.push(fail("ApiKey", "'Api Key' must not be empty.", s.apiKey));
    if (requireCategories && !(s.syncCategories as number[]).length) out.push(fail("SyncCategories", "'Sync Categories' must not be empty.", s.syncCategories));
    return out;
  };
}

/**
 * Prowlarr src/NzbDrone.Core/Applications/Sonarr/SonarrSettings.cs. The two category fields use
 * `NewznabCategoryFieldConverter` for their select options; the fake leaves those options out.
 */
export const PROWLARR_SONARR: Template = {
  implementation: "Sonarr", implementationName: "Sonarr", configContract: "SonarrSettings",
  fields: [
    { name: "prowlarrUrl", label: "Prowlarr Server", kind: "string", value: "http://localhost:9696", placeholder: "http://localhost:9696" },
    { name: "baseUrl", label: "Sonarr Server", kind: "string", value: "http://localhost:8989", placeholder: "http://localhost:8989" },
    { name: "apiKey", label: "API Key", kind: "string", value: null, privacy: "apiKey" },
    { name: "syncCategories", label: "Sync Categories", kind: "intList", type: "select", value: [5000, 5010, 5020, 5030, 5040, 5045, 5050, 5090], advanced: true },
    { name: "animeSyncCategories", label: "Anime Sync Categories", kind: "intList", type: "select", value: [5070], advanced: true },
    { name: "syncAnimeStandardFormatSearch", label: "Sync Anime Standard Format Search", kind: "bool", type: "checkbox", value: true, advanced: true },
    { name: "syncRejectBlocklistedTorrentHashesWhileGrabbing", label: "Sync Reject Blocklisted Torrent Hashes While Grabbing", kind: "bool", type: "checkbox", value: false, advanced: true },
  ],
  validate: applicationRules(false),
};

/** Prowlarr src/NzbDrone.Core/Applications/Radarr/RadarrSettings.cs */
export const PROWLARR_RADARR: Template = {
  implementation: "Radarr", implementationName: "Radarr", configContract: "RadarrSettings",
  fields: [
    { name: "prowlarrUrl", label: "Prowlarr Server", kind: "string", value: "http://localhost:9696", placeholder: "http://localhost:9696" },
    { name: "baseUrl", label: "Radarr Server", kind: "string", value: "http://localhost:7878", placeholder: "http://localhost:7878" },
    { name: "apiKey", label: "API Key", kind: "string", value: null, privacy: "apiKey" },
    { name: "syncCategories", label: "Sync Categories", kind: "intList", type: "select", value: [2000, 2010, 2020, 2030, 2040, 2045, 2050, 2060, 2070, 2080, 2090], advanced: true },
    { name: "syncRejectBlocklistedTorrentHashesWhileGrabbing", label: "Sync Reject Blocklisted Torrent Hashes While Grabbing", kind: "bool", type: "checkbox", value: false, advanced: true },
  ],
  validate: applicationRules(true),
};

/**
 * What Prowlarr's application test reads from Sonarr/Radarr: `GET /api/v3/indexer/schema` must hold a
 * "Newznab" and a "Torznab" template (Prowlarr src/NzbDrone.Core/Applications/Sonarr/Sonarr.cs
 * `BuildSonarrIndexer`). Only the fields Prowlarr syncs are modelled, from Sonarr
 * src/NzbDrone.Core/Indexers/Newznab/NewznabSettings.cs.
 */
export function indexerTemplates(app: "sonarr" | "radarr") {
  const categories = app === "sonarr" ? [5030, 5040] : [2000, 2010, 2020, 2030, 2040, 2045, 2050, 2060, 2070, 2080];
  const fields = (torrent: boolean) => [
    { order: 0, name: "baseUrl", label: "URL", type: "textbox", advanced: false, privacy: "normal", isFloat: false },
    { order: 1, name: "apiPath", label: "API Path", value: "/api", type: "textbox", advanced: true, privacy: "normal", isFloat: false },
    { order: 2, name: "apiKey", label: "API Key", type: "textbox", advanced: false, privacy: "apiKey", isFloat: false },
    { order: 3, name: "categories", label: "Categories", value: categories, type: "select", advanced: false, selectOptionsProviderAction: "newznabCategories", privacy: "normal", isFloat: false },
    ...(app === "sonarr" ? [{ order: 4, name: "animeCategories", label: "Anime Categories", value: [], type: "select", advanced: false, selectOptionsProviderAction: "newznabCategories", privacy: "normal", isFloat: false }] : []),
    ...(torrent ? [{ order: 10, name: "minimumSeeders", label: "Minimum Seeders", value: 1, type: "number", advanced: true, privacy: "normal", isFloat: false }] : []),
  ];
  return ["Newznab", "Torznab"].map((implementation) => ({
    enableRss: true, enableAutomaticSearch: true, enableInteractiveSearch: true, supportsRss: true, supportsSearch: true,
    protocol: implementation === "Newznab" ? "usenet" : "torrent", priority: 25, downloadClientId: 0, name: "",
    fields: fields(implementation === "Torznab"), implementationName: implementation, implementation,
    configContract: `${implementation}Settings`, tags: [], presets: [],
  }));
}
