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
import { accessSync, constants, mkdirSync } from "node:fs";
import { join } from "node:path";
import { acquireLock } from "../lock.ts";
import { q } from "../log.ts";
import { readState, StateError, writeState } from "../state.ts";
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
interface Refusal {
  user: string;
  sha256: string;
  at: string;
  /** "refused": Jellyfin said no; "no answer": it may have counted a failure all the same; "disabled": the account is disabled. */
  why: "refused" | "no answer" | "disabled";
}
interface JellyfinState {
  token?: string;
  /** Every login refused (or left unanswered) since the last one that worked, oldest first. */
  refused?: Refusal[];
}
/**
 * Failed logins the job allows itself between two that work. Jellyfin disables an account whose
 * failures since its last good login reach the limit, 3 once the user's policy was saved in the web UI
 * (UserManager.cs), and only a good login resets the count: a third try could be the one that locks.
 */
const MAX_REFUSALS = 2;
const stateFile = (dir: string) => join(dir, "jellyfin.json");
const REMOVE_IT = "remove it and the job logs in again";

/** The kept state, through the runtime's crash-safe state files; anything else in the file is named, not guessed at. */
function readJellyfinState(dir: string): JellyfinState {
  let data: unknown;
  try {
    data = readState(stateFile(dir), REMOVE_IT);
  } catch (error) {
    if (error instanceof StateError) throw new WireError(`${error.message}${error.message.endsWith(REMOVE_IT) ? "" : `; ${REMOVE_IT}`}`);
    throw error;
  }
  if (data === undefined) return {};
  if (!data || typeof data !== "object" || Array.isArray(data)) throw new WireError(`${stateFile(dir)} is not what the job writes; ${REMOVE_IT}`);
  const { token, refused } = data as Record<string, unknown>;
  const entries = (Array.isArray(refused) ? refused : [])
    .filter((r): r is Refusal => !!r && typeof r === "object" && typeof r.sha256 === "string" && typeof r.user === "string" && typeof r.at === "string")
    .map((r): Refusal => ({ user: r.user, sha256: r.sha256, at: r.at, why: r.why === "no answer" || r.why === "disabled" ? r.why : "refused" }));
  return { ...(typeof token === "string" && token ? { token } : {}), ...(entries.length > 0 ? { refused: entries } : {}) };
}
/** Only the job's account reads the folder (0700); the file holds a session token, so 0600 as well. */
function writeJellyfinState(dir: string, state: JellyfinState): void {
  try {
    writeState(stateFile(dir), state, 0o600);
  } catch (error) {
    throw error instanceof StateError ? new WireError(error.message) : error;
  }
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
const fingerprint = (user: string, password: string) => createHash("sha256").update(`${user}\0${password}`).digest("hex");

export async function wireJellyfin(run: WireRun, url: string, config: WireConfigModel["jellyfin"], password: string, options: JellyfinOptions): Promise<void> {
  const anonymous = jellyfinClient(url);
  const info = await probeJellyfin(anonymous);
  if (!run.dryRun) ensureWritable(options.stateDir);
  const login = new Login(anonymous, config.user, password, options.stateDir);
  if (info.StartupWizardCompleted !== true) {
    await run.change(NAME, `complete the first-run wizard with the administrator ${q(config.user)} (password from sops), remote access ${config.remoteAccess ? "on" : "off"}`, async () => {
      // The first user first: GET creates it (UserManager.InitializeAsync), POST names it and sets its password.
      await anonymous.get<StartupUserDto>("/Startup/User");
      const user: StartupUserDto = { Name: config.user, Password: password };
      const answer = await anonymous.call("POST", "/Startup/User", { json: user, accept: (s) => (s >= 200 && s < 300) || s === 403 });
      if (answer.status !== 403) login.forgetRefusals();
      else {
        // The first user already has a password (StartupController.UpdateStartupUser): an earlier run of the job
        // that was cut off, or someone else. Go on only if the sops password is the one it has.
        await login.token(
          `Jellyfin's first-run wizard was begun without the job: its first user has a password other than the one in sops. Finish the wizard in the web UI with the administrator ${q(config.user)} and the password from sops (or reinstall Jellyfin if that was not you); the wizard is left as it is`,
        );
      }
      // Then the web wizard's other steps: language and metadata (as Jellyfin proposes them), remote access, complete.
      const configuration = await anonymous.get<StartupConfigurationDto>("/Startup/Configuration");
      await anonymous.call("POST", "/Startup/Configuration", { json: configuration });
      const remote: StartupRemoteAccessDto = { EnableRemoteAccess: config.remoteAccess };
      await anonymous.call("POST", "/Startup/RemoteAccess", { json: remote });
      await anonymous.call("POST", "/Startup/Complete");
      // The administrator has the password from sops now: refusals of an earlier install no longer apply.
      login.forgetRefusals();
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

  const kept = await login.keptToken();
  if (kept) return wireLibraries(run, jellyfinClient(url, kept), config, options);
  if (run.dryRun) {
    // Each failed login counts toward Jellyfin's lockout, and a good one adds a session.
    const blocked = login.blocked();
    run.later(NAME, `the job holds no working session, and a dry run does not log in, so the libraries were not compared${blocked ? `; a real run would not log in either: ${blocked}` : ""}`);
    return;
  }
  const token = await login.token(
    `Jellyfin refuses the administrator ${q(config.user)} with the password from sops (changed in the web UI, or the wizard was done by hand with another). Put that user's password in sops`,
  );
  await wireLibraries(run, jellyfinClient(url, token), config, options);
}

/**
 * The administrator's session. The job keeps the token of its one login and uses it while Jellyfin
 * takes it. A new login is tried only with a password not refused before, and never once
 * MAX_REFUSALS logins failed since the last good one: Jellyfin's lockout counts every failure.
 */
class Login {
  private readonly sha256: string;
  constructor(
    private readonly anonymous: AppClient,
    private readonly user: string,
    private readonly password: string,
    private readonly stateDir: string,
  ) {
    this.sha256 = fingerprint(user, password);
  }

  /** The kept session's token while Jellyfin still takes it (`GET /Users/Me`, 401 once it is gone). */
  async keptToken(): Promise<string | undefined> {
    const { token } = readJellyfinState(this.stateDir);
    if (!token) return undefined;
    const check = await jellyfinClient(this.anonymous.baseUrl, token).call("GET", "/Users/Me", { accept: (s) => s === 200 || s === 401 });
    return check.status === 200 ? token : undefined;
  }

  /** Clears the refusals and keeps the session, if any (it is checked before each use). */
  forgetRefusals(): void {
    const { token } = readJellyfinState(this.stateDir);
    writeJellyfinState(this.stateDir, token ? { token } : {});
  }

  /**
   * Why the job will not log in now, if it will not: this password was refused (or left unanswered)
   * before, or two logins failed since the last good one. Each message says how to go on; a good login
   * in the web UI comes first, because only a good login resets Jellyfin's count of failures.
   */
  blocked(): string | undefined {
    const refused = readJellyfinState(this.stateDir).refused ?? [];
    const retry = `sign in once in Jellyfin's web UI as ${q(this.user)} with the password from sops (only a good login resets Jellyfin's count of failures), then remove ${stateFile(this.stateDir)} (just wire-retry-login)`;
    const before = refused.find((r) => r.sha256 === this.sha256);
    if (before?.why === "disabled") return `Jellyfin answered the job's login as ${q(this.user)} at ${before.at} that the account is disabled. An administrator can enable it in Dashboard > Users > ${this.user} > Profile; then ${retry}`;
    if (before?.why === "no answer") return `Jellyfin did not answer the job's login as ${q(this.user)} with this password from sops at ${before.at}, and may have counted it as a failure, so the job does not send it again; ${retry}`;
    if (before) return `Jellyfin refused the administrator ${q(this.user)} with this password from sops at ${before.at}; the job does not try a refused password again, since Jellyfin disables an account after three failed logins. Put the right one in sops, or ${retry}`;
    if (refused.length >= MAX_REFUSALS) return `${refused.length} logins as ${q(this.user)} failed since the job's last good one; a third could disable the account (Jellyfin's lockout), so the job does not try the new password. To go on, ${retry}`;
    return undefined;
  }

  /** One login, if the record allows it; `refusedMessage` says what a refusal means where it happens. */
  async token(refusedMessage: string): Promise<string> {
    // Two runs at once (one by hand, one by the timer) would both read the refusals before either writes one.
    const lock = acquireLock(join(this.stateDir, "login.lock"));
    if ("heldBy" in lock) throw new WireError(`another wire run (pid ${lock.heldBy}) is logging in to Jellyfin; this one leaves it to that run`);
    try {
      return await this.loginOnce(refusedMessage);
    } finally {
      lock.release();
    }
  }

  private async loginOnce(refusedMessage: string): Promise<string> {
    // Another run may have logged in while this one waited for the lock: its session is as good.
    const kept = await this.keptToken();
    if (kept) return kept;
    const blocked = this.blocked();
    if (blocked) throw new WireError(blocked);
    const refused = readJellyfinState(this.stateDir).refused ?? [];
    const record = (why: Refusal["why"]) => writeJellyfinState(this.stateDir, { refused: [...refused, { user: this.user, sha256: this.sha256, at: new Date().toISOString(), why }] });
    const body: AuthenticateUserByName = { Username: this.user, Pw: this.password };
    let auth: Awaited<ReturnType<AppClient["call"]>> & { body: AuthenticationResult };
    try {
      auth = await this.anonymous.call<AuthenticationResult>("POST", "/Users/AuthenticateByName", { json: body, accept: (s) => (s >= 200 && s < 300) || s === 401 || s === 403 });
    } catch (error) {
      // No answer, or an unexpected one: Jellyfin may have counted a failure already. Count it too.
      record("no answer");
      throw new WireError(`${(error as Error).message}; counted as a failed login, so as not to risk Jellyfin's lockout, and not sent again`);
    }
    if (auth.status === 403) {
      // UserManager.AuthenticateUser: a disabled account is refused before its password is checked.
      record("disabled");
      throw new WireError(`Jellyfin answers the login as ${q(this.user)} with 403 Forbidden: the account is disabled (after failed logins, or by hand). An administrator can enable it in Dashboard > Users > ${this.user} > Profile; then sign in once with the password from sops and run just wire-retry-login`);
    }
    if (auth.status === 401 || !auth.body.AccessToken) {
      record("refused");
      throw new WireError(`${refusedMessage}; the job does not try this password again (if it is the right one, sign in once in Jellyfin's web UI with it, then just wire-retry-login)`);
    }
    writeJellyfinState(this.stateDir, { token: auth.body.AccessToken });
    return auth.body.AccessToken;
  }
}

async function wireLibraries(run: WireRun, client: AppClient, config: WireConfigModel["jellyfin"], options: JellyfinOptions): Promise<void> {
  const existing = await client.get<VirtualFolderInfo[]>("/Library/VirtualFolders");
  // Each change asks Jellyfin to scan (refreshLibrary), so new folders show without waiting for the nightly scan.
  for (const library of config.libraries) {
    // Jellyfin keeps "tv shows" and "TV Shows" apart; a second library over the same folder would show everything twice.
    const current = existing.find((f) => f.Name === library.name) ?? existing.find((f) => (f.Name ?? "").toLowerCase() === library.name.toLowerCase());
    if (current && current.Name !== library.name) run.warn(NAME, `library ${q(current.Name ?? "")} is the spec's ${q(library.name)} in another case; the job uses it under its own name`);
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
      await run.change(NAME, `add ${q(path)} to library ${q(current.Name ?? library.name)}`, async () => {
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
