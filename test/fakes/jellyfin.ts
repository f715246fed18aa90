/**
 * A stateful MODEL of the Jellyfin endpoints the wire job uses, written from the server's source
 * (bare repo jellyfin c3ed1407; paths below are relative to it). Request and response bodies are
 * typed with @jellyfin/sdk 1.0.0's generated models; request bodies are also checked at run time
 * for the fields the fake reads.
 */
import { pbkdf2Sync, randomBytes, randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import type {
  AddVirtualFolderDto, AuthenticateUserByName, AuthenticationResult, CollectionTypeOptions, LibraryOptions, MediaPathDto,
  PublicSystemInfo, StartupConfigurationDto, StartupRemoteAccessDto, StartupUserDto, UserDto, VirtualFolderInfo,
} from "@jellyfin/sdk/lib/generated-client/models/index.js";
import { type FakeBase, type Reply, type Req, json, serve } from "./http.ts";

export interface JellyfinUser { id: string; name: string; /** a salted hash, null for no password */ passwordHash: string | null; isAdministrator: boolean }
export interface JellyfinSession { accessToken: string; userId: string; deviceId: string; client: string; device: string; version: string }
export interface JellyfinLibrary { name: string; collectionType?: CollectionTypeOptions; /** PathInfos in the order added */ paths: string[]; libraryOptions: LibraryOptions }

export interface JellyfinState {
  wizardCompleted: boolean;
  startup: Required<{ [K in keyof StartupConfigurationDto]: string }>;
  enableRemoteAccess: boolean;
  /** Empty on a fresh install: GET /Startup/User creates the first user (UserManager.InitializeAsync). */
  users: JellyfinUser[];
  sessions: JellyfinSession[];
  virtualFolders: JellyfinLibrary[];
}

export interface JellyfinOptions {
  isDirectory?: (path: string) => boolean;
  unavailableForMs?: number;
  /** The account the server runs as: InitializeAsync names the first user after it (NixOS: "jellyfin"). */
  processUser?: string;
  /** ServerConfiguration.EnableLegacyAuthorization (default false). */
  enableLegacyAuthorization?: boolean;
}

export interface FakeJellyfin extends FakeBase {
  state: JellyfinState;
  handle(req: Pick<Req, "method" | "path"> & Partial<Req>): Reply;
}

const SERVER_ID = "f4c3f4c3f4c3f4c3f4c3f4c3f4c3f4c3";
const VERSION = "10.11.0"; // set at build time; only the shape matters
const COLLECTION_TYPES: readonly string[] = ["movies", "tvshows", "music", "musicvideos", "homevideos", "boxsets", "books", "mixed"];
// Jellyfin.Server.Implementations/Users/UserManager.cs ValidUsernameRegex
const VALID_USERNAME = /^(?!\s)[\p{L}\p{N}_ \-'.@+]+(?<!\s)$/u;
// The real hash is PBKDF2-SHA512 with Constants.DefaultIterations; fewer rounds keep the fake fast.
const hash = (password: string) => { const salt = randomBytes(16).toString("hex"); return `$PBKDF2-SHA512$iterations=1000$${salt}$${pbkdf2Sync(password, salt, 1000, 64, "sha512").toString("hex")}`; };
const verify = (stored: string, password: string) => { const [, , , salt, h] = stored.split("$"); return pbkdf2Sync(password, salt!, 1000, 64, "sha512").toString("hex") === h; };

/** Case-insensitive property read (System.Text.Json with PropertyNameCaseInsensitive). */
const prop = (body: unknown, name: string): unknown =>
  body && typeof body === "object" ? Object.entries(body).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1] : undefined;

export async function startFakeJellyfin(options: JellyfinOptions): Promise<FakeJellyfin> {
  const isDirectory = options.isDirectory ?? ((p: string) => existsSync(p) && statSync(p).isDirectory());
  const state: JellyfinState = {
    wizardCompleted: false,
    // MediaBrowser.Model/Configuration/ServerConfiguration.cs defaults
    startup: { ServerName: "", UICulture: "en-US", MetadataCountryCode: "US", PreferredMetadataLanguage: "en" },
    enableRemoteAccess: true, // NetworkConfiguration.EnableRemoteAccess default
    users: [], sessions: [], virtualFolders: [],
  };
  const writes: FakeBase["writes"] = [];
  const violations: string[] = [];
  const text = (status: number, message: string): Reply => ({ status, text: message });
  // Jellyfin.Api/Middleware/ExceptionMiddleware.cs GetStatusCode: ArgumentException 400,
  // AuthenticationException 401, SecurityException 403, FileNotFound/DirectoryNotFound 404.
  const badRequest = (m: string) => text(400, m);

  /** Runtime check of a DTO: each named field absent/null or of the type; `required` ones present. */
  function dto(req: Partial<Req>, source: string, fields: Record<string, "string" | "boolean" | "object">, required: string[] = []): Reply | undefined {
    const body = req.json;
    const where = `Jellyfin ${req.method} ${req.path}: body (${source})`;
    if (body instanceof SyntaxError || !body || typeof body !== "object" || Array.isArray(body)) {
      violations.push(`${where} is not a JSON object`);
      return badRequest("A non-empty request body is required.");
    }
    for (const [name, type] of Object.entries(fields)) {
      const v = prop(body, name);
      if (v == null) { if (required.includes(name)) { violations.push(`${where}: ${name} is required`); return badRequest(`The ${name} field is required.`); } continue; }
      if (typeof v !== type) { violations.push(`${where}: ${name} must be a ${type}, got ${JSON.stringify(v)}`); return badRequest(`The JSON value could not be converted for ${name}.`); }
    }
    return undefined;
  }

  // Jellyfin.Server.Implementations/Security/AuthorizationContext.cs GetAuthorization/GetParts.
  function authorization(req: Partial<Req>) {
    let header = req.headers?.authorization;
    if (options.enableLegacyAuthorization && !header) header = req.headers?.["x-emby-authorization"] as string | undefined;
    const parts: Record<string, string> = {};
    const space = header?.indexOf(" ") ?? -1;
    const scheme = header && space > 0 ? header.slice(0, space) : "";
    if (header && (scheme.toLowerCase() === "mediabrowser" || (options.enableLegacyAuthorization && scheme.toLowerCase() === "emby"))) {
      const rest = header.slice(space + 1);
      let escaped = false, start = 0, key = "", i = 0;
      const add = (end: number) => { parts[key] = decodeURIComponent(rest.slice(start, end).trim().replace(/^"+|"+$/g, "").replace(/\+/g, " ")); key = ""; };
      for (; i < rest.length; i++) {
        const c = rest[i];
        if (c === '"' || c === ",") {
          escaped = !escaped === (c === '"');
          if (c === "," && !escaped) { if (start < i) add(i); start = i + 1; }
        } else if (!escaped && c === "=") { key = rest.slice(start, i).trim(); start = i + 1; }
      }
      if (start < i) add(i);
    }
    const query = (name: string) => [...(req.query?.entries() ?? [])].find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    let token = parts.Token;
    // X-Emby-Token, X-MediaBrowser-Token and api_key count only with EnableLegacyAuthorization; ApiKey always.
    if (!token && options.enableLegacyAuthorization) token = (req.headers?.["x-emby-token"] ?? req.headers?.["x-mediabrowser-token"]) as string | undefined;
    token ||= query("ApiKey");
    if (!token && options.enableLegacyAuthorization) token = query("api_key");
    const session = token ? state.sessions.find((s) => s.accessToken === token) : undefined;
    return { parts, token, user: session && state.users.find((u) => u.id === session.userId) };
  }

  /**
   * Jellyfin.Api/Auth/FirstTimeSetupPolicy/FirstTimeSetupHandler.cs (policy FirstTimeSetupOrElevated):
   * anyone while the wizard is not complete, afterwards administrators only.
   */
  function firstTimeSetupOrElevated(req: Partial<Req>): Reply | undefined {
    if (!state.wizardCompleted) return undefined;
    const { user } = authorization(req);
    if (!user) return { status: 401 };
    return user.isAdministrator ? undefined : { status: 403 };
  }

  const userDto = (u: JellyfinUser): UserDto => ({
    Name: u.name, ServerId: SERVER_ID, Id: u.id, HasPassword: u.passwordHash !== null, HasConfiguredPassword: u.passwordHash !== null,
    HasConfiguredEasyPassword: false, EnableAutoLogin: false,
  });

  const libraryDto = (l: JellyfinLibrary): VirtualFolderInfo => ({
    Name: l.name,
    // LibraryManager.GetVirtualFolderInfo: the shortcut targets, `.Order()`ed (not in the order added).
    Locations: [...l.paths].sort((a, b) => a.localeCompare(b, "en")),
    ...(l.collectionType ? { CollectionType: l.collectionType } : {}),
    LibraryOptions: { ...l.libraryOptions, PathInfos: l.paths.map((Path) => ({ Path })) },
    ItemId: Buffer.from(l.name).toString("hex").padEnd(32, "0").slice(0, 32), RefreshStatus: "Idle",
  });

  function handle(req: Pick<Req, "method" | "path"> & Partial<Req>): Reply {
    const path = req.path.toLowerCase().replace(/\/+$/, "");
    const method = req.method;
    const query = (name: string) => [...(req.query?.entries() ?? [])].filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    const at = (m: string, p: string) => method === m && path === p.toLowerCase();

    // Jellyfin.Api/Controllers/SystemController.cs (anonymous)
    if (at("GET", "/System/Info/Public")) {
      const info: PublicSystemInfo = { LocalAddress: "http://127.0.0.1:8096", ServerName: state.startup.ServerName || "jellyfin", Version: VERSION, ProductName: "Jellyfin Server", Id: SERVER_ID, StartupWizardCompleted: state.wizardCompleted };
      return json(200, info);
    }
    if ((method === "GET" || method === "POST") && path === "/system/ping") return json(200, "Jellyfin Server");

    // Jellyfin.Api/Controllers/UserController.cs AuthenticateUserByName → SessionManager.AuthenticateNewSessionInternal
    if (at("POST", "/Users/AuthenticateByName")) {
      const bad = dto(req, "Jellyfin.Api/Models/UserDtos/AuthenticateUserByName.cs", { Username: "string", Pw: "string" });
      if (bad) return bad;
      const body: AuthenticateUserByName = { Username: prop(req.json, "Username") as string | null, Pw: prop(req.json, "Pw") as string | null };
      const { parts } = authorization(req);
      for (const k of ["Client", "DeviceId", "Device", "Version"]) {
        if (!parts[k]) { violations.push(`Jellyfin POST /Users/AuthenticateByName: the Authorization header lacks ${k} (ArgumentException, 400)`); return badRequest(`The value cannot be an empty string. (Parameter '${k}')`); }
      }
      if (!body.Username?.trim()) return badRequest("Value cannot be null. (Parameter 'username')"); // UserManager.AuthenticateUser
      const user = state.users.find((u) => u.name.toUpperCase() === body.Username!.toUpperCase()); // NormalizedUsername
      // DefaultAuthenticationProvider.Authenticate: a password-less user with an empty password passes.
      const ok = user && (user.passwordHash === null ? !body.Pw : verify(user.passwordHash, body.Pw ?? ""));
      if (!user || !ok) return text(401, "Invalid username or password entered.");
      // GetAuthorizationToken: the user's earlier sessions on this DeviceId are logged out.
      state.sessions = state.sessions.filter((s) => !(s.userId === user.id && s.deviceId === parts.DeviceId));
      const session: JellyfinSession = { accessToken: randomUUID().replace(/-/g, ""), userId: user.id, deviceId: parts.DeviceId!, client: parts.Client!, device: parts.Device!, version: parts.Version! };
      state.sessions.push(session);
      const result: AuthenticationResult = { User: userDto(user), SessionInfo: { UserId: user.id, UserName: user.name, Client: session.client, DeviceId: session.deviceId, DeviceName: session.device, ApplicationVersion: session.version }, AccessToken: session.accessToken, ServerId: SERVER_ID };
      return json(200, result);
    }

    // Jellyfin.Api/Controllers/UserController.cs GetCurrentUser: [HttpGet("Me")] [Authorize], 401 without a valid token.
    if (at("GET", "/Users/Me")) {
      const { user } = authorization(req);
      return user ? json(200, userDto(user)) : { status: 401 };
    }

    // Jellyfin.Api/Controllers/StartupController.cs ([Authorize(Policy = FirstTimeSetupOrElevated)] on the class)
    if (path.startsWith("/startup/")) {
      const denied = firstTimeSetupOrElevated(req);
      if (denied) return denied;
      if (at("POST", "/Startup/Complete")) { state.wizardCompleted = true; return { status: 204 }; }
      if (at("GET", "/Startup/Configuration")) return json(200, state.startup satisfies StartupConfigurationDto);
      if (at("POST", "/Startup/Configuration")) {
        const bad = dto(req, "Jellyfin.Api/Models/StartupDtos/StartupConfigurationDto.cs", { ServerName: "string", UICulture: "string", MetadataCountryCode: "string", PreferredMetadataLanguage: "string" });
        if (bad) return bad;
        for (const k of Object.keys(state.startup) as (keyof StartupConfigurationDto)[]) state.startup[k] = (prop(req.json, k) as string | null) ?? "";
        return { status: 204 };
      }
      if (at("POST", "/Startup/RemoteAccess")) {
        const bad = dto(req, "Jellyfin.Api/Models/StartupDtos/StartupRemoteAccessDto.cs", { EnableRemoteAccess: "boolean" }, ["EnableRemoteAccess"]);
        if (bad) return bad;
        state.enableRemoteAccess = (prop(req.json, "EnableRemoteAccess") as StartupRemoteAccessDto["EnableRemoteAccess"]);
        return { status: 204 };
      }
      if (at("GET", "/Startup/User") || at("GET", "/Startup/FirstUser")) {
        // UserManager.InitializeAsync: no users → one administrator named after the process user, or MyJellyfinUser.
        if (!state.users.length) {
          const processUser = options.processUser ?? "jellyfin";
          state.users.push({ id: randomUUID().replace(/-/g, ""), name: VALID_USERNAME.test(processUser) ? processUser : "MyJellyfinUser", passwordHash: null, isAdministrator: true });
        }
        const dtoOut: StartupUserDto = { Name: state.users[0]!.name, Password: null };
        return json(200, dtoOut);
      }
      if (at("POST", "/Startup/User")) {
        const bad = dto(req, "Jellyfin.Api/Models/StartupDtos/StartupUserDto.cs", { Name: "string", Password: "string" });
        if (bad) return bad;
        const body: StartupUserDto = { Name: prop(req.json, "Name") as string | null, Password: prop(req.json, "Password") as string | null };
        const user = state.users[0];
        if (!user) { violations.push("Jellyfin POST /Startup/User before GET /Startup/User: no first user exists yet (404)"); return { status: 404 }; }
        if (user.passwordHash !== null) return { status: 403 }; // the first user already has a password: Forbid()
        if (!body.Password?.trim()) return badRequest("Password must not be empty");
        if (body.Name != null && body.Name.toLowerCase() !== user.name.toLowerCase()) {
          // UserManager.RenameUser → ThrowIfInvalidUsername (ArgumentException, 400)
          if (!VALID_USERNAME.test(body.Name) || body.Name === "." || body.Name === "..") return badRequest("Usernames can contain unicode symbols, numbers (0-9), dashes (-), underscores (_), apostrophes ('), and periods (.) (Parameter 'name')");
          user.name = body.Name;
        }
        user.passwordHash = hash(body.Password);
        return { status: 204 };
      }
      return unknown(req);
    }

    // Jellyfin.Api/Controllers/LibraryStructureController.cs → Emby.Server.Implementations/Library/LibraryManager.cs
    if (path.startsWith("/library/virtualfolders")) {
      const denied = firstTimeSetupOrElevated(req);
      if (denied) return denied;
      const find = (name: string | undefined) => state.virtualFolders.find((l) => l.name === name); // a directory name: case-sensitive
      if (at("GET", "/Library/VirtualFolders")) return json(200, state.virtualFolders.map(libraryDto));
      if (at("POST", "/Library/VirtualFolders")) {
        if (req.json !== undefined) {
          const bad = dto(req, "Jellyfin.Api/Models/LibraryStructureDto/AddVirtualFolderDto.cs", { LibraryOptions: "object" });
          if (bad) return bad;
        }
        const body = (req.json ?? {}) as AddVirtualFolderDto;
        const name = query("name")[0];
        if (name !== undefined && name !== "" && !/^(?:\S(?:.*\S)?)$/.test(name)) return badRequest("Library name cannot be empty or have leading/trailing spaces.");
        if (!name?.trim()) return badRequest("Value cannot be null. (Parameter 'name')");
        const type = query("collectionType")[0];
        const collectionType = type === undefined ? undefined : COLLECTION_TYPES.find((t) => t === type.toLowerCase());
        if (type !== undefined && !collectionType) return badRequest(`The value '${type}' is not valid for collectionType.`);
        // CommaDelimitedCollectionModelBinder: repeated parameters or one comma-separated value.
        const paths = query("paths").flatMap((p) => p.split(",")).map((p) => p.trim()).filter(Boolean);
        const options: LibraryOptions = { ...(prop(body, "LibraryOptions") as LibraryOptions | undefined) };
        const pathInfos = paths.length ? paths : ((options.PathInfos ?? []).map((p) => p.Path).filter((p): p is string => !!p));
        const missing = pathInfos.find((p) => !isDirectory(p));
        if (missing) return badRequest(`The specified path does not exist: ${missing}.`);
        // AddVirtualFolder: GetValidFilename(name.Trim()); an existing name gets 2, 3, ... appended.
        const clean = name.trim().replace(/\//g, " ");
        let unique = clean;
        for (let n = 2; find(unique); n++) unique = `${clean}${n}`;
        delete options.PathInfos;
        state.virtualFolders.push({ name: unique, ...(collectionType ? { collectionType: collectionType as CollectionTypeOptions } : {}), paths: pathInfos, libraryOptions: options });
        return { status: 204 };
      }
      if (at("DELETE", "/Library/VirtualFolders")) {
        const name = query("name")[0];
        if (!name?.trim()) return badRequest("Value cannot be null. (Parameter 'name')");
        const lib = find(name);
        if (!lib) return text(404, "The media folder does not exist");
        state.virtualFolders.splice(state.virtualFolders.indexOf(lib), 1);
        return { status: 204 };
      }
      if (at("POST", "/Library/VirtualFolders/Paths")) {
        const bad = dto(req, "Jellyfin.Api/Models/LibraryStructureDto/MediaPathDto.cs", { Name: "string", Path: "string", PathInfo: "object" }, ["Name"]);
        if (bad) return bad;
        const body: MediaPathDto = { Name: prop(req.json, "Name") as string, Path: prop(req.json, "Path") as string | null, PathInfo: prop(req.json, "PathInfo") as MediaPathDto["PathInfo"] };
        const path2 = body.PathInfo ? (prop(body.PathInfo, "Path") as string | null) : body.Path;
        if (!body.PathInfo && body.Path == null) return badRequest("PathInfo and Path can't both be null.");
        if (!path2?.trim()) return badRequest("path"); // AddMediaPathInternal: ArgumentException(nameof(path))
        if (!isDirectory(path2)) return text(404, "The path does not exist."); // FileNotFoundException → 404
        const lib = find(body.Name);
        // CreateShortcut writes into a library folder that does not exist → DirectoryNotFoundException → 404.
        if (!lib) return text(404, `Could not find a part of the path for library '${body.Name}'.`);
        lib.paths.push(path2); // the same path twice is allowed: CreateShortcut appends "1" to the shortcut name
        return { status: 204 };
      }
      if (at("DELETE", "/Library/VirtualFolders/Paths")) {
        const name = query("name")[0], p = query("path")[0];
        if (!name?.trim() || !p?.trim()) return badRequest(`The value cannot be an empty string or composed entirely of whitespace. (Parameter '${!name?.trim() ? "name" : "path"}')`);
        const lib = find(name);
        if (!lib) return text(404, `The media collection ${name} does not exist`);
        lib.paths = lib.paths.filter((x) => x !== p); // RemoveMediaPath: a path not in the library is no error
        return { status: 204 };
      }
      return unknown(req);
    }
    return unknown(req);
  }

  function unknown(req: Pick<Req, "method" | "path">): Reply {
    violations.push(`Jellyfin: ${req.method} ${req.path} is not an endpoint the fake models (404)`);
    return { status: 404 };
  }

  const persistent = () => JSON.stringify({ ...state, sessions: undefined });
  let before = "";
  const served = await serve({
    unavailableForMs: options.unavailableForMs,
    // Jellyfin.Api/Middleware/ServerStartupMessageMiddleware.cs: 503 text/html, except /system/ping.
    starting: (req) => req.path.toLowerCase() === "/system/ping" ? handle(req) : { status: 503, text: "Jellyfin Server is loading. Please try again shortly.", headers: { "content-type": "text/html" } },
    check: (req) => { if (req.method !== "GET" && persistent() !== before) writes.push({ app: "jellyfin", method: req.method, path: req.path, ...(req.json !== undefined ? { body: req.json } : {}) }); },
  }, (req) => { before = persistent(); return handle(req); });
  return { ...served, state, writes, violations, handle };
}
