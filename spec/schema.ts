/**
 * The shape of a media-pipeline spec, as zod schemas with the TypeScript types inferred from them.
 * Field-level syntax (paths, sizes, durations) is checked here; rules that relate several fields
 * (ports, filesystems, prefixes) live in rules.ts so that every problem is reported at once.
 */
import { z } from "zod";
import { B2_CAPABILITIES, checkAbsolutePath, checkArchiveType, checkDuration, checkPrefix, checkSeedingPeriod, checkSize, checkVersion, REMOVED_CLEANUP_FIELDS, REMOVED_SECRETS_FIELDS, REMOVED_STANDALONE_FIELDS, REMOVED_UPLOAD_FIELDS, removedFields } from "./syntax.ts";

/** The NixOS releases the generated modules are checked against (flake.nix pins the first). */
export const SUPPORTED_NIXOS_RELEASES = ["26.05"] as const;

function syntax(check: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = check(value);
    if (message) ctx.addIssue({ code: "custom", message });
  });
}

export const AbsolutePath = syntax(checkAbsolutePath).describe("An absolute, normalised path: /media/arr/tv");
export const Size = syntax(checkSize).describe("An rclone size: 150G");
export const Duration = syntax(checkDuration).describe("A duration: 30s, 2m, 1h, 7d");
export const RemotePrefix = syntax(checkPrefix).describe("A folder in the bucket ending in '/': tv/");
export const Version = syntax(checkVersion);

const Name = z.string().regex(/^[a-z_][a-z0-9_-]*$/, {
  error: "write a lower-case name of letters, digits, '_' or '-', starting with a letter",
});
const Text = z.string().min(1, { error: "write a short sentence; it appears in the generated docs" });

export const Port = z
  .number({ error: "write the port as a number, such as 8080" })
  .int({ error: "a port is a whole number" })
  .min(1, { error: "a port is between 1 and 65535" })
  .max(65535, { error: "a port is between 1 and 65535" });

/** A dashboard path: one lower-case segment between slashes, `/sonarr/`. */
export const DashboardPath = z.string().regex(/^\/[a-z0-9][a-z0-9_-]*\/$/, {
  error: "write the dashboard path as one lower-case segment between slashes, such as /sonarr/",
});

/** A port a service listens on, and where the dashboard links to it. */
export const Endpoint = z.strictObject({
  /** Shown in the dashboard and the docs: `qBittorrent WebUI`. */
  name: Text,
  purpose: Text,
  port: Port,
  /** Path on the dashboard host that redirects to this port; absent for non-HTTP ports. */
  path: DashboardPath.optional(),
});

export const Filesystem = z.strictObject({
  /** `local` holds real files and hard links; `rclone-mount` is the FUSE view of a remote. */
  kind: z.enum(["local", "rclone-mount"]),
  /** The block device, for a local filesystem: `/dev/sda1`. */
  device: z.string().optional(),
  description: Text,
});

export const Directory = z.strictObject({
  path: AbsolutePath,
  purpose: Text,
  /** Name of an entry in `filesystems`. */
  filesystem: z.string(),
  /** Octal mode for systemd-tmpfiles; directories on a mount are not created by tmpfiles. */
  mode: z.string().regex(/^0[0-7]{3}$/, { error: "write the mode as four octal digits, such as 0775" }).default("0775"),
});

export const RcloneFlag = z.strictObject({
  flag: z.string().regex(/^--[a-z][a-z0-9-]*$/, { error: "write the flag with two dashes, such as --buffer-size" }),
  /** `true` for a switch, a string or number for a flag that takes a value. */
  value: z.union([z.boolean(), z.string(), z.number()]),
  /** Why we set it; the docs print it beside the default. */
  reason: Text,
});

export const SecretRef = z.strictObject({
  /** Key inside the sops file, `/`-separated for nesting: `b2/account_id`. */
  sopsKey: z.string().regex(/^[A-Za-z0-9_]+(\/[A-Za-z0-9_]+)*$/, {
    error: "write the sops key as names separated by '/', such as b2/account_id; the spec holds references, never secret values",
  }),
});

/** One B2 application key: its two halves in sops, and the capabilities it was created with. */
export const B2Key = z.strictObject({
  keyId: SecretRef,
  applicationKey: SecretRef,
  /** What the key may do, as B2 names it (`b2 key create … listFiles,readFiles`); checked against the role in rules.ts. */
  capabilities: z.array(z.enum(B2_CAPABILITIES, { error: (issue) => `${JSON.stringify(issue.input)} is not a B2 capability; B2 names them ${B2_CAPABILITIES.join(", ")}` })).min(1),
});

/** A copyparty volume: a declared folder, and who may read it (`*` means anyone, without an account). */
export const CopypartyVolume = z.strictObject({
  path: AbsolutePath,
  read: z.array(z.string()).min(1, { error: "name at least one account that may read this volume (\"*\" for anonymous access, which must be written out)" }),
});

/** An app's login: a user name, and the password's sops key. */
export const Login = z.strictObject({ user: Name, password: SecretRef });

/** Sonarr or Radarr: its API key, its login and the root folders it imports into. */
export const DownloadingApp = z.strictObject({
  /** Given to the app as <APP>__AUTH__APIKEY; generate 32 hex characters (openssl rand -hex 16). */
  apiKey: SecretRef,
  login: Login,
  /** Where it hard-links finished downloads with clean names; each is a library upload source. */
  rootFolders: z.array(AbsolutePath).min(1),
});

export const Timer = z.strictObject({
  /** First run this long after boot (`OnBootSec`). */
  afterBoot: Duration,
  /** Then again this long after the previous run started (`OnUnitActiveSec`). */
  every: Duration,
});

export const UploadSource = z.strictObject({
  path: AbsolutePath,
  /** Folder in the bucket that receives this source. */
  prefix: RemotePrefix,
  /**
   * `library`: Sonarr/Radarr's clean names, one item per top-level folder.
   * `uncategorized`: torrent names in the completed folder, skipping the category folders.
   */
  kind: z.enum(["library", "uncategorized"]),
});

export const Spec = z.strictObject({
  host: z.strictObject({
    /** The machine's host name; the justfile and the docs use it. */
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, { error: "write a host name of lower-case letters, digits and '-'" }),
    /**
     * The NixOS release the modules are written against: which upstream definitions they override
     * (test/nixos-model/upstream.ts) and the release flake.nix pins. Only releases this version of
     * media-pipeline was checked against are accepted.
     */
    nixosRelease: z.enum(SUPPORTED_NIXOS_RELEASES, {
      error: (issue) =>
        `${JSON.stringify(issue.input)} is not a NixOS release these modules are written for; write ${SUPPORTED_NIXOS_RELEASES.map((r) => `"${r}"`).join(" or ")} (25.05 reached end of life on 2025-12-31)`,
    }),
  }),
  /** The one account every media service runs as, so that hard links work between them. */
  user: z.strictObject({
    name: Name,
    group: Name,
    /** Group-writable, so every service can link and delete what another wrote. */
    umask: z.string().regex(/^0[0-7]{3}$/, { error: "write the umask as four octal digits, such as 0002" }),
  }),
  /**
   * The system accounts of the parts that hold a secret. Each reads only its own secrets file, so a
   * compromised media service (all of which run as `user`) cannot read a B2 key.
   */
  accounts: z.strictObject({
    /** Runs the rclone FUSE mount: no capabilities, reads only the mount's read-only key and the RC login. */
    mount: Name,
    /** Runs the upload job: member of `user.group` to read the media, reads only the upload key. */
    upload: Name,
    /** Runs the cleanup job: member of `user.group` to delete local copies, reads only the cleanup key. */
    cleanup: Name,
    /** Runs the wire job: reads the apps' API keys and passwords, touches no file. */
    wire: Name,
    /** Owns the runtime's state (/var/lib/media-pipeline): only the upload and cleanup accounts are in it. */
    stateGroup: Name,
  }),
  /**
   * Whether Sonarr, Radarr, Prowlarr and Jellyfin have their logins yet. Until their first-run setup
   * creates one they let anyone in (Sonarr hands its API key to any visitor), so their ports stay
   * closed to the LAN; set them up through `ssh -L`, then write "created".
   */
  appLogins: z.enum(["not-yet-created", "created"]),
  /**
   * What the wire job sets in the apps, so that no setting is copied from one web UI into another:
   * each app's API key (chosen here, in sops, and given to the app through its environment), its
   * login, Sonarr's and Radarr's root folders and Jellyfin's libraries. Download-client categories
   * come from qbittorrent.categories (usedBy); rules.ts checks that all of it describes one pipeline.
   */
  apps: z.strictObject({
    sonarr: DownloadingApp,
    radarr: DownloadingApp,
    prowlarr: z.strictObject({ apiKey: SecretRef, login: Login }),
    jellyfin: z.strictObject({
      /** The administrator the first-run wizard creates. */
      login: Login,
      /** The wizard's "Allow remote connections to this server": off keeps Jellyfin to the local networks. */
      remoteAccess: z.boolean(),
      /** Library name → its content type and its folders, local library first, then its B2 copy. */
      libraries: z.record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 _-]*$/, { error: "write the library name in letters, digits, spaces, '_' or '-', such as TV Shows" }),
        z.strictObject({ type: z.enum(["tvshows", "movies"]), paths: z.array(AbsolutePath).min(1) }),
      ),
    }),
  }),
  dashboard: z.strictObject({
    port: Port,
    title: Text,
  }),
  endpoints: z.strictObject({
    qbittorrentWebui: Endpoint,
    qbittorrentPeer: Endpoint,
    jellyfin: Endpoint,
    copyparty: Endpoint,
    rcloneRc: Endpoint,
    sonarr: Endpoint,
    radarr: Endpoint,
    prowlarr: Endpoint,
  }),
  filesystems: z.record(Name, Filesystem),
  directories: z.array(Directory).min(1),
  qbittorrent: z.strictObject({
    profileDir: AbsolutePath,
    tempPath: AbsolutePath,
    /** Where uncategorized torrents finish and seed: the completed folder. */
    defaultSavePath: AbsolutePath,
    categories: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, { error: "write the category as letters, digits, '_' or '-'" }), z.strictObject({
      savePath: AbsolutePath,
      /** The *arr that sends torrents with this category. */
      usedBy: z.enum(["sonarr", "radarr"]),
    })),
    /** qBittorrent's "Bypass authentication for clients on localhost". */
    bypassLocalhostAuth: z.boolean(),
  }),
  b2: z.strictObject({
    /** rclone remote name; credentials reach rclone as RCLONE_CONFIG_<REMOTE>_*. */
    remote: z.string().regex(/^[a-z][a-z0-9_]*$/, { error: "write the remote name in lower case, such as b2" }),
    bucket: z.string().regex(/^[a-zA-Z0-9-]{6,50}$/, { error: "a B2 bucket name is 6 to 50 letters, digits or '-'" }),
    mountPoint: AbsolutePath,
    prefixes: z.record(Name, RemotePrefix),
  }),
  rclone: z.strictObject({
    /** The rclone release the host runs; flags newer than it are refused. */
    version: Version,
    mount: z.strictObject({
      flags: z.array(RcloneFlag),
    }),
  }),
  upload: z.strictObject(
    {
    sources: z.array(UploadSource).min(1),
    flags: z.array(RcloneFlag),
    /** Extensions handed to unar, with their dot: `.rar`. Media extensions are refused. */
    archiveTypes: z.array(syntax(checkArchiveType)),
    extractDir: AbsolutePath,
    /** Where what comes out of archives goes in the bucket, apart from every download's own files: `extracted/`. */
    extractedPrefix: RemotePrefix,
    /** An item with a file modified more recently than this is left for a later run. */
    quietPeriod: Duration,
    /** An item that fails the same way this many runs in a row is set aside until its files change or it is retried. */
    attentionAfterFailures: z.number().int().min(1),
    },
    { error: removedFields(REMOVED_UPLOAD_FIELDS) },
  ),
  /** No file is exempt by name from the upload-before-delete rule; the removed `ignorable` is refused, saying so. */
  cleanup: z.strictObject(
    {
      /** Longer than zero: torrents seed at least this long before cleanup removes them. */
      seedingPeriod: syntax(checkSeedingPeriod).describe("A duration longer than zero: 7d"),
      /** A file no torrent lists is deleted only after it stayed unreferenced this long (and in two runs), and only if uploaded. */
      orphanGrace: Duration,
      /** Stop after this many deletions in one run, and say so. */
      maxDeletionsPerRun: z.number().int().min(1),
    },
    { error: removedFields(REMOVED_CLEANUP_FIELDS) },
  ),
  copyparty: z.strictObject({
    /** Accounts that may log in; each password comes from sops. */
    accounts: z.record(Name, z.strictObject({ password: SecretRef })),
    /** URL path (`/tv`) to the folder it serves and who may read it. */
    volumes: z.record(z.string().regex(/^\/[a-z0-9][a-z0-9_-]*$/, { error: "write the volume as one lower-case segment after a slash, such as /tv" }), CopypartyVolume),
  }),
  timers: z.strictObject({
    upload: Timer,
    cleanup: Timer,
    /** The wire job runs at boot once the apps are up, then this often, to add what was not ready (a B2 folder before its first upload) and undo drift. */
    wire: Timer,
    /** Units the categories job waits for at boot. */
    categoriesAfter: z.array(z.string().regex(/^[A-Za-z0-9@._-]+\.(service|target)$/, { error: "name a unit, such as qbittorrent.service" })),
  }),
  secrets: z.strictObject(
    {
      provider: z.literal("sops-nix"),
      /** The sops-encrypted file, relative to the host's flake. */
      sopsFile: z.string().regex(/^\.\/[A-Za-z0-9._/-]+$/, { error: "write the sops file relative to the host flake, such as ./secrets/b2.yaml" }),
      /** The host's age private key, which sops-nix uses to decrypt at activation. */
      ageKeyFile: AbsolutePath,
      /** One key per role: the mount reads, upload writes and lists but cannot delete, cleanup lists. */
      b2Keys: z.strictObject({ mount: B2Key, upload: B2Key, cleanup: B2Key }),
      /** The rclone RC's login: the RC asks for it on every method, nginx asks for it on the dashboard's RC path. */
      rcloneRc: z.strictObject({ user: Name, password: SecretRef }),
    },
    { error: removedFields(REMOVED_SECRETS_FIELDS) },
  ),
  /** Paths used by the standalone (non-NixOS) renderings in out/systemd and out/nginx. */
  standalone: z.strictObject(
    {
      /** Where node, rclone and unar are installed: `/usr/bin`. */
      binDir: AbsolutePath,
      runtimeDir: AbsolutePath,
      wwwRoot: AbsolutePath,
      /** Where each role's secrets file lies (`rclone-b2-upload.env`, …), each readable by its own account only. */
      secretsDir: AbsolutePath,
    },
    { error: removedFields(REMOVED_STANDALONE_FIELDS) },
  ),
});

/** A spec as written, before defaults are filled in. */
export type SpecInput = z.input<typeof Spec>;
/** A validated spec. */
export type SpecModel = z.output<typeof Spec>;
export type EndpointModel = z.output<typeof Endpoint>;
export type RcloneFlagModel = z.output<typeof RcloneFlag>;
export type B2KeyModel = z.output<typeof B2Key>;
export type KeyRole = keyof SpecModel["secrets"]["b2Keys"];

/** Identity function that gives a spec file its type checking and editor completion. */
export function defineSpec(spec: SpecInput): SpecInput {
  return spec;
}
