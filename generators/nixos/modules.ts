/**
 * The NixOS modules in out/nixos, one per concern as the seed names them. Each uses the option
 * names its upstream module declares (see shared/field-notes.md for the sources).
 */
import { generatedHeader, type GenerateContext, type GeneratedFile } from "../context.ts";
import { unitsModel, RUNTIME_CONFIG_PATH, SOPS_TEMPLATE_NAME } from "../model/units.ts";
import { call, commented, expr, interpolate, mkForce, renderNixModule, nixAttrName, type NixValue } from "../render/nix.ts";
import { nixService, nixTimer } from "./units.ts";

const MODULE_ARGS = ["config", "lib", "pkgs"] as const;

function module(ctx: GenerateContext, name: string, what: string, body: NixValue, letBindings?: Record<string, NixValue>): GeneratedFile {
  return {
    path: `nixos/${name}.nix`,
    contents: renderNixModule({ header: generatedHeader(ctx, what), args: MODULE_ARGS, let: letBindings, body }),
  };
}

/** Runs a service as the shared user with a group-writable umask, so hard links work across services. */
function sharedUser(ctx: GenerateContext, options: { forceUmask?: boolean; dropDynamicUser?: boolean } = {}): Record<string, NixValue> {
  const { user } = ctx.spec;
  return {
    ...(options.dropDynamicUser
      ? {
          DynamicUser: commented("The upstream module runs Prowlarr with DynamicUser; the pipeline runs every service as the shared user.", mkForce(false)),
          User: user.name,
          Group: user.group,
        }
      : {}),
    UMask: options.forceUmask
      ? commented("The upstream module sets UMask=0077; the shared group must be able to read and link what it writes.", mkForce(user.umask))
      : commented("Group-writable files, so the other media services can hard-link and delete them.", user.umask),
  };
}

function defaultModule(ctx: GenerateContext): GeneratedFile {
  const { spec } = ctx;
  const mountPoint = spec.b2.mountPoint;
  const onMount = new Set(spec.directories.filter((d) => spec.filesystems[d.filesystem]?.kind === "rclone-mount").map((d) => d.path));
  const tmpfiles: Record<string, NixValue> = {};
  for (const dir of spec.directories) {
    if (dir.path === mountPoint) tmpfiles[dir.path] = { d: { user: "root", group: "root", mode: dir.mode } };
    else if (!onMount.has(dir.path)) tmpfiles[dir.path] = { d: { user: spec.user.name, group: spec.user.group, mode: dir.mode } };
  }
  return module(ctx, "default", `The ${spec.host.name} media pipeline: the shared user, the directories, the runtime config, and every module.`, {
    imports: ["qbittorrent", "rclone-b2", "jellyfin", "copyparty", "secrets", "sonarr", "radarr", "prowlarr", "web"].map((m) => expr(`./${m}.nix`)),
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
            description: `The sops-encrypted file holding the B2 credentials (keys ${spec.secrets.b2AccountId.sopsKey} and ${spec.secrets.b2ApplicationKey.sopsKey}).`,
          }),
        },
      },
    },
    config: {
      users: {
        users: { [spec.user.name]: { isSystemUser: true, group: spec.user.group, description: "Shared account of the media services" } },
        groups: { [spec.user.group]: {} },
      },
      systemd: {
        tmpfiles: {
          settings: {
            "media-pipeline": commented(
              "Downloads and the library share one filesystem so imports are hard links; the B2 mount point is created empty for rclone.",
              tmpfiles,
            ),
          },
        },
      },
      environment: {
        etc: { [RUNTIME_CONFIG_PATH.replace(/^\/etc\//, "")]: { source: expr("../runtime/config.json") } },
      },
    },
  });
}

function qbittorrentModule(ctx: GenerateContext): GeneratedFile {
  const { spec } = ctx;
  const q = spec.qbittorrent;
  const units = unitsModel(spec);
  const jobs = ["qbt-upload-b2", "qbt-categories", "qbt-cleanup"];
  return module(ctx, "qbittorrent", "qBittorrent: downloads, plus the upload, categories and cleanup jobs that the runtime performs.", {
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
        qbittorrent: { serviceConfig: sharedUser(ctx) },
        ...Object.fromEntries(units.services.filter((u) => jobs.includes(u.name)).map((u) => [u.name, commented(u.why, nixService(u))])),
      },
      timers: Object.fromEntries(units.timers.map((t) => [t.name, nixTimer(t)])),
    },
  });
}

function rcloneModule(ctx: GenerateContext): GeneratedFile {
  const { spec } = ctx;
  const mount = unitsModel(spec).services.find((u) => u.name === "rclone-b2-mount")!;
  return module(ctx, "rclone-b2", `The FUSE mount of ${spec.b2.remote}:${spec.b2.bucket} at ${spec.b2.mountPoint}, with its VFS cache and RC API.`, {
    programs: { fuse: { userAllowOther: commented("--allow-other needs it: Jellyfin and Copyparty read the root-owned mount.", true) } },
    environment: { systemPackages: [expr("pkgs.rclone")] },
    networking: { firewall: { allowedTCPPorts: commented("The RC API and web GUI.", [spec.endpoints.rcloneRc.port]) } },
    systemd: { services: { [mount.name]: commented(mount.why, nixService(mount)) } },
  });
}

function secretsModule(ctx: GenerateContext): GeneratedFile {
  const { spec } = ctx;
  const env = `RCLONE_CONFIG_${spec.b2.remote.toUpperCase()}`;
  const placeholder = (key: string) => expr(`config.sops.placeholder.${nixAttrName(key)}`);
  const secret = { sopsFile: expr("config.services.media-pipeline.sopsFile") };
  return module(
    ctx,
    "secrets",
    "B2 credentials from sops-nix (age). Only references are here; the values are decrypted at activation, never stored in /nix/store.",
    {
      sops: {
        age: { keyFile: spec.secrets.ageKeyFile },
        secrets: { [spec.secrets.b2AccountId.sopsKey]: secret, [spec.secrets.b2ApplicationKey.sopsKey]: secret },
        templates: {
          [SOPS_TEMPLATE_NAME]: commented(
            `rclone reads the ${spec.b2.remote} remote from these environment variables; the mount and the runtime jobs use it as EnvironmentFile.`,
            {
              content: interpolate(
                `${env}_TYPE=b2\n${env}_ACCOUNT=`,
                placeholder(spec.secrets.b2AccountId.sopsKey),
                `\n${env}_KEY=`,
                placeholder(spec.secrets.b2ApplicationKey.sopsKey),
                "\n",
              ),
              owner: "root",
              group: spec.user.group,
              mode: "0440",
              restartUnits: ["rclone-b2-mount.service"],
            },
          ),
        },
      },
    },
  );
}

function mediaServiceModules(ctx: GenerateContext): GeneratedFile[] {
  const { spec } = ctx;
  const user = { user: spec.user.name, group: spec.user.group };
  const afterMount = { after: ["rclone-b2-mount.service"], wants: ["rclone-b2-mount.service"] };
  const arr = (name: "sonarr" | "radarr", what: string) =>
    module(ctx, name, what, {
      services: { [name]: { enable: true, ...user, openFirewall: true, settings: { server: { port: spec.endpoints[name].port } } } },
      systemd: { services: { [name]: { serviceConfig: sharedUser(ctx) } } },
    });
  const copyparty = spec.endpoints.copyparty;
  const libraryRoots = spec.upload.sources.filter((s) => s.kind === "library").map((s) => s.path);
  return [
    module(ctx, "jellyfin", "Jellyfin streams the local library and falls back to the B2 mount after cleanup.", {
      services: { jellyfin: { enable: true, ...user, openFirewall: true } },
      systemd: { services: { jellyfin: { ...afterMount, serviceConfig: sharedUser(ctx, { forceUmask: true }) } } },
    }),
    module(ctx, "copyparty", "Copyparty: file browser and WebDAV over the library and the B2 mount (module from copyparty's own flake).", {
      services: {
        copyparty: {
          enable: true,
          ...user,
          settings: { i: commented("Listen on every interface, as the dashboard links to the native port.", "0.0.0.0"), p: [copyparty.port] },
          volumes: Object.fromEntries([
            ["/b2", { path: spec.b2.mountPoint, access: { r: "*" } }],
            ...libraryRoots.map((root) => [`/${root.split("/").filter(Boolean).slice(-1)[0]}`, { path: root, access: { r: "*" } }]),
          ]),
        },
      },
      networking: { firewall: { allowedTCPPorts: [copyparty.port] } },
      systemd: { services: { copyparty: { ...afterMount, serviceConfig: sharedUser(ctx) } } },
    }),
    arr("sonarr", "Sonarr: finds TV episodes, sends them to qBittorrent, hard-links finished ones into the library."),
    arr("radarr", "Radarr: finds movies, sends them to qBittorrent, hard-links finished ones into the library."),
    module(ctx, "prowlarr", "Prowlarr: indexer manager, syncs indexers to Sonarr and Radarr.", {
      services: { prowlarr: { enable: true, openFirewall: true, settings: { server: { port: spec.endpoints.prowlarr.port } } } },
      systemd: { services: { prowlarr: { serviceConfig: sharedUser(ctx, { dropDynamicUser: true }) } } },
    }),
  ];
}

export function generateNixos(ctx: GenerateContext, webModule: GeneratedFile): GeneratedFile[] {
  return [defaultModule(ctx), qbittorrentModule(ctx), rcloneModule(ctx), secretsModule(ctx), ...mediaServiceModules(ctx), webModule];
}
