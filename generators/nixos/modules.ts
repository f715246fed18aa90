/**
 * The NixOS modules in out/nixos, one per concern as the seed names them, listed once in
 * `NIXOS_MODULES`: that record drives default.nix's imports, the files and the docs table.
 *
 * Each module sets only options its upstream module declares, and overrides (lib.mkForce) only
 * what upstream sets differently, with a comment naming the upstream value. The upstream facts
 * the generators rely on are in `UPSTREAM_SETS` below; test/nixos-model checks them, and our
 * modules, against a source-cited model of NixOS's own modules.
 */
import { generatedHeader, type GenerateContext, type GeneratedFile } from "../context.ts";
import type { SpecModel } from "../../spec/schema.ts";
import { unitsModel, serviceOf, JOB_UNITS, UNITS, RUNTIME_CONFIG_PATH, SECRET_FILES, LOCK_DIR, STATE_DIR, STATE_DIR_MODE, type SecretFile } from "../model/units.ts";
import { NGINX_ACCOUNT, secretReaders, secretRefs, secretsFileContent } from "../secrets.ts";
import { call, commented, expr, interpolate, mkForce, renderNixModule, nixAttrName, type NixValue } from "../render/nix.ts";
import { nixService, nixTimer } from "./units.ts";
import { webNixosConfig } from "../web.ts";

const MODULE_ARGS = ["config", "lib", "pkgs"] as const;

/** A service whose upstream module we configure to run as the shared user. */
export type SharedService = "qbittorrent" | "jellyfin" | "copyparty" | "sonarr" | "radarr";

/**
 * What each upstream module sets in its unit that the pipeline must change, read at the source
 * named (the model in test/nixos-model/upstream.ts holds the same facts with commits, and a test
 * keeps the two in agreement). Where upstream sets nothing, a plain definition is enough.
 */
export const UPSTREAM_SETS: Readonly<Record<SharedService, { readonly umask?: string; readonly source: string }>> = {
  qbittorrent: { source: "nixpkgs nixos/modules/services/torrent/qbittorrent.nix (sets no UMask)" },
  jellyfin: { umask: "0077", source: "nixpkgs nixos/modules/services/misc/jellyfin.nix" },
  copyparty: { umask: "0077", source: "copyparty's contrib/nixos/modules/copyparty.nix" },
  sonarr: { umask: "0022", source: "nixpkgs nixos/modules/services/misc/servarr/sonarr.nix (since PR 483483, NixOS 26.05)" },
  radarr: { umask: "0022", source: "nixpkgs nixos/modules/services/misc/servarr/radarr.nix (since PR 483483, NixOS 26.05)" },
};

/** The shared group-writable umask, forced where the upstream module sets its own. */
function sharedUmask(ctx: GenerateContext, service: SharedService): NixValue {
  const { umask } = ctx.spec.user;
  const upstream = UPSTREAM_SETS[service].umask;
  return upstream === undefined
    ? commented("Group-writable files, so the other media services can hard-link and delete them.", umask)
    : commented(
        `The ${service} module sets UMask=${upstream}; the shared group must be able to read, link and delete what it writes.`,
        mkForce(umask),
      );
}

function defaultConfig(ctx: GenerateContext): NixValue {
  const { spec } = ctx;
  const mountPoint = spec.b2.mountPoint;
  const onMount = new Set(spec.directories.filter((d) => spec.filesystems[d.filesystem]?.kind === "rclone-mount").map((d) => d.path));
  const tmpfiles: Record<string, NixValue> = {};
  for (const dir of spec.directories) {
    // fusermount3 mounts only on a folder the mounting account may write: the mount's own.
    if (dir.path === mountPoint) tmpfiles[dir.path] = { d: { user: spec.accounts.mount, group: spec.accounts.mount, mode: dir.mode } };
    else if (!onMount.has(dir.path)) tmpfiles[dir.path] = { d: { user: spec.user.name, group: spec.user.group, mode: dir.mode } };
  }
  const stateDirs: Record<string, NixValue> = {};
  for (const path of [STATE_DIR, LOCK_DIR]) stateDirs[path] = { d: { user: "root", group: spec.accounts.stateGroup, mode: STATE_DIR_MODE } };
  const { accounts } = spec;
  return {
    imports: NIXOS_MODULES.filter((m) => m.name !== "default").map((m) => expr(`./${m.name}.nix`)),
    options: {
      services: {
        "media-pipeline": {
          package: call("lib.mkOption", {
            type: expr("lib.types.package"),
            description: "The media-pipeline runtime (the flake's packages.<system>.runtime), run by the upload, cleanup and categories jobs.",
          }),
          sopsFile: call("lib.mkOption", {
            type: expr("lib.types.path"),
            example: call("lib.literalExpression", spec.secrets.sopsFile),
            description: `The sops-encrypted file holding the B2 keys and the logins (keys ${secretRefs(spec).map((r) => r.sopsKey).join(", ")}).`,
          }),
        },
      },
    },
    config: {
      users: {
        users: {
          [spec.user.name]: { isSystemUser: true, group: spec.user.group, description: "Shared account of the media services" },
          [accounts.mount]: { isSystemUser: true, group: accounts.mount, description: "Runs the rclone mount of B2; reads only the mount's read-only key" },
          [accounts.upload]: { isSystemUser: true, group: spec.user.group, extraGroups: [accounts.stateGroup], description: "Runs the upload job; reads only the upload key" },
          [accounts.cleanup]: { isSystemUser: true, group: spec.user.group, extraGroups: [accounts.stateGroup], description: "Runs the cleanup job; reads only the cleanup key" },
          [accounts.wire]: { isSystemUser: true, group: accounts.wire, description: "Runs the wire job; reads only the apps' API keys and logins, touches no file" },
        },
        groups: { [spec.user.group]: {}, [accounts.mount]: {}, [accounts.stateGroup]: {}, [accounts.wire]: {} },
      },
      systemd: {
        tmpfiles: {
          settings: {
            "media-pipeline": commented(
              "Downloads and the library share one filesystem so imports are hard links; the B2 mount point is created empty for rclone.\n" +
                `The runtime's state and locks belong to the ${accounts.stateGroup} group (upload and cleanup only), setgid so new files keep the group.`,
              { ...tmpfiles, ...stateDirs },
            ),
          },
        },
      },
      environment: {
        etc: { [RUNTIME_CONFIG_PATH.replace(/^\/etc\//, "")]: { source: expr("../runtime/config.json") } },
      },
    },
  };
}

function qbittorrentConfig(ctx: GenerateContext): NixValue {
  const { spec } = ctx;
  const q = spec.qbittorrent;
  const units = unitsModel(spec);
  return {
    services: {
      qbittorrent: {
        enable: true,
        user: spec.user.name,
        group: spec.user.group,
        profileDir: q.profileDir,
        webuiPort: spec.endpoints.qbittorrentWebui.port,
        torrentingPort: spec.endpoints.qbittorrentPeer.port,
        openFirewall: true,
        serverConfig: {
          LegalNotice: { Accepted: true },
          BitTorrent: {
            Session: {
              TempPathEnabled: true,
              TempPath: q.tempPath,
              DefaultSavePath: q.defaultSavePath,
              DisableAutoTMMByDefault: commented(
                "Automatic torrent management: torrents added with a category (as Sonarr and Radarr add them) land in the category's save path.",
                false,
              ),
            },
          },
          Preferences: {
            WebUI: {
              LocalHostAuth: commented(
                q.bypassLocalhostAuth ? "Sonarr, Radarr and the runtime reach the WebUI from localhost without a password." : "Every client, local ones included, must log in.",
                !q.bypassLocalhostAuth,
              ),
            },
          },
        },
      },
    },
    systemd: {
      services: {
        qbittorrent: { serviceConfig: { UMask: sharedUmask(ctx, "qbittorrent") } },
        ...Object.fromEntries(units.services.filter((u) => JOB_UNITS.includes(u.unit)).map((u) => [u.unit.name, commented(u.why, nixService(u))])),
      },
      timers: Object.fromEntries(units.timers.filter((t) => JOB_UNITS.includes(t.unit)).map((t) => [t.unit.name, nixTimer(t)])),
    },
  };
}

/** The wire job and its dry run, oneshots started by the timer or by hand, and the timer. */
function wireConfig(ctx: GenerateContext): NixValue {
  const units = unitsModel(ctx.spec);
  const wire = serviceOf(units, UNITS.wire);
  const plan = serviceOf(units, UNITS.wirePlan);
  const timer = units.timers.find((t) => t.unit === UNITS.wire)!;
  return {
    systemd: {
      services: { [wire.unit.name]: commented(wire.why, nixService(wire)), [plan.unit.name]: commented(plan.why, nixService(plan)) },
      timers: { [timer.unit.name]: nixTimer(timer) },
    },
  };
}

function rcloneConfig(ctx: GenerateContext): NixValue {
  const { spec } = ctx;
  const mount = serviceOf(unitsModel(spec), UNITS.mount);
  return {
    programs: {
      fuse: {
        enable: commented("On by default in 26.05; nixpkgs PR 528369 turns it off by default after it, and without it /etc/fuse.conf is not written.", true),
        userAllowOther: commented(`--allow-other needs it: Jellyfin and Copyparty read the mount, which belongs to ${spec.accounts.mount}.`, true),
      },
    },
    environment: { systemPackages: [expr("pkgs.rclone")] },
    // No firewall port: the RC listens on 127.0.0.1 only; the dashboard reaches it through nginx.
    systemd: {
      services: {
        [mount.unit.name]: commented(mount.why, {
          ...(nixService(mount) as Record<string, NixValue>),
          path: commented("rclone mounts through fusermount3, the setuid wrapper NixOS installs in /run/wrappers/bin.", ["/run/wrappers"]),
        }),
      },
    },
  };
}

function secretsConfig(ctx: GenerateContext): NixValue {
  const { spec } = ctx;
  const placeholder = (key: string) => expr(`config.sops.placeholder.${nixAttrName(key)}`);
  const copypartyUser = spec.user.name;
  const secrets: Record<string, NixValue> = {};
  for (const ref of secretRefs(spec)) {
    secrets[ref.sopsKey] = ref.copyparty
      ? commented("Read by copyparty itself, which runs as the shared media account.", { sopsFile: expr("config.services.media-pipeline.sopsFile"), owner: copypartyUser, mode: "0400", restartUnits: ["copyparty.service"] })
      : { sopsFile: expr("config.services.media-pipeline.sopsFile") };
  }
  const readers = secretReaders(spec);
  const templates: Record<string, NixValue> = {};
  for (const file of Object.keys(SECRET_FILES) as SecretFile[]) {
    const r = readers[file];
    templates[SECRET_FILES[file]] = commented(r.why, {
      content: interpolate(...secretsFileContent(spec, file).map((part) => (typeof part === "string" ? part : placeholder(part.sopsKey)))),
      owner: r.account === NGINX_ACCOUNT ? expr("config.services.nginx.user") : r.account,
      mode: "0400",
      ...(r.restart ? { restartUnits: [r.restart] } : {}),
      ...(r.reload ? { reloadUnits: [r.reload] } : {}),
    });
  }
  return {
    sops: {
      age: { keyFile: spec.secrets.ageKeyFile },
      secrets,
      templates: commented("One file per reader, each readable by its owner alone (0400): no unit can read another's key.", templates),
    },
  };
}

/** Jellyfin answers client discovery broadcasts here (jellyfin's network docs; nixpkgs' jellyfin.nix opens it with openFirewall). */
export const JELLYFIN_DISCOVERY_PORT = 7359;

const AFTER_MOUNT = { after: [UNITS.mount.service], wants: [UNITS.mount.service] };

function jellyfinConfig(ctx: GenerateContext): NixValue {
  const { spec } = ctx;
  return {
    services: {
      jellyfin: {
        enable: true,
        user: spec.user.name,
        group: spec.user.group,
        openFirewall: commented(spec.appLogins === "created" ? "The module would also open 8920 (HTTPS, not configured here) and UDP 1900 (DLNA); only what is used is opened below." : 'Closed until spec appLogins = "created": its first-run wizard is open to anyone until the wire job has done it. The module would also open 8920 and UDP 1900, which are not used.', false),
      },
    },
    ...(spec.appLogins === "created"
      ? {
          networking: {
            firewall: {
              allowedTCPPorts: [spec.endpoints.jellyfin.port],
              allowedUDPPorts: commented("Client discovery: Jellyfin apps on the LAN find the server (it answers with its name and address only).", [JELLYFIN_DISCOVERY_PORT]),
            },
          },
        }
      : {}),
    systemd: { services: { jellyfin: { ...AFTER_MOUNT, serviceConfig: { UMask: sharedUmask(ctx, "jellyfin") } } } },
  };
}

/** copyparty's module defaults `settings` to these; defining `settings` replaces the default, so they are restated. */
const COPYPARTY_DEFAULT_SETTINGS = { "no-reload": true, hist: "/var/cache/copyparty" } as const;

function copypartyConfig(ctx: GenerateContext): NixValue {
  const { spec } = ctx;
  return {
    services: {
      copyparty: {
        enable: true,
        user: spec.user.name,
        group: spec.user.group,
        settings: {
          i: commented("Listen on every interface, as the dashboard links to the native port; every volume asks for an account.", "0.0.0.0"),
          p: [spec.endpoints.copyparty.port],
          "no-reload": COPYPARTY_DEFAULT_SETTINGS["no-reload"],
          hist: commented(
            "copyparty's own defaults, restated because setting `settings` replaces them: without `hist` its index would be written inside each volume, the B2 mount included.",
            COPYPARTY_DEFAULT_SETTINGS.hist,
          ),
        },
        accounts: Object.fromEntries(
          Object.entries(spec.copyparty.accounts).map(([name, a]) => [name, { passwordFile: expr(`config.sops.secrets.${nixAttrName(a.password.sopsKey)}.path`) }]),
        ),
        volumes: Object.fromEntries(
          Object.entries(spec.copyparty.volumes).map(([url, v]) => [
            url,
            { path: v.path, access: { r: v.read.includes("*") ? commented("Anonymous: the spec says so for this volume.", "*") : [...v.read] } },
          ]),
        ),
      },
    },
    networking: { firewall: { allowedTCPPorts: [spec.endpoints.copyparty.port] } },
    systemd: {
      services: { copyparty: { ...AFTER_MOUNT, serviceConfig: { UMask: sharedUmask(ctx, "copyparty") } } },
      tmpfiles: {
        settings: {
          copyparty: commented(
            "copyparty's module writes its own rule (755, its user) for each volume path, and systemd-tmpfiles keeps the\nfirst rule it reads for a path: copyparty.conf sorts before media-pipeline.conf, so its rules would replace\ndefault.nix's (0775). The spec declares every volume path as a directory, so default.nix has a rule for each.",
            mkForce({}),
          ),
        },
      },
    },
  };
}

/**
 * Sonarr, Radarr and Prowlarr ask for their login from every address: "DisabledForLocalAddresses"
 * counts the whole LAN as local. Forms from the first start: with no user yet nobody can log in, and
 * the API asks for the key from sops; the wire job then creates the user (Sonarr ConfigFileProvider.cs:
 * the environment's Auth:Method wins over config.xml).
 */
const ARR_AUTH: NixValue = {
  method: commented("A login page from the first start; the wire job creates the user (apps.<app>.login).", "Forms"),
  required: commented("Every client logs in, LAN included (the apps' other choice, DisabledForLocalAddresses, trusts every private address).", "Enabled"),
};

/** The app's API key reaches it from a sops template, as <APP>__AUTH__APIKEY. */
const apiKeyFile = (app: "sonarr" | "radarr" | "prowlarr"): NixValue =>
  commented("Its API key, chosen in sops (apps." + app + ".apiKey), so the wire job and Prowlarr know it without a web UI.", [expr(`config.sops.templates.${nixAttrName(SECRET_FILES[app])}.path`)]);

/** Open to the LAN only once the wire job has made the logins (spec.appLogins): Jellyfin's wizard is open to anyone before. */
function appFirewall(spec: SpecModel): NixValue {
  return spec.appLogins === "created"
    ? true
    : commented('Closed until spec appLogins = "created": the wire job creates the login at its first run (journalctl -u media-pipeline-wire).', false);
}

function arrConfig(ctx: GenerateContext, name: "sonarr" | "radarr"): NixValue {
  const { spec } = ctx;
  return {
    services: {
      [name]: { enable: true, user: spec.user.name, group: spec.user.group, openFirewall: appFirewall(spec), environmentFiles: apiKeyFile(name), settings: { server: { port: spec.endpoints[name].port }, auth: ARR_AUTH } },
    },
    systemd: { services: { [name]: { serviceConfig: { UMask: sharedUmask(ctx, name) } } } },
  };
}

function prowlarrConfig(ctx: GenerateContext): NixValue {
  // Prowlarr keeps its upstream sandbox (DynamicUser): it manages indexers and never touches media files.
  return {
    services: {
      prowlarr: { enable: true, openFirewall: appFirewall(ctx.spec), environmentFiles: apiKeyFile("prowlarr"), settings: { server: { port: ctx.spec.endpoints.prowlarr.port }, auth: ARR_AUTH } },
    },
  };
}

/** One generated NixOS module: its file name, what the docs say of it, and its configuration. */
export interface NixosModuleEntry {
  readonly name: string;
  /** One line for the docs' table of modules. */
  readonly doc: string;
  /** The comment under the generated-file header. */
  readonly header: (spec: SpecModel) => string;
  readonly config: (ctx: GenerateContext) => NixValue;
}

/** Every module in out/nixos, in the order default.nix imports them (default.nix first). */
export const NIXOS_MODULES: readonly NixosModuleEntry[] = [
  {
    name: "default",
    doc: "imports the others; the shared user and group, the directories (systemd-tmpfiles), the runtime config",
    header: (spec) => `The ${spec.host.name} media pipeline: the shared user, the directories, the runtime config, and every module.`,
    config: defaultConfig,
  },
  {
    name: "qbittorrent",
    doc: "qBittorrent, and the upload, categories and cleanup jobs with their timers",
    header: () => "qBittorrent: downloads, plus the upload, categories and cleanup jobs that the runtime performs.",
    config: qbittorrentConfig,
  },
  {
    name: "rclone-b2",
    doc: "the FUSE mount of B2 with its VFS flags and RC API",
    header: (spec) => `The FUSE mount of ${spec.b2.remote}:${spec.b2.bucket} at ${spec.b2.mountPoint}, with its VFS cache and RC API.`,
    config: rcloneConfig,
  },
  {
    name: "jellyfin",
    doc: "media server",
    header: () => "Jellyfin streams the local library and falls back to the B2 mount after cleanup.",
    config: jellyfinConfig,
  },
  {
    name: "copyparty",
    doc: "file browser / WebDAV (module from copyparty's flake)",
    header: () => "Copyparty: file browser and WebDAV over the library and the B2 mount (module from copyparty's own flake).",
    config: copypartyConfig,
  },
  {
    name: "secrets",
    doc: "B2 credentials (sops-nix, age)",
    header: () => "B2 credentials from sops-nix (age). Only references are here; the values are decrypted at activation, never stored in /nix/store.",
    config: secretsConfig,
  },
  {
    name: "sonarr",
    doc: "TV series search and download",
    header: () => "Sonarr: finds TV episodes, sends them to qBittorrent, hard-links finished ones into the library.",
    config: (ctx) => arrConfig(ctx, "sonarr"),
  },
  {
    name: "radarr",
    doc: "movie search and download",
    header: () => "Radarr: finds movies, sends them to qBittorrent, hard-links finished ones into the library.",
    config: (ctx) => arrConfig(ctx, "radarr"),
  },
  {
    name: "prowlarr",
    doc: "indexer manager",
    header: () => "Prowlarr: indexer manager, syncs indexers to Sonarr and Radarr.",
    config: prowlarrConfig,
  },
  {
    name: "wire",
    doc: "the wire job: sets up Sonarr, Radarr, Prowlarr and Jellyfin through their APIs, at boot, hourly and on demand",
    header: () => "The wire job: logins, download clients, root folders, Prowlarr's apps and Jellyfin's libraries, set through the apps' APIs from the spec.",
    config: wireConfig,
  },
  {
    name: "web",
    doc: "the nginx dashboard",
    header: (spec) => `The dashboard at http://${spec.host.name}/: a page listing the services, and a redirect per path to each native port.`,
    config: (ctx) => webNixosConfig(ctx.spec),
  },
];

export function generateNixos(ctx: GenerateContext): GeneratedFile[] {
  return NIXOS_MODULES.map((m) => ({
    path: `nixos/${m.name}.nix`,
    contents: renderNixModule({ header: generatedHeader(ctx, m.header(ctx.spec)), args: MODULE_ARGS, body: m.config(ctx) }),
  }));
}
