/**
 * The systemd units of the pipeline as one model, rendered twice: as NixOS `systemd.services` in
 * out/nixos and as unit files in out/systemd. The only difference between the two renderings is
 * how a `Ref` (a program or file whose location depends on the host) is spelled.
 */
import type { SpecModel } from "../../spec/schema.ts";
import { systemdDuration } from "../render/duration.ts";
import { quoteExecArg, quoteUnitWord } from "../render/systemd.ts";
import { WIRE_CREDENTIALS } from "../../runtime/wire/env.ts";

/** A unit's name, and the names of its service and timer, as systemd and NixOS spell them. */
export interface UnitHandle<N extends string = string> {
  /** The attribute name under `systemd.services` / `systemd.timers`, and what `systemctl` accepts. */
  readonly name: N;
  readonly service: `${N}.service`;
  readonly timer: `${N}.timer`;
}
export const unit = <N extends string>(name: N): UnitHandle<N> => ({ name, service: `${name}.service`, timer: `${name}.timer` });

/** The runtime jobs' units share this prefix, so the operator can name them all as `qbt-*`. */
const JOB_PREFIX = "qbt-";
export const JOB_UNITS_GLOB = `${JOB_PREFIX}*`;
const job = <N extends `${typeof JOB_PREFIX}${string}`>(name: N) => unit(name);

/** The units the pipeline defines. Generators name them through these handles, never as strings. */
export const UNITS = {
  upload: job("qbt-upload-b2"),
  cleanup: job("qbt-cleanup"),
  categories: job("qbt-categories"),
  mount: unit("rclone-b2-mount"),
  /** Not a qBittorrent job: it sets up the other apps through their APIs. */
  wire: unit("media-pipeline-wire"),
  /** The same with --dry-run, started by hand (just wire-plan). */
  wirePlan: unit("media-pipeline-wire-plan"),
} as const;

/** The runtime jobs, which out/nixos/qbittorrent.nix defines beside qBittorrent. */
export const JOB_UNITS: readonly UnitHandle[] = [UNITS.upload, UNITS.categories, UNITS.cleanup];

/** Units of other modules that ours are ordered after. */
export const UPSTREAM_UNITS = {
  qbittorrent: unit("qbittorrent"),
  sonarr: unit("sonarr"),
  radarr: unit("radarr"),
  prowlarr: unit("prowlarr"),
  jellyfin: unit("jellyfin"),
} as const;

/** The systemd targets our units wait for or are installed into. */
export const TARGETS = {
  networkOnline: "network-online.target",
  multiUser: "multi-user.target",
  timers: "timers.target",
} as const;

/**
 * What `systemd-analyze security --offline=yes` scores each runtime job's unit file (lower is
 * safer), as the docs report it; test/targets/systemd.test.ts measures each again.
 */
export const SECURITY_EXPOSURE: Readonly<Record<string, string>> = {
  [UNITS.categories.service]: "1.1",
  [UNITS.cleanup.service]: "1.5",
  [UNITS.upload.service]: "1.5",
  [UNITS.mount.service]: "7.0",
  [UNITS.wire.service]: "1.1",
  [UNITS.wirePlan.service]: "1.1",
};

/**
 * The secrets files: one per reader, each readable by that reader's account alone (sops-nix
 * templates in /run/secrets/rendered on NixOS, spec.standalone.secretsDir elsewhere).
 */
export const SECRET_FILES = {
  /** The mount's read-only B2 key, and the RC login the RC asks for. */
  mount: "rclone-b2-mount.env",
  upload: "rclone-b2-upload.env",
  cleanup: "rclone-b2-cleanup.env",
  /** nginx's copy of the RC login, as an htpasswd file. */
  nginx: "rclone-rc.htpasswd",
  /** root's copy of the RC login, as a netrc file for curl (the just recipes). */
  operator: "rclone-rc.netrc",
  /** Each *arr's API key, as the app reads it from its environment (<APP>__AUTH__APIKEY). */
  sonarr: "sonarr.env",
  radarr: "radarr.env",
  prowlarr: "prowlarr.env",
} as const;

/**
 * What the wire job reads as systemd credentials (LoadCredential=, read by systemd as root from each
 * sops secret's own file): the raw bytes, with no environment-file parsing to alter a password.
 * The runtime reads the same names (runtime/wire/env.ts).
 */
export function wireCredentials(spec: SpecModel): [name: string, sopsKey: string][] {
  const { apps } = spec;
  return [
    ...(["sonarr", "radarr", "prowlarr"] as const).flatMap((app): [string, string][] => [
      [WIRE_CREDENTIALS[`${app}ApiKey`], apps[app].apiKey.sopsKey],
      [WIRE_CREDENTIALS[`${app}Password`], apps[app].login.password.sopsKey],
    ]),
    [WIRE_CREDENTIALS.jellyfinPassword, apps.jellyfin.login.password.sopsKey],
  ];
}
export type SecretFile = keyof typeof SECRET_FILES;

/** Something whose path differs between a NixOS host and a standalone one. */
export type RefName = "node" | "rclone" | "unar" | "runtime" | "mountSecrets" | "uploadSecrets" | "cleanupSecrets";
/** A host-dependent path, or the file of one sops secret (a sops-nix secret on NixOS, a file in secretsDir elsewhere). */
export type Ref = { readonly ref: RefName } | { readonly ref: "secret"; readonly sopsKey: string };
/** Text with references in it: `{ template: [{ ref: "node" }, " upload"] }`. */
export interface Template {
  readonly template: readonly (string | Ref)[];
}
export type ModelScalar = string | number | boolean | Template;
export type ModelValue = ModelScalar | readonly ModelScalar[];

export interface ServiceModel {
  readonly unit: UnitHandle;
  readonly description: string;
  /** [Unit] dependencies. */
  readonly after: readonly string[];
  readonly wants: readonly string[];
  /** [Install] WantedBy; empty for units started by a timer. */
  readonly wantedBy: readonly string[];
  readonly serviceConfig: Readonly<Record<string, ModelValue>>;
  /** A comment for reviewers: why the unit exists. */
  readonly why: string;
}

/** The timer of `unit`, which starts `unit.service`. */
export interface TimerModel {
  readonly unit: UnitHandle;
  readonly description: string;
  readonly timerConfig: Readonly<Record<string, string>>;
  /** [Install] WantedBy. */
  readonly wantedBy: readonly string[];
  /** A comment for reviewers: what the timer starts. */
  readonly why: string;
}

export interface UnitsModel {
  readonly services: readonly ServiceModel[];
  readonly timers: readonly TimerModel[];
}

/** How long the wire job waits for each app to answer at boot (the runtime config's wire.waitSeconds). */
export const WIRE_WAIT_SECONDS = 300;
/** The wire job's own state (its Jellyfin session): /var/lib/media-pipeline-wire, the unit's StateDirectory, 0700. */
export const WIRE_STATE_DIRECTORY = "media-pipeline-wire";

/** Where the generated runtime config is installed on the host, by both renderings. */
export const RUNTIME_CONFIG_PATH = "/etc/media-pipeline/config.json";
/**
 * The runtime's lock files live here. Upload and cleanup run as different accounts, so the folder is
 * not a systemd RuntimeDirectory (which systemd would chown to one of them at each start): tmpfiles
 * creates it, owned by root and the state group, setgid, so both write and nobody else does.
 */
export const RUNTIME_DIRECTORY = "media-pipeline";
/** Upload records, cleanup's sightings and the attention list: /var/lib/media-pipeline, kept across reboots (made as RUNTIME_DIRECTORY is). */
export const STATE_DIRECTORY = "media-pipeline";
export const LOCK_DIR = `/run/${RUNTIME_DIRECTORY}`;
export const STATE_DIR = `/var/lib/${STATE_DIRECTORY}`;
/** The mode of both: the state group reads and writes, new files inherit the group (setgid). */
export const STATE_DIR_MODE = "2770";
export const RCLONE_CACHE_DIRECTORY = "rclone-b2";
/** Where the runtime bundle lies inside its installation (the Nix package, or spec.standalone.runtimeDir). */
export const RUNTIME_BUNDLE_PATH = "lib/media-pipeline.mjs";

/** The qBittorrent category an *arr's download client sets: the one the spec says it uses (rules.ts: exactly one). */
export function categoryUsedBy(spec: SpecModel, app: "sonarr" | "radarr"): string {
  const found = Object.entries(spec.qbittorrent.categories).find(([, c]) => c.usedBy === app);
  if (!found) throw new Error(`spec: no category used by ${app}; spec/rules.ts should have refused it`);
  return found[0];
}

/** The bucket as rclone names it: `remote:bucket`. */
export const b2RemotePath = (spec: SpecModel): string => `${spec.b2.remote}:${spec.b2.bucket}`;

const ref = (name: RefName): Ref => ({ ref: name });
const secretRef = (sopsKey: string): Ref => ({ ref: "secret", sopsKey });
const template = (parts: readonly (string | Ref)[]): Template => ({ template: joinLiterals(parts) });

/** An Exec line: each argument quoted for systemd; references are plain paths and never need quotes. */
export function execLine(args: readonly (string | Ref)[]): Template {
  const parts: (string | Ref)[] = [];
  args.forEach((arg, i) => {
    if (i > 0) parts.push(" ");
    parts.push(typeof arg === "string" ? quoteExecArg(arg) : arg);
  });
  return template(parts);
}

/** Adjacent literal parts are merged, so unit files and Nix stay readable. */
function joinLiterals<T>(parts: readonly (string | T)[]): (string | T)[] {
  const out: (string | T)[] = [];
  for (const part of parts) {
    const last = out[out.length - 1];
    if (typeof part === "string" && typeof last === "string") out[out.length - 1] = last + part;
    else out.push(part);
  }
  return out;
}

export function flagArgs(flags: SpecModel["upload"]["flags"]): string[] {
  return flags.map(({ flag, value }) => (value === true ? flag : `${flag}=${String(value)}`));
}

/** Hardening shared by the runtime jobs; each line keeps `systemd-analyze security` low. */
function hardening(spec: SpecModel, options: { user: string; group?: string; stateGroup?: boolean; writes: readonly string[]; network: "any" | "localhost" }): Record<string, ModelValue> {
  return {
    User: options.user,
    Group: options.group ?? spec.user.group,
    ...(options.stateGroup ? { SupplementaryGroups: spec.accounts.stateGroup } : {}),
    // A job that writes no file shares nothing with the media group.
    UMask: options.writes.length > 0 || options.stateGroup ? spec.user.umask : "0077",
    NoNewPrivileges: true,
    PrivateTmp: true,
    PrivateDevices: true,
    // A private user namespace maps only the unit's own user and group: the state group, a supplementary
    // group, would be unmapped, and systemd's setgroups() in that namespace is not something to rely on.
    ...(options.stateGroup ? {} : { PrivateUsers: true }),
    ProtectSystem: "strict",
    ...(options.writes.length > 0 ? { ReadWritePaths: options.writes.map(quoteUnitWord) } : {}),
    ProtectHome: true,
    ProtectProc: "invisible",
    ProcSubset: "pid",
    ProtectClock: true,
    ProtectHostname: true,
    ProtectKernelLogs: true,
    ProtectKernelModules: true,
    ProtectKernelTunables: true,
    ProtectControlGroups: true,
    RestrictAddressFamilies: ["AF_INET", "AF_INET6", "AF_UNIX"],
    ...(options.network === "localhost" ? { IPAddressAllow: "localhost", IPAddressDeny: "any" } : {}),
    RestrictNamespaces: true,
    RestrictRealtime: true,
    RestrictSUIDSGID: true,
    LockPersonality: true,
    RemoveIPC: true,
    DevicePolicy: "closed",
    KeyringMode: "private",
    CapabilityBoundingSet: "",
    SystemCallArchitectures: "native",
    SystemCallFilter: ["@system-service", "~@privileged @resources"],
  };
}

function runtimeJob(command: "upload" | "cleanup" | "categories" | "wire", ...flags: string[]): Template {
  return execLine([ref("node"), ref("runtime"), command, "--config", RUNTIME_CONFIG_PATH, ...flags]);
}

const toolEnvironment: ModelValue = [template(["MEDIA_PIPELINE_RCLONE=", ref("rclone")]), template(["MEDIA_PIPELINE_UNAR=", ref("unar")])];

/** The RC address: loopback only; the dashboard reaches it through nginx. */
export function rcListen(spec: SpecModel): { address: string; port: number; baseUrl: string } {
  const path = spec.endpoints.rcloneRc.path;
  return { address: "127.0.0.1", port: spec.endpoints.rcloneRc.port, baseUrl: path ? path.replace(/\/$/, "") : "" };
}
export const hasRc = (spec: SpecModel): boolean => spec.rclone.mount.flags.some((f) => f.flag === "--rc");

export function unitsModel(spec: SpecModel): UnitsModel {
  const mount = spec.b2.mountPoint;
  const remote = b2RemotePath(spec);
  const scanRoots = spec.upload.sources.map((s) => s.path);

  /** A job the timers start: runs the runtime with the B2 credentials, writing only `writes`. */
  const timerJob = (job: { unit: UnitHandle; description: string; why: string; command: "upload" | "cleanup"; after: string[]; writes: string[] }): ServiceModel => ({
    unit: job.unit,
    description: job.description,
    why: job.why,
    after: job.after,
    wants: [TARGETS.networkOnline],
    wantedBy: [],
    serviceConfig: {
      Type: "oneshot",
      ExecStart: runtimeJob(job.command),
      EnvironmentFile: template([ref(job.command === "upload" ? "uploadSecrets" : "cleanupSecrets")]),
      Environment: toolEnvironment,
      ...hardening(spec, { user: spec.accounts[job.command], stateGroup: true, writes: [...new Set([...job.writes, LOCK_DIR, STATE_DIR])].sort(), network: "any" }),
    },
  });
  const upload = timerJob({
    unit: UNITS.upload,
    description: "Upload new media to B2",
    why: `Scans ${scanRoots.join(", ")}, extracts archives, uploads to ${remote} and records each confirmed file in ${STATE_DIR}.`,
    command: "upload",
    // qBittorrent lists the due torrents whose extras go up; upload carries on without it.
    after: [TARGETS.networkOnline, UPSTREAM_UNITS.qbittorrent.service],
    // Archives are extracted into the extraction folder; upload writes nothing in the scan roots.
    writes: [spec.upload.extractDir],
  });
  const cleanup = timerJob({
    unit: UNITS.cleanup,
    description: "Remove torrents and local copies after the seeding period",
    why: `Removes torrents seeded longer than ${spec.cleanup.seedingPeriod} whose files are confirmed on B2, with their library hard links.`,
    command: "cleanup",
    after: [TARGETS.networkOnline, UPSTREAM_UNITS.qbittorrent.service],
    writes: [...scanRoots, spec.qbittorrent.defaultSavePath],
  });
  const categories: ServiceModel = {
    unit: UNITS.categories,
    description: "Create qBittorrent's download categories",
    why: `Creates ${Object.keys(spec.qbittorrent.categories).join(", ")} with their save paths through the WebUI API, once at boot.`,
    after: [...spec.timers.categoriesAfter],
    wants: [...spec.timers.categoriesAfter],
    wantedBy: [TARGETS.multiUser],
    serviceConfig: {
      Type: "oneshot",
      RemainAfterExit: true,
      ExecStart: runtimeJob("categories"),
      ...hardening(spec, { user: spec.user.name, writes: [], network: "localhost" }),
    },
  };
  const apps = [UPSTREAM_UNITS.sonarr, UPSTREAM_UNITS.radarr, UPSTREAM_UNITS.prowlarr, UPSTREAM_UNITS.jellyfin].map((u) => u.service);
  const wireService = (handle: UnitHandle, dryRun: boolean): ServiceModel => ({
    unit: handle,
    description: dryRun ? "List what the wire job would change in the apps (dry run)" : "Set up Sonarr, Radarr, Prowlarr and Jellyfin as the spec declares",
    why: dryRun
      ? `${UNITS.wire.service} with --dry-run, started by hand (just wire-plan): lists each change it would make and changes no setting (it logs in to Sonarr, Radarr and Prowlarr to check the logins, never to Jellyfin).`
      : `Sets each app's login, the qBittorrent download client, the root folders, Prowlarr's apps and Jellyfin's wizard and libraries through their APIs; changes only what differs from the spec. Started by its timer (${systemdDuration(spec.timers.wire.afterBoot)} after boot, at once after the deploy that adds it, then every ${systemdDuration(spec.timers.wire.every)}) and on demand (just wire-now).`,
    // Ordered after the apps, without pulling them in: an app stopped on purpose stays stopped, and is reported.
    // The B2 paths of Jellyfin's libraries exist only once the mount is up; Sonarr and Radarr test their
    // connection to qBittorrent before they add it as a download client.
    after: [...apps, UPSTREAM_UNITS.qbittorrent.service, UNITS.mount.service],
    wants: [],
    wantedBy: [],
    serviceConfig: {
      Type: "oneshot",
      ExecStart: runtimeJob("wire", ...(dryRun ? ["--dry-run"] : [])),
      // Bounded: each of the four apps is waited for at most WIRE_WAIT_SECONDS, each request 30 s.
      TimeoutStartSec: `${Math.ceil((4 * WIRE_WAIT_SECONDS + 600) / 60)}min`,
      LoadCredential: wireCredentials(spec).map(([name, key]) => template([`${name}:`, secretRef(key)])),
      // One account and one folder for both units (the dry run only reads it).
      StateDirectory: WIRE_STATE_DIRECTORY,
      StateDirectoryMode: "0700",
      // It only talks to the apps on this host, and writes no file.
      ...hardening(spec, { user: spec.accounts.wire, group: spec.accounts.wire, writes: [], network: "localhost" }),
    },
  });
  const wire = wireService(UNITS.wire, false);
  const wirePlan = wireService(UNITS.wirePlan, true);
  const rc = rcListen(spec);
  const mountFlags = [
    ...flagArgs(spec.rclone.mount.flags),
    // The RC login reaches rclone as RCLONE_RC_USER / RCLONE_RC_PASS from the mount's secrets file, never on the command line.
    ...(hasRc(spec) ? [`--rc-addr=${rc.address}:${rc.port}`, ...(rc.baseUrl ? [`--rc-baseurl=${rc.baseUrl}`] : [])] : []),
    `--cache-dir=/var/cache/${RCLONE_CACHE_DIRECTORY}`,
  ];
  const rcloneMount: ServiceModel = {
    unit: UNITS.mount,
    description: `Mount ${remote} at ${mount}`,
    why: `FUSE mount of the bucket; Jellyfin and Copyparty fall back to it once local copies are cleaned up.`,
    after: [TARGETS.networkOnline],
    wants: [TARGETS.networkOnline],
    wantedBy: [TARGETS.multiUser],
    serviceConfig: {
      Type: "notify",
      ExecStart: execLine([ref("rclone"), "mount", remote, mount, ...mountFlags]),
      EnvironmentFile: template([ref("mountSecrets")]),
      CacheDirectory: RCLONE_CACHE_DIRECTORY,
      // The cache holds plain copies of what was read from the bucket: the mount's account alone reads it.
      CacheDirectoryMode: "0700",
      Restart: "on-failure",
      RestartSec: "10s",
      ...mountHardening(spec),
    },
  };
  const timer = (of: UnitHandle, t: SpecModel["timers"]["upload"], description: string): TimerModel => ({
    unit: of,
    description,
    timerConfig: { OnBootSec: systemdDuration(t.afterBoot), OnUnitActiveSec: systemdDuration(t.every) },
    wantedBy: [TARGETS.timers],
    why: `Starts ${of.service}`,
  });
  return {
    services: [upload, categories, cleanup, rcloneMount, wire, wirePlan],
    timers: [
      timer(UNITS.upload, spec.timers.upload, `Upload new media to B2 every ${systemdDuration(spec.timers.upload.every)}`),
      timer(UNITS.cleanup, spec.timers.cleanup, `Clean up seeded torrents every ${systemdDuration(spec.timers.cleanup.every)}`),
      timer(UNITS.wire, spec.timers.wire, `Bring the apps back to the spec every ${systemdDuration(spec.timers.wire.every)}`),
    ],
  };
}

/**
 * What a FUSE mount by an unprivileged account allows. The mount is made by the setuid helper
 * fusermount3, so the unit must not set NoNewPrivileges, and systemd implies NoNewPrivileges=yes for
 * a User= service (one without CAP_SYS_ADMIN) given any seccomp-based setting (SystemCallFilter,
 * RestrictAddressFamilies, LockPersonality, ProtectClock, …; systemd.exec(5), "NoNewPrivileges=").
 * Every setting that gives the unit its own mount namespace (ProtectSystem, PrivateTmp, …) would hide
 * the mount from every other service. What remains: its own account, one ambient capability
 * (CAP_NET_BIND_SERVICE, for the RC's privileged port), CAP_SYS_ADMIN in the bounding set for the
 * setuid helper only, /dev/fuse as its only device.
 * Measured with the real rclone and fusermount3 in test/targets/rclone-rc.test.ts (setpriv --no-new-privs: the mount fails).
 */
function mountHardening(spec: SpecModel): Record<string, ModelValue> {
  return {
    User: spec.accounts.mount,
    Group: spec.accounts.mount,
    // The RC's port is privileged (spec rule), so no other account can take it while the mount is down.
    ...(hasRc(spec) ? { AmbientCapabilities: "CAP_NET_BIND_SERVICE" } : {}),
    CapabilityBoundingSet: hasRc(spec) ? "CAP_SYS_ADMIN CAP_NET_BIND_SERVICE" : "CAP_SYS_ADMIN",
    DevicePolicy: "closed",
    DeviceAllow: "/dev/fuse rw",
    KeyringMode: "private",
    RemoveIPC: true,
    UMask: "0022",
  };
}

/** The service `unit` in the model; a generator asking for one the model lacks is a bug. */
export function serviceOf(model: UnitsModel, handle: UnitHandle): ServiceModel {
  const found = model.services.find((s) => s.unit === handle);
  if (!found) throw new Error(`unit model: no service ${handle.service}`);
  return found;
}

/** Resolves each reference of a template with `resolve`, merging adjacent literal text. */
export function mapTemplate<T>(value: Template, resolve: (ref: Ref) => readonly (string | T)[]): (string | T)[] {
  return joinLiterals(value.template.flatMap((part) => (typeof part === "string" ? [part] : resolve(part))));
}

export function isTemplate(value: unknown): value is Template {
  return typeof value === "object" && value !== null && "template" in value;
}
