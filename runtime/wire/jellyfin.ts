/**
 * Jellyfin: the first-run wizard, done with an administrator from sops, and the libraries with the
 * spec's paths (local first, then the B2 mount). Request and response shapes are the official SDK's
 * (`@jellyfin/sdk`, generated from Jellyfin's OpenAPI document); only their types are used, so the
 * bundle carries none of it. Endpoints: jellyfin/jellyfin `Jellyfin.Api/Controllers/StartupController.cs`,
 * `LibraryStructureController.cs`, `UserController.cs`, `SystemController.cs`.
 */
import type {
  AddVirtualFolderDto,
  AuthenticateUserByName,
  AuthenticationResult,
  MediaPathDto,
  PublicSystemInfo,
  StartupConfigurationDto,
  StartupRemoteAccessDto,
  StartupUserDto,
  VirtualFolderInfo,
} from "@jellyfin/sdk/lib/generated-client/models/index.js";
import { createHash } from "node:crypto";
import { accessSync, constants, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { q } from "../log.ts";
import type { WireConfigModel } from "../config.ts";
import { AppClient, WireError } from "./http.ts";
import type { WireRun } from "./plan.ts";

const NAME = "Jellyfin";

/**
 * Jellyfin identifies a client by this header (Jellyfin.Api `Auth/CustomAuthenticationHandler`); a fixed
 * DeviceId makes each run reuse one session instead of adding a device per run.
 */
export function authorization(token?: string): string {
  const parts = [`Client="media-pipeline"`, `Device="wire"`, `DeviceId="media-pipeline-wire"`, `Version="1"`];
  if (token) parts.push(`Token="${token}"`);
  return `MediaBrowser ${parts.join(", ")}`;
}

export function jellyfinClient(url: string, token?: string): AppClient {
  return new AppClient(NAME, url, { Authorization: authorization(token) });
}

export async function probeJellyfin(client: AppClient): Promise<PublicSystemInfo> {
  return client.get<PublicSystemInfo>("/System/Info/Public");
}

export interface JellyfinOptions {
  /** Whether a library path exists on this host; Jellyfin refuses a path that does not. */
  isDirectory: (path: string) => boolean;
  /** The job's state folder: its session token, and the password Jellyfin last refused. */
  stateDir: string;
}

/**
 * What the job keeps between runs. It logs in once and reuses the session: Jellyfin counts failed
 * logins and disables the account after a few (UserManager.cs, LoginAttemptsBeforeLockout, 3 once the
 * user's policy was saved in the web UI), so an hourly job must not retry a refused password. The
 * password is kept only as a hash, to notice when sops holds a new one.
 */
interface JellyfinState {
  token?: string;
  refused?: { user: string; sha256: string; at: string };
}
const stateFile = (dir: string) => join(dir, "jellyfin.json");
function readState(dir: string): JellyfinState {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(stateFile(dir), "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new WireError(`cannot read ${stateFile(dir)}: ${(error as Error).message}; remove it and the job logs in again`);
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) throw new WireError(`${stateFile(dir)} is not what the job writes; remove it and the job logs in again`);
  const { token, refused } = data as Record<string, unknown>;
  const r = refused as Record<string, unknown> | undefined;
  return {
    ...(typeof token === "string" && token ? { token } : {}),
    ...(r && typeof r.sha256 === "string" && typeof r.user === "string" && typeof r.at === "string" ? { refused: { sha256: r.sha256, user: r.user, at: r.at } } : {}),
  };
}
/** The state folder exists and takes a file: checked before any login, so a refusal can always be kept. */
function ensureWritable(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new WireError(`cannot keep the job's state in ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)}); without it a refused password would be tried at every run, so the job does not log in`);
  }
}
function writeState(dir: string, state: JellyfinState): void {
  const file = stateFile(dir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
const fingerprint = (user: string, password: string) => createHash("sha256").update(`${user}\0${password}`).digest("hex");

export async function wireJellyfin(run: WireRun, url: string, config: WireConfigModel["jellyfin"], password: string, options: JellyfinOptions): Promise<void> {
  const anonymous = jellyfinClient(url);
  const info = await probeJellyfin(anonymous);
  if (!run.dryRun) ensureWritable(options.stateDir);
  if (info.StartupWizardCompleted !== true) {
    // The web wizard's order: language, first user, (libraries), remote access, complete.
    await run.change(NAME, `complete the first-run wizard with the administrator ${q(config.user)} (password from sops), remote access ${config.remoteAccess ? "on" : "off"}`, async () => {
      const configuration = await anonymous.get<StartupConfigurationDto>("/Startup/Configuration");
      await anonymous.call("POST", "/Startup/Configuration", { json: configuration });
      await anonymous.get<StartupUserDto>("/Startup/User");
      const user: StartupUserDto = { Name: config.user, Password: password };
      // 403: someone began the wizard and gave the first user a password (StartupController.UpdateStartupUser).
      // Finishing it for them would hand them the server: stop, and say so.
      const answer = await anonymous.call("POST", "/Startup/User", { json: user, accept: (s) => (s >= 200 && s < 300) || s === 403 });
      if (answer.status === 403) {
        throw new WireError(
          `Jellyfin's first-run wizard was begun without the job: its first user already has a password. Finish the wizard in the web UI with the administrator ${q(config.user)} and the password from sops (or reinstall Jellyfin if that was not you); the wizard is left as it is`,
        );
      }
      const remote: StartupRemoteAccessDto = { EnableRemoteAccess: config.remoteAccess };
      await anonymous.call("POST", "/Startup/RemoteAccess", { json: remote });
      await anonymous.call("POST", "/Startup/Complete");
      // The administrator now has the password from sops: an old refusal or session (a reinstalled Jellyfin) no longer applies.
      writeState(options.stateDir, {});
    });
  } else run.ok(NAME, "first-run wizard is done");

  if (run.dryRun && info.StartupWizardCompleted !== true) {
    // No administrator to log in as yet: every library is still to be made.
    for (const library of config.libraries) {
      const paths = library.paths.filter(options.isDirectory);
      if (paths.length > 0) await run.change(NAME, `create library ${q(library.name)} (${library.collectionType}) with ${paths.map(q).join(", ")}`, async () => {});
    }
    return;
  }

  const token = await session(run, anonymous, url, config.user, password, options.stateDir);
  if (token) await wireLibraries(run, jellyfinClient(url, token), config, options);
}

/**
 * A token of the administrator: the one kept from an earlier run while Jellyfin still takes it, else
 * one login. A dry run never logs in: each failed login counts toward Jellyfin's lockout, and a good
 * one adds a session. Undefined: a dry run without a session, which cannot look at the libraries.
 */
async function session(run: WireRun, anonymous: AppClient, url: string, user: string, password: string, stateDir: string): Promise<string | undefined> {
  const state = readState(stateDir);
  if (state.token) {
    const check = await jellyfinClient(url, state.token).call("GET", "/Users/Me", { accept: (s) => s === 200 || s === 401 });
    if (check.status === 200) return state.token;
  }
  const sha256 = fingerprint(user, password);
  const file = stateFile(stateDir);
  if (state.refused?.sha256 === sha256) {
    throw new WireError(
      `Jellyfin refused the administrator ${q(user)} with the password from sops at ${state.refused.at}; not trying it again, since Jellyfin disables an account after repeated failed logins. Put that user's password in sops and the next run tries it once; or, if you set the password in Dashboard > Users back to the one in sops, remove ${file} (just wire-retry-login)`,
    );
  }
  if (run.dryRun) {
    run.later(NAME, `the job keeps no session yet, and a dry run does not log in (each failed login counts toward Jellyfin's lockout), so the libraries were not compared`);
    return undefined;
  }
  const login: AuthenticateUserByName = { Username: user, Pw: password };
  const auth = await anonymous.call<AuthenticationResult>("POST", "/Users/AuthenticateByName", { json: login, accept: (s) => (s >= 200 && s < 300) || s === 401 });
  if (auth.status === 401 || !auth.body.AccessToken) {
    writeState(stateDir, { refused: { user, sha256, at: new Date().toISOString() } });
    throw new WireError(
      `Jellyfin refuses the administrator ${q(user)} with the password from sops (changed in the web UI, or the wizard was done by hand with another). Put that user's password in sops; the job does not try this one again (if you set the password back in Dashboard > Users instead, remove ${file}: just wire-retry-login)`,
    );
  }
  writeState(stateDir, { token: auth.body.AccessToken });
  return auth.body.AccessToken;
}

async function wireLibraries(run: WireRun, client: AppClient, config: WireConfigModel["jellyfin"], options: JellyfinOptions): Promise<void> {
  const existing = await client.get<VirtualFolderInfo[]>("/Library/VirtualFolders");
  // Each change asks Jellyfin to scan (refreshLibrary), so new folders show without waiting for the nightly scan.
  for (const library of config.libraries) {
    // Jellyfin keeps "tv shows" and "TV Shows" apart; a second library over the same folder would show everything twice.
    const current = existing.find((f) => f.Name === library.name) ?? existing.find((f) => (f.Name ?? "").toLowerCase() === library.name.toLowerCase());
    if (current && current.Name !== library.name) run.report(NAME, `library ${q(current.Name ?? "")} is the spec's ${q(library.name)} named in another case; it is used as it is`);
    const ready = library.paths.filter(options.isDirectory);
    for (const path of library.paths.filter((p) => !ready.includes(p))) {
      run.later(NAME, `library ${q(library.name)}: ${q(path)} does not exist yet (on the B2 mount it appears with the first upload to it); a later run adds it`);
    }
    if (!current) {
      if (ready.length === 0) continue;
      await run.change(NAME, `create library ${q(library.name)} (${library.collectionType}) with ${ready.map(q).join(", ")}`, async () => {
        const body: AddVirtualFolderDto = { LibraryOptions: { PathInfos: ready.map((Path) => ({ Path })) } };
        await client.call("POST", "/Library/VirtualFolders", { query: { name: library.name, collectionType: library.collectionType, refreshLibrary: true }, json: body });
      });
      continue;
    }
    if (current.CollectionType !== library.collectionType) {
      run.report(NAME, `library ${q(library.name)} holds ${String(current.CollectionType ?? "mixed content")}, not ${library.collectionType}; Jellyfin cannot change a library's type, so remove it in the dashboard and the next run recreates it`);
    }
    const locations = current.Locations ?? [];
    for (const path of ready.filter((p) => !locations.includes(p))) {
      await run.change(NAME, `add ${q(path)} to library ${q(library.name)}`, async () => {
        // Jellyfin finds the library's folder by this name, case-sensitively (LibraryManager.AddMediaPath).
        const body: MediaPathDto = { Name: current.Name ?? library.name, PathInfo: { Path: path } };
        await client.call("POST", "/Library/VirtualFolders/Paths", { query: { refreshLibrary: true }, json: body });
      });
    }
    for (const path of locations.filter((p) => !library.paths.includes(p))) run.report(NAME, `library ${q(library.name)} also reads ${q(path)}`);
    if (locations.length > 0 && ready.every((p) => locations.includes(p))) run.ok(NAME, `library ${q(library.name)} has its paths`);
  }
  for (const other of existing) if (!config.libraries.some((l) => l.name.toLowerCase() === (other.Name ?? "").toLowerCase())) run.report(NAME, `library ${q(other.Name ?? "")}`);
}
