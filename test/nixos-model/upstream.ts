/**
 * A MODEL of the upstream NixOS modules our generated modules (out/nixos/*.nix) are merged with:
 * NixOS's own modules (nixpkgs), sops-nix and copyparty's module. Written by this project from
 * the upstream sources; every declaration and definition names the repository, file and commit
 * of the stored copy it was read from, with the line(s) quoted. Short quotes only: no upstream
 * code is copied here.
 *
 * Which copy of nixpkgs. The target is NixOS 26.05 (branch nixos-26.05). The stored copies of
 * NixOS/nixpkgs that could be read are not from that branch: they are single file versions from
 * many commits, the newest from master after the 26.05 branch-off (lib/.version reads "26.11" at
 * 2680ad0cfc17b68f4b56f5a7788c78040563105c). For each file the newest stored version that could
 * be named by commit was used; where a fact is only in a newer version that the store returns
 * without a commit (looked up by content), the source says `unpinned: …` with the store's id
 * instead of a commit. Facts that differ between versions are noted where they matter.
 *
 * Module names: "nixos/…" modules are always part of a NixOS system; "sops-nix" and "copyparty"
 * only where the flake imports them (test/nixos-model/system.ts).
 *
 * Declarations cover every option out/nixos/*.nix defines and every option an upstream
 * definition below reads. An option with nested options is declared once, at its top path, with a
 * submodule/attrsOf type. Sub-option defaults inside submodules are not part of types.ts; where a
 * definition needs one it falls back to the upstream default in code (`?? …`), citing it.
 */
import { createHash } from "node:crypto";
import {
  ATTR_NAME,
  anything,
  attrs,
  attrsOf,
  bool,
  either,
  enumOf,
  int,
  lines,
  listOf,
  nullOr,
  path,
  pkg,
  port,
  PRIORITY,
  str,
  submodule,
  unitOption,
  type ConfigView,
  type Declaration,
  type Definition,
  type NixType,
  type Source,
  type UpstreamModule,
} from "./types.ts";

export const NIXOS_RELEASE = "26.05";

// ---------------------------------------------------------------------------------------------
// Commits of the stored versions read (read_file reported each). One constant per file version.
// ---------------------------------------------------------------------------------------------

const NIXPKGS = "NixOS/nixpkgs";
const C = {
  /** lib/.version = "26.11": the stored nixpkgs copy includes master after the 26.05 branch-off. */
  libVersion: "2680ad0cfc17b68f4b56f5a7788c78040563105c",
  sonarr: "1158234bdec398ed3ffd5e1ac8873afd85ca3902",
  /** radarr.nix and prowlarr.nix, same stored commit. */
  radarrProwlarr: "0a74e020a192e6e91f0011243f747da537be3036",
  servarrSettings: "0b73a0c2114322292ae614235b7c50da19226483",
  qbittorrent: "05f24c7ff0db485da11c04ba070805e2aed69735",
  /** An older qbittorrent.nix: tmpfiles L+ symlink of the config instead of ExecStartPre. */
  qbittorrentOlder: "8c546dadd3d3da5960e23bb86d445ed24fbb05de",
  /** The newest jellyfin.nix stored under a commit (2023); UMask/users/firewall unchanged since. */
  jellyfin: "af74eb5fcad98f607105e049c415cf4dba2ad716",
  tmpfiles: "9ab61b2537be813fd4e097ce04c8b098c5a4bcbf",
  unitOptions: "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
  systemdTypes: "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
  usersGroups: "005ab72f9cf5a75cdcd9ff672fb4a3b03391619f",
  firewall: "0192bb844360b5b42ebaf7f575f84d79910a5927",
  /** etc.nix: this stored version carries an unresolved merge conflict in one unrelated line (name'). */
  etc: "05924f714f31ff83bd10ed1710638688999c3725",
  systemPath: "0354e8b747c8d69802d160ff408d1aece50472c9",
  nixpkgsModule: "026ffb9e7abfb4626926cc252fa69bcba85960ef",
  fuse: "ba5b70b7219883c2140a311466a37018d975ad6b",
  nginx: "000007c122b85672b78037272c41adbbe693a1a4",
  nginxVhost: "0050271eb3b56e41703dc6ab04a11182317dd543",
  nginxLocation: "07d3fe292994c24f5249b2474014a9d0457bda5a",
  /** 9001/copyparty contrib/nixos/modules/copyparty.nix, plain module (no `{ self }:` wrapper). */
  copyparty: "24740f58e8df18da9840718860a95bf8b7b1c18b",
  /** The `{ self }:` variant that also sets nixpkgs.overlays; its flake.nix has u2c/partyfuse in the overlay (July 2025, before PR #296 moved the overlay to overlay.nix). */
  copypartySelfVariant: "05e5201117b831a5fc0d90ce8e3fc12b57fe6ea0",
  /** Mic92/sops-nix, fetched snapshot HEAD (2026-06-22). */
  sopsNix: "56b24064fdcaedca53553b1a6d607fd23b613a24",
  systemdMan: "00c53f4283ca41878a84b370840a84760b00d46e",
  pkgCopyparty: "0368f12311a70d3417053a2e0dcdee001dfe5860",
  pkgQbittorrent: "01ed3b8fb1e4ef1f22967f09abff4b67bb8d0402",
  pkgQbittorrentNox: "60adb7e0858269eb22d2fe9da721acbbc0a06292",
  pkgRclone: "102b00ab9cc1b83b2c17f64e0001748d792e71b0",
  pkgUnar: "1181bb22b6c4ab780f2aed2619e6410f58bd3316",
} as const;

const P = {
  sonarr: "nixos/modules/services/misc/servarr/sonarr.nix",
  radarr: "nixos/modules/services/misc/servarr/radarr.nix",
  prowlarr: "nixos/modules/services/misc/servarr/prowlarr.nix",
  servarrSettings: "nixos/modules/services/misc/servarr/settings-options.nix",
  qbittorrent: "nixos/modules/services/torrent/qbittorrent.nix",
  jellyfin: "nixos/modules/services/misc/jellyfin.nix",
  tmpfiles: "nixos/modules/system/boot/systemd/tmpfiles.nix",
  unitOptions: "nixos/lib/systemd-unit-options.nix",
  systemdTypes: "nixos/lib/systemd-types.nix",
  systemd: "nixos/modules/system/boot/systemd.nix",
  usersGroups: "nixos/modules/config/users-groups.nix",
  firewall: "nixos/modules/services/networking/firewall.nix",
  etc: "nixos/modules/system/etc/etc.nix",
  systemPath: "nixos/modules/config/system-path.nix",
  nixpkgsModule: "nixos/modules/misc/nixpkgs.nix",
  fuse: "nixos/modules/programs/fuse.nix",
  nginx: "nixos/modules/services/web-servers/nginx/default.nix",
  nginxVhost: "nixos/modules/services/web-servers/nginx/vhost-options.nix",
  nginxLocation: "nixos/modules/services/web-servers/nginx/location-options.nix",
  copyparty: "contrib/nixos/modules/copyparty.nix",
  sops: "modules/sops/default.nix",
  sopsTemplates: "modules/sops/templates/default.nix",
} as const;

const nix = (path: string, commit: string, quote: string): Source => ({ repo: NIXPKGS, path, commit, quote });
/** A fact only seen in a stored version the store returns without a commit (looked up by content, by its id). */
const unpinned = (path: string, storeId: string, quote: string): Source => ({ repo: NIXPKGS, path, commit: `unpinned: stored version id ${storeId}, returned without a commit`, quote });
const copypartySrc = (quote: string, commit: string = C.copyparty): Source => ({ repo: "9001/copyparty", path: P.copyparty, commit, quote });
const sopsSrc = (path: string, quote: string): Source => ({ repo: "Mic92/sops-nix", path, commit: C.sopsNix, quote });

const storeFile = (path: string) => `/nix/store/…-source/${path}`;
/** A store path as test/nixos-model/definitions.nix spells outside values. */
const store = (name: string) => `/nix/store/00000000000000000000000000000000-${name}`;

// Readers for the configuration view.
const isAttrs = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const asStr = (v: unknown, fallback: string): string => (typeof v === "string" ? v : fallback);
const asBool = (v: unknown, fallback: boolean): boolean => (typeof v === "boolean" ? v : fallback);
const asAttrs = (v: unknown): Record<string, unknown> => (isAttrs(v) ? v : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const pathString = (v: unknown, fallback: string): string => (typeof v === "string" ? v : isAttrs(v) && typeof v.path === "string" ? v.path : fallback);

const declare = (option: string, type: NixType, source: Source, defaultValue?: unknown): Declaration =>
  defaultValue === undefined ? { option, type, source } : { option, type, default: defaultValue, source };
const define = (option: string, value: unknown, source: Source, priority: number = PRIORITY.plain): Definition =>
  priority === PRIORITY.plain ? { option, value, source } : { option, value, priority, source };
/** One definition per serviceConfig key, so each can be compared with ours (`…serviceConfig.UMask`). */
const serviceConfig = (unit: string, keys: Record<string, unknown>, source: Source): Definition[] =>
  Object.entries(keys).map(([key, value]) => define(`systemd.services.${unit}.serviceConfig.${key}`, value, source));

// ---------------------------------------------------------------------------------------------
// nixos/systemd: systemd.services / systemd.timers, and the systemd option type (unitOption)
// nixos/lib/systemd-unit-options.nix @ 01f31c2e, nixos/lib/systemd-types.nix @ 01f31c2e
// ---------------------------------------------------------------------------------------------
//
// unitOption (systemd-unit-options.nix): after filterOverrides, if the first definition is a list
// all definitions are concatenated (the version read throws on a list/non-list mix); otherwise
// mergeEqualOption: equal values merge, different values are "conflicting definition values".
// Newer versions (stored id 15671968442, no commit) use `if any (def: isList def.value) defs'
// then concatMap (def: toList def.value) defs'`: a single string next to a list is wrapped.
// merge.ts implements the newer rule. serviceConfig is `types.addCheck (types.attrsOf unitOption)
// checkService` (checkService only checks Type and Restart values).

/** The merge of a systemd unit option (serviceConfig.*, timerConfig.*, unitConfig.*): types.ts's `unitOption`. */
export const UNIT_OPTION_MERGE_SOURCE = nix(P.unitOptions, C.unitOptions, "unitOption = mkOptionType { name = \"systemd option\"; merge = loc: defs: let defs' = filterOverrides defs; in if isList (head defs').value then concatMap (…) defs' else mergeEqualOption loc defs'; }");

/** The options of a stage-2 service that out/nixos or the upstream modules define. */
const serviceSubmodule = submodule({
  enable: bool,
  description: str, // types.singleLineStr
  documentation: listOf(str),
  requires: listOf(str), // listOf unitNameType
  wants: listOf(str),
  after: listOf(str),
  before: listOf(str),
  bindsTo: listOf(str),
  partOf: listOf(str),
  conflicts: listOf(str),
  requisite: listOf(str),
  wantedBy: listOf(str),
  requiredBy: listOf(str),
  aliases: listOf(str),
  onFailure: listOf(str),
  onSuccess: listOf(str),
  unitConfig: attrsOf(unitOption),
  restartTriggers: listOf(anything), // types.listOf types.unspecified
  reloadTriggers: listOf(unitOption),
  environment: attrsOf(nullOr(anything)), // attrsOf (nullOr (oneOf [ str path package ]))
  path: listOf(either(pkg, str)),
  serviceConfig: attrsOf(unitOption),
  script: lines,
  scriptArgs: str,
  preStart: lines,
  postStart: lines,
  reload: lines,
  preStop: lines,
  postStop: lines,
  restartIfChanged: bool,
  reloadIfChanged: bool,
  stopIfChanged: bool,
  startAt: either(str, listOf(str)),
});

const timerSubmodule = submodule({
  enable: bool,
  description: str,
  documentation: listOf(str),
  requires: listOf(str),
  wants: listOf(str),
  after: listOf(str),
  before: listOf(str),
  wantedBy: listOf(str),
  requiredBy: listOf(str),
  unitConfig: attrsOf(unitOption),
  timerConfig: attrsOf(unitOption),
});

const systemdModule: UpstreamModule = {
  name: "nixos/systemd",
  file: storeFile(P.systemd),
  declarations: [
    declare("systemd.services", attrsOf(serviceSubmodule), nix(P.systemdTypes, C.systemdTypes, "services = with types; attrsOf (submodule [ stage2ServiceOptions unitConfig stage2ServiceConfig ]); (serviceConfig: types.addCheck (types.attrsOf unitOption) checkService, in systemd-unit-options.nix)"), {}),
    declare("systemd.timers", attrsOf(timerSubmodule), nix(P.systemdTypes, C.systemdTypes, "timers = with types; attrsOf (submodule [ stage2TimerOptions unitConfig ]); (timerConfig: types.attrsOf unitOption)"), {}),
  ],
  // preStart/script become ExecStartPre = [ jobScripts ] / ExecStart = jobScripts + " " + scriptArgs
  // inside the service submodule (serviceOptions' config), not as module-level definitions.
  definitions: () => [],
};

// ---------------------------------------------------------------------------------------------
// nixos/tmpfiles: nixos/modules/system/boot/systemd/tmpfiles.nix @ 9ab61b25
// ---------------------------------------------------------------------------------------------

const tmpfilesEntry = submodule(
  { type: str, mode: str, user: str, group: str, age: str, argument: str },
  undefined,
  { type: ATTR_NAME, mode: "-", user: "-", group: "-", age: "-", argument: "" },
);

const tmpfilesModule: UpstreamModule = {
  name: "nixos/tmpfiles",
  file: storeFile(P.tmpfiles),
  declarations: [
    declare("systemd.tmpfiles.rules", listOf(str), nix(P.tmpfiles, C.tmpfiles, "systemd.tmpfiles.rules = mkOption { type = types.listOf types.str; default = []; …"), []),
    declare(
      "systemd.tmpfiles.settings",
      attrsOf(attrsOf(attrsOf(tmpfilesEntry))),
      nix(P.tmpfiles, C.tmpfiles, "type = types.attrsOf (types.attrsOf (types.attrsOf (types.submodule ({ name, config, ... }: { options.type = mkOption { type = types.str; default = name; … }; options.mode … default = \"-\"; options.user … \"-\"; options.group … \"-\"; options.age … \"-\"; options.argument … default = \"\";"),
      {},
    ),
  ],
  definitions: (cfg) => [
    define(
      "systemd.tmpfiles.rules",
      [
        "d  /run/lock                          0755 root root - -",
        "d  /var/db                            0755 root root - -",
        "L  /var/lock                          -    -    -    - ../run/lock",
        ...(asBool(cfg("nix.enable"), true)
          ? ["d  /nix/var                           0755 root root - -", "L+ /nix/var/nix/gcroots/booted-system 0755 root root - /run/booted-system"]
          : []),
        "R! /etc/group.lock                    -    -    -    - -",
        "R! /etc/passwd.lock                   -    -    -    - -",
        "R! /etc/shadow.lock                   -    -    -    - -",
        ...(asBool(cfg("nix.enable"), true) ? ["R! /nix/var/nix/gcroots/tmp           -    -    -    - -", "R! /nix/var/nix/temproots             -    -    -    - -"] : []),
      ],
      nix(P.tmpfiles, C.tmpfiles, "systemd.tmpfiles.rules = [ \"d  /run/lock …\" \"d  /var/db …\" \"L  /var/lock …\" ] ++ lib.optionals config.nix.enable [ \"d  /nix/var …\" \"L+ /nix/var/nix/gcroots/booted-system …\" ] ++ [ \"R! /etc/group.lock …\" … ] ++ lib.optionals config.nix.enable [ … ]"),
    ),
  ],
};

// ---------------------------------------------------------------------------------------------
// nixos/users-groups: nixos/modules/config/users-groups.nix @ 005ab72f
// ---------------------------------------------------------------------------------------------

const userSubmodule = submodule({
  enable: bool,
  name: str,
  description: str,
  uid: nullOr(int),
  isSystemUser: bool,
  isNormalUser: bool,
  group: str,
  extraGroups: listOf(str),
  home: path,
  homeMode: str,
  createHome: bool,
  useDefaultShell: bool,
  shell: nullOr(either(pkg, path)),
  hashedPassword: nullOr(str),
  password: nullOr(str),
  hashedPasswordFile: nullOr(str),
  initialHashedPassword: nullOr(str),
  initialPassword: nullOr(str),
  packages: listOf(pkg),
  linger: nullOr(bool),
}, undefined, { name: ATTR_NAME, isSystemUser: false, isNormalUser: false, group: "", description: "" });
const groupSubmodule = submodule({ name: str, gid: nullOr(int), members: listOf(str) }, undefined, { name: ATTR_NAME, gid: null, members: [] });

const usersSrc = (quote: string) => nix(P.usersGroups, C.usersGroups, quote);

const usersModule: UpstreamModule = {
  name: "nixos/users-groups",
  file: storeFile(P.usersGroups),
  declarations: [
    declare("users.users", attrsOf(userSubmodule), usersSrc("users.users = mkOption { default = { }; type = with types; attrsOf (submodule userOpts); … isSystemUser = mkOption { type = types.bool; default = false; … group = mkOption { type = types.str; … default = \"\"; … description = mkOption { type = types.passwdEntry types.str; default = \"\";"), {}),
    declare("users.groups", attrsOf(groupSubmodule), usersSrc("users.groups = mkOption { default = { }; … type = with types; attrsOf (submodule groupOpts); (groupOpts: name, gid = nullOr int default null, members = listOf (passwdEntry str))"), {}),
  ],
  definitions: () => [
    define("users.users.root", { uid: 0, description: "System administrator", home: "/root", group: "root" }, usersSrc("users.users = { root = { uid = ids.uids.root; description = \"System administrator\"; home = \"/root\"; shell = mkDefault cfg.defaultUserShell; group = \"root\"; };")),
    define("users.users.nobody", { uid: 65534, isSystemUser: true, description: "Unprivileged account (don't use!)", group: "nogroup" }, usersSrc("nobody = { uid = ids.uids.nobody; isSystemUser = true; description = \"Unprivileged account (don't use!)\"; group = \"nogroup\"; };")),
    define("users.groups.root", { gid: 0 }, usersSrc("users.groups = { root.gid = ids.gids.root; …")),
    define("users.groups.nogroup", { gid: 65534 }, usersSrc("nogroup.gid = ids.gids.nogroup;")),
    define("users.groups.users", { gid: 100 }, usersSrc("users.gid = ids.gids.users;")),
  ],
};

// ---------------------------------------------------------------------------------------------
// nixos/firewall: nixos/modules/services/networking/firewall.nix @ 0192bb84
// ---------------------------------------------------------------------------------------------
// allowedTCPPorts/allowedUDPPorts: listOf port, concatenated, then `apply = canonicalizePortList`
// (lib.unique (sort lessThan ports)): duplicates from several modules are harmless.

const firewallSrc = (quote: string) => nix(P.firewall, C.firewall, quote);

const firewallModule: UpstreamModule = {
  name: "nixos/firewall",
  file: storeFile(P.firewall),
  declarations: [
    declare("networking.firewall.enable", bool, firewallSrc("enable = lib.mkOption { type = lib.types.bool; default = true;"), true),
    declare("networking.firewall.allowedTCPPorts", listOf(port), firewallSrc("allowedTCPPorts = lib.mkOption { type = lib.types.listOf lib.types.port; default = [ ]; apply = canonicalizePortList;"), []),
    declare("networking.firewall.allowedUDPPorts", listOf(port), firewallSrc("allowedUDPPorts = lib.mkOption { type = lib.types.listOf lib.types.port; default = [ ]; apply = canonicalizePortList;"), []),
    declare("networking.firewall.allowedTCPPortRanges", listOf(attrsOf(port)), firewallSrc("allowedTCPPortRanges = lib.mkOption { type = lib.types.listOf (lib.types.attrsOf lib.types.port); default = [ ];"), []),
    declare("networking.firewall.allowedUDPPortRanges", listOf(attrsOf(port)), firewallSrc("allowedUDPPortRanges = lib.mkOption { type = lib.types.listOf (lib.types.attrsOf lib.types.port); default = [ ];"), []),
    declare("networking.firewall.trustedInterfaces", listOf(str), firewallSrc("trustedInterfaces = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ];"), []),
  ],
  definitions: (cfg) =>
    asBool(cfg("networking.firewall.enable"), true)
      ? [define("networking.firewall.trustedInterfaces", ["lo"], firewallSrc("config = lib.mkIf cfg.enable { … networking.firewall.trustedInterfaces = [ \"lo\" ];"))]
      : [],
};

// ---------------------------------------------------------------------------------------------
// nixos/etc: nixos/modules/system/etc/etc.nix @ 05924f71 (see the note on C.etc)
// ---------------------------------------------------------------------------------------------

const etcModule: UpstreamModule = {
  name: "nixos/etc",
  file: storeFile(P.etc),
  declarations: [
    declare(
      "environment.etc",
      attrsOf(submodule({ enable: bool, target: str, text: nullOr(lines), source: path, mode: str, uid: int, gid: int, user: str, group: str })),
      nix(P.etc, C.etc, "environment.etc = mkOption { default = {}; … type = with types; attrsOf (submodule ({ name, config, options, ... }: { options = { enable … target = mkOption { type = types.str; … text = mkOption { default = null; type = types.nullOr types.lines; … source = mkOption { type = types.path; … mode = mkOption { type = types.str; default = \"symlink\"; … user = mkOption { default = \"+${toString config.uid}\"; type = types.str;"),
      {},
    ),
  ],
  // `source = mkIf (config.text != null) (mkDerivedConfig options.text (pkgs.writeText name'))`
  // is set inside the submodule: an entry with `text` gets its source from it.
  definitions: () => [],
};

// ---------------------------------------------------------------------------------------------
// nixos/system-path: nixos/modules/config/system-path.nix @ 0354e8b7
// nixos/nixpkgs: nixos/modules/misc/nixpkgs.nix @ 026ffb9e
// ---------------------------------------------------------------------------------------------

const systemPathModule: UpstreamModule = {
  name: "nixos/system-path",
  file: storeFile(P.systemPath),
  declarations: [
    declare("environment.systemPackages", listOf(pkg), nix(P.systemPath, C.systemPath, "systemPackages = lib.mkOption { type = lib.types.listOf lib.types.package; default = [ ];"), []),
  ],
  // It also defines environment.systemPackages = corePackages ++ defaultPackages (a list: concatenates with ours).
  definitions: () => [],
};

const nixpkgsModule: UpstreamModule = {
  name: "nixos/nixpkgs",
  file: storeFile(P.nixpkgsModule),
  declarations: [
    // overlayType is a function type (`isFunction`, merged by concatenation in a list); types.ts has no
    // function type, so the element is `anything`.
    declare("nixpkgs.overlays", listOf(anything), nix(P.nixpkgsModule, C.nixpkgsModule, "overlays = lib.mkOption { default = [ ]; … type = lib.types.listOf overlayType;"), []),
  ],
  definitions: () => [],
};

// ---------------------------------------------------------------------------------------------
// nixos/fuse: nixos/modules/programs/fuse.nix @ ba5b70b7
// ---------------------------------------------------------------------------------------------
// This version has `enable` with default true and everything under `mkIf cfg.enable`. nixpkgs PR
// 528369 "nixos/fuse: disable by default" (merged, opened 2026-06-05, after the 26.05 branch-off)
// makes the default false on master/26.11: there, userAllowOther alone writes no /etc/fuse.conf
// and installs no fusermount3 wrapper unless programs.fuse.enable = true.

const fuseSrc = (quote: string) => nix(P.fuse, C.fuse, quote);

const fuseModule: UpstreamModule = {
  name: "nixos/fuse",
  file: storeFile(P.fuse),
  declarations: [
    declare("programs.fuse.enable", bool, fuseSrc("enable = lib.mkEnableOption \"fuse\" // { default = true; };"), true),
    declare("programs.fuse.mountMax", int, fuseSrc("mountMax = lib.mkOption { type = lib.types.ints.between 0 32767; default = 1000;"), 1000),
    declare("programs.fuse.userAllowOther", bool, fuseSrc("userAllowOther = lib.mkOption { type = lib.types.bool; default = false;"), false),
  ],
  definitions: (cfg) => {
    if (!asBool(cfg("programs.fuse.enable"), true)) return [];
    const allow = asBool(cfg("programs.fuse.userAllowOther"), false);
    const mountMax = typeof cfg("programs.fuse.mountMax") === "number" ? (cfg("programs.fuse.mountMax") as number) : 1000;
    return [
      define("environment.systemPackages", [store("fuse"), store("fuse3")], fuseSrc("environment.systemPackages = [ pkgs.fuse pkgs.fuse3 ];")),
      // security.wrappers.fusermount / fusermount3 (setuid root) are also defined; not modelled.
      define('environment.etc."fuse.conf".text', `${allow ? "" : "#"}user_allow_other\nmount_max = ${mountMax}\n`, fuseSrc("environment.etc.\"fuse.conf\".text = '' ${lib.optionalString (!cfg.userAllowOther) \"#\"}user_allow_other\\n mount_max = ${builtins.toString cfg.mountMax} '';")),
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// nixos/nginx: nixos/modules/services/web-servers/nginx/default.nix @ 000007c1,
// vhost-options.nix @ 0050271e, location-options.nix @ 07d3fe29
// ---------------------------------------------------------------------------------------------
// virtualHosts default is { localhost = {}; } (an option default: dropped once we define any vhost).
// location `return` is `nullOr str` in the version read; newer versions accept an int too.
// nginx opens no firewall port itself.

const nginxSrc = (quote: string) => nix(P.nginx, C.nginx, quote);

const locationSubmodule = submodule({
  proxyPass: nullOr(str),
  proxyWebsockets: bool,
  index: nullOr(str),
  tryFiles: nullOr(str),
  root: nullOr(path),
  alias: nullOr(path),
  return: nullOr(either(str, int)),
  extraConfig: lines,
  priority: int,
  basicAuth: attrsOf(str),
  basicAuthFile: nullOr(path),
  recommendedProxySettings: bool,
  fastcgiParams: attrsOf(either(str, path)),
});

const listenSubmodule = submodule({ addr: str, port: nullOr(port), ssl: bool, proxyProtocol: bool, extraParameters: listOf(str) });

const vhostSubmodule = submodule({
  serverName: nullOr(str),
  serverAliases: listOf(str),
  listen: listOf(listenSubmodule),
  listenAddresses: listOf(str),
  enableACME: bool,
  useACMEHost: nullOr(str),
  addSSL: bool,
  onlySSL: bool,
  forceSSL: bool,
  rejectSSL: bool,
  kTLS: bool,
  http2: bool,
  http3: bool,
  quic: bool,
  reuseport: bool,
  root: nullOr(path),
  default: bool,
  extraConfig: lines,
  globalRedirect: nullOr(str),
  redirectCode: int,
  basicAuth: attrsOf(str),
  basicAuthFile: nullOr(path),
  locations: attrsOf(locationSubmodule),
});

const nginxModule: UpstreamModule = {
  name: "nixos/nginx",
  file: storeFile(P.nginx),
  declarations: [
    declare("services.nginx.enable", bool, nginxSrc("enable = mkEnableOption (lib.mdDoc \"Nginx Web Server\");"), false),
    declare("services.nginx.statusPage", bool, nginxSrc("statusPage = mkOption { default = false; type = types.bool;"), false),
    declare("services.nginx.recommendedTlsSettings", bool, nginxSrc("recommendedTlsSettings = mkOption { default = false; type = types.bool;"), false),
    declare("services.nginx.recommendedOptimisation", bool, nginxSrc("recommendedOptimisation = mkOption { default = false; type = types.bool;"), false),
    declare("services.nginx.recommendedBrotliSettings", bool, nginxSrc("recommendedBrotliSettings = mkOption { default = false; type = types.bool;"), false),
    declare("services.nginx.recommendedGzipSettings", bool, nginxSrc("recommendedGzipSettings = mkOption { default = false; type = types.bool;"), false),
    declare("services.nginx.recommendedZstdSettings", bool, nginxSrc("recommendedZstdSettings = mkOption { default = false; type = types.bool;"), false),
    declare("services.nginx.recommendedProxySettings", bool, nginxSrc("recommendedProxySettings = mkOption { default = false; type = types.bool;"), false),
    declare("services.nginx.user", str, nginxSrc("user = mkOption { type = types.str; default = \"nginx\";"), "nginx"),
    declare("services.nginx.group", str, nginxSrc("group = mkOption { type = types.str; default = \"nginx\";"), "nginx"),
    declare("services.nginx.serverTokens", bool, nginxSrc("serverTokens = mkOption { type = types.bool; default = false; description = \"Show nginx version in headers and error pages.\";"), false),
    declare("services.nginx.appendHttpConfig", lines, nginxSrc("appendHttpConfig = mkOption { type = types.lines; default = \"\";"), ""),
    declare("services.nginx.commonHttpConfig", lines, nginxSrc("commonHttpConfig = mkOption { type = types.lines; default = \"\";"), ""),
    declare(
      "services.nginx.virtualHosts",
      attrsOf(vhostSubmodule),
      nix(P.nginxVhost, C.nginxVhost, "listen = mkOption { type = with types; listOf (submodule { options = { addr = mkOption { type = str; … port = mkOption { type = types.nullOr port; … default = null; … ssl … default = false; … root = mkOption { type = types.nullOr types.path; … default = mkOption { type = types.bool; default = false; … locations = mkOption { type = types.attrsOf (types.submodule (import ./location-options.nix …)); (location-options.nix @ 07d3fe29: return = mkOption { type = types.nullOr types.str; default = null; …)"),
      { localhost: {} },
    ),
  ],
  definitions: (cfg) => {
    if (!asBool(cfg("services.nginx.enable"), false)) return [];
    const out: Definition[] = [];
    if (asStr(cfg("services.nginx.user"), "nginx") === "nginx") {
      out.push(define("users.users.nginx", { group: asStr(cfg("services.nginx.group"), "nginx"), isSystemUser: true, uid: 60 }, nginxSrc("users.users = optionalAttrs (cfg.user == \"nginx\") { nginx = { group = cfg.group; isSystemUser = true; uid = config.ids.uids.nginx; }; }; (ids.nix: nginx = 60)")));
    }
    if (asStr(cfg("services.nginx.group"), "nginx") === "nginx") {
      out.push(define("users.groups.nginx", { gid: 60 }, nginxSrc("users.groups = optionalAttrs (cfg.group == \"nginx\") { nginx.gid = config.ids.gids.nginx; };")));
    }
    // systemd.services.nginx (and nginx-config-reload) are also defined; out/nixos sets nothing on them.
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// Servarr: settings-options.nix @ 0b73a0c2 (shared by sonarr, radarr, prowlarr)
// ---------------------------------------------------------------------------------------------
// settings = submodule { freeformType = (pkgs.formats.ini { }).type; options = { update.mechanism
// (nullOr (enum [external builtIn script]), "external"), update.automatically (bool, false),
// server.port (port, <per service>), log.analyticsEnabled (bool, false) }; } default { }.
// The freeform ini type is attrsOf (attrsOf INI-atom-or-list); modelled as attrsOf (attrsOf anything).
// mkServarrSettingsEnvVars turns every non-null leaf into NAME__SECTION__KEY=value (upper case,
// bools as "true"/"false") in systemd.services.<name>.environment.

const servarrSettingsType = submodule(
  {
    update: submodule({ mechanism: nullOr(enumOf("external", "builtIn", "script")), automatically: bool }),
    server: submodule({ port }),
    log: submodule({ analyticsEnabled: bool }),
  },
  attrsOf(attrsOf(anything)),
);

const servarrSettingsSource = (service: string, defaultPort: number, commit: string, path: string) =>
  nix(
    path,
    commit,
    `settings = servarr.mkServarrSettingsOptions "${service}" ${defaultPort}; (settings-options.nix @ ${C.servarrSettings.slice(0, 8)}: type = lib.types.submodule { freeformType = (pkgs.formats.ini { }).type; options = { update = { mechanism … default = "external"; automatically … default = false; }; server = { port = lib.mkOption { type = lib.types.port; … default = port; }; }; log = { analyticsEnabled … default = false; }; }; }; default = { };)`,
  );

/** The settings with the sub-option defaults filled in, as the module system sees them. */
function servarrSettings(cfg: ConfigView, service: string, defaultPort: number): Record<string, unknown> {
  const ours = asAttrs(cfg(`services.${service}.settings`));
  const update = asAttrs(ours.update);
  const server = asAttrs(ours.server);
  const log = asAttrs(ours.log);
  return {
    ...ours,
    update: { ...update, mechanism: update.mechanism === undefined ? "external" : update.mechanism, automatically: update.automatically ?? false },
    server: { ...server, port: server.port ?? defaultPort },
    log: { ...log, analyticsEnabled: log.analyticsEnabled ?? false },
  };
}

/** mkServarrSettingsEnvVars (settings-options.nix). */
function servarrEnv(prefix: string, settings: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  const walk = (value: unknown, path: string[]) => {
    if (isAttrs(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      return;
    }
    if (value === null || value === undefined) return;
    env[`${prefix}__${path.join("__")}`.toUpperCase()] = typeof value === "boolean" ? String(value) : String(value);
  };
  walk(settings, []);
  return env;
}

const servarrEnvSource = nix(P.servarrSettings, C.servarrSettings, "mkServarrSettingsEnvVars = name: settings: lib.pipe settings [ (lib.mapAttrsRecursive (path: value: lib.optionalAttrs (value != null) { name = lib.toUpper \"${name}__${lib.concatStringsSep \"__\" path}\"; value = toString (if lib.isBool value then lib.boolToString value else value); })) …");

const servarrHardening = {
  CapabilityBoundingSet: "",
  NoNewPrivileges: true,
  ProtectHome: true,
  ProtectClock: true,
  ProtectKernelLogs: true,
  PrivateTmp: true,
  PrivateDevices: true,
  PrivateUsers: true,
  ProtectKernelTunables: true,
  ProtectKernelModules: true,
  ProtectControlGroups: true,
  RestrictSUIDSGID: true,
  RemoveIPC: true,
  UMask: "0022",
  ProtectHostname: true,
  ProtectProc: "invisible",
  RestrictAddressFamilies: ["AF_INET", "AF_INET6", "AF_UNIX"],
  RestrictNamespaces: true,
  RestrictRealtime: true,
  LockPersonality: true,
  SystemCallArchitectures: "native",
  SystemCallFilter: ["@system-service", "~@privileged", "~@debug", "~@mount", "@chown"],
};

// ---------------------------------------------------------------------------------------------
// nixos/sonarr: nixos/modules/services/misc/servarr/sonarr.nix @ 1158234b
// ---------------------------------------------------------------------------------------------
// Hardening with UMask = "0022" came with nixpkgs PR 483483 "nixos/servarr: Harden systemd services
// for sonarr and radarr" (opened 2026-01-24, merged): in 26.05. No tmpfiles rule in this version:
// StateDirectory = "sonarr" only when dataDir is the default.

const sonarrSrc = (quote: string) => nix(P.sonarr, C.sonarr, quote);

function servarrDeclarations(service: string, src: (q: string) => Source, defaults: { dataDir: string; port: number; commit: string; path: string; userGroup: boolean }): Declaration[] {
  const out: Declaration[] = [
    declare(`services.${service}.enable`, bool, src(`enable = lib.mkEnableOption "…";`), false),
    declare(`services.${service}.dataDir`, str, src(`dataDir = lib.mkOption { type = lib.types.str; default = "${defaults.dataDir}";`), defaults.dataDir),
    declare(`services.${service}.openFirewall`, bool, src("openFirewall = lib.mkOption { type = lib.types.bool; default = false;"), false),
    declare(`services.${service}.environmentFiles`, listOf(path), src(`environmentFiles = servarr.mkServarrEnvironmentFiles "${service}"; (type = lib.types.listOf lib.types.path; default = [ ];)`), []),
    declare(`services.${service}.database.createLocally`, bool, src(`database.createLocally = servarr.mkServarrPostgresqlOption "…"; (type = lib.types.bool; default = false;)`), false),
    declare(`services.${service}.settings`, servarrSettingsType, servarrSettingsSource(service, defaults.port, defaults.commit, defaults.path), {}),
    declare(`services.${service}.package`, pkg, src(`package = lib.mkPackageOption pkgs "${service}" { };`), store(service)),
  ];
  if (defaults.userGroup) {
    out.push(
      declare(`services.${service}.user`, str, src(`user = lib.mkOption { type = lib.types.str; default = "${service}";`), service),
      declare(`services.${service}.group`, str, src(`group = lib.mkOption { type = lib.types.str; default = "${service}";`), service),
    );
  }
  return out;
}

function servarrUsers(cfg: ConfigView, service: string, uid: number, src: Source): Definition[] {
  const user = asStr(cfg(`services.${service}.user`), service);
  const group = asStr(cfg(`services.${service}.group`), service);
  const dataDir = asStr(cfg(`services.${service}.dataDir`), "");
  const out: Definition[] = [];
  if (user === service) out.push(define(`users.users.${service}`, { group, home: dataDir, uid }, src));
  if (group === service) out.push(define(`users.groups.${service}`, { gid: uid }, src));
  return out;
}

const sonarrModule: UpstreamModule = {
  name: "nixos/sonarr",
  file: storeFile(P.sonarr),
  declarations: servarrDeclarations("sonarr", sonarrSrc, { dataDir: "/var/lib/sonarr/.config/NzbDrone", port: 8989, commit: C.sonarr, path: P.sonarr, userGroup: true }),
  definitions: (cfg) => {
    if (!asBool(cfg("services.sonarr.enable"), false)) return [];
    const user = asStr(cfg("services.sonarr.user"), "sonarr");
    const group = asStr(cfg("services.sonarr.group"), "sonarr");
    const dataDir = asStr(cfg("services.sonarr.dataDir"), "/var/lib/sonarr/.config/NzbDrone");
    const settings = servarrSettings(cfg, "sonarr", 8989);
    const unit = sonarrSrc("systemd.services.sonarr = { description = \"Sonarr\"; after = [ \"network.target\" ]; wantedBy = [ \"multi-user.target\" ]; environment = servarr.mkServarrSettingsEnvVars \"SONARR\" cfg.settings; … unitConfig.RequiresMountsFor = [ cfg.dataDir ];");
    const hardening = sonarrSrc("serviceConfig = { Type = \"simple\"; User = cfg.user; Group = cfg.group; EnvironmentFile = cfg.environmentFiles; … Restart = \"on-failure\"; # Hardening CapabilityBoundingSet = \"\"; … RemoveIPC = true; UMask = \"0022\"; ProtectHostname = true; … SystemCallFilter = [ \"@system-service\" \"~@privileged\" \"~@debug\" \"~@mount\" \"@chown\" ];");
    return [
      define("systemd.services.sonarr.description", "Sonarr", unit),
      define("systemd.services.sonarr.after", ["network.target"], unit),
      define("systemd.services.sonarr.wantedBy", ["multi-user.target"], unit),
      define("systemd.services.sonarr.environment", servarrEnv("SONARR", settings), servarrEnvSource),
      define("systemd.services.sonarr.unitConfig.RequiresMountsFor", [dataDir], unit),
      ...serviceConfig(
        "sonarr",
        {
          Type: "simple",
          User: user,
          Group: group,
          EnvironmentFile: asList(cfg("services.sonarr.environmentFiles")),
          ExecStart: `${store("sonarr")}/bin/Sonarr -nobrowser -data=${dataDir}`,
          Restart: "on-failure",
          ...servarrHardening,
        },
        hardening,
      ),
      ...(dataDir === "/var/lib/sonarr/.config/NzbDrone"
        ? serviceConfig("sonarr", { StateDirectory: "sonarr" }, sonarrSrc("// lib.optionalAttrs (cfg.dataDir == \"/var/lib/sonarr/.config/NzbDrone\") { StateDirectory = \"sonarr\"; };"))
        : []),
      ...(asBool(cfg("services.sonarr.openFirewall"), false)
        ? [define("networking.firewall.allowedTCPPorts", [(settings.server as Record<string, unknown>).port], sonarrSrc("networking.firewall = lib.mkIf cfg.openFirewall { allowedTCPPorts = [ cfg.settings.server.port ]; };"))]
        : []),
      // ids.nix: sonarr = 274 (uids and gids).
      ...servarrUsers(cfg, "sonarr", 274, sonarrSrc("users.users = lib.mkIf (cfg.user == \"sonarr\") { sonarr = { group = cfg.group; home = cfg.dataDir; uid = config.ids.uids.sonarr; }; }; users.groups = lib.mkIf (cfg.group == \"sonarr\") { sonarr.gid = config.ids.gids.sonarr; };")),
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// nixos/radarr: nixos/modules/services/misc/servarr/radarr.nix @ 0a74e020
// ---------------------------------------------------------------------------------------------
// Same hardening (UMask = "0022", PR 483483). Unlike sonarr it writes a tmpfiles rule for dataDir
// (0700, cfg.user/cfg.group) and sets no StateDirectory.

const radarrSrc = (quote: string) => nix(P.radarr, C.radarrProwlarr, quote);

const radarrModule: UpstreamModule = {
  name: "nixos/radarr",
  file: storeFile(P.radarr),
  declarations: servarrDeclarations("radarr", radarrSrc, { dataDir: "/var/lib/radarr/.config/Radarr", port: 7878, commit: C.radarrProwlarr, path: P.radarr, userGroup: true }),
  definitions: (cfg) => {
    if (!asBool(cfg("services.radarr.enable"), false)) return [];
    const user = asStr(cfg("services.radarr.user"), "radarr");
    const group = asStr(cfg("services.radarr.group"), "radarr");
    const dataDir = asStr(cfg("services.radarr.dataDir"), "/var/lib/radarr/.config/Radarr");
    const settings = servarrSettings(cfg, "radarr", 7878);
    const unit = radarrSrc("systemd.services.radarr = { description = \"Radarr\"; after = [ \"network.target\" ]; wantedBy = [ \"multi-user.target\" ]; environment = servarr.mkServarrSettingsEnvVars \"RADARR\" cfg.settings; … unitConfig.RequiresMountsFor = [ cfg.dataDir ];");
    return [
      define('systemd.tmpfiles.settings."10-radarr"', { [dataDir]: { d: { user, group, mode: "0700" } } }, radarrSrc("systemd.tmpfiles.settings.\"10-radarr\".${cfg.dataDir}.d = { inherit (cfg) user group; mode = \"0700\"; };")),
      define("systemd.services.radarr.description", "Radarr", unit),
      define("systemd.services.radarr.after", ["network.target"], unit),
      define("systemd.services.radarr.wantedBy", ["multi-user.target"], unit),
      define("systemd.services.radarr.environment", servarrEnv("RADARR", settings), servarrEnvSource),
      define("systemd.services.radarr.unitConfig.RequiresMountsFor", [dataDir], unit),
      ...serviceConfig(
        "radarr",
        {
          Type: "simple",
          User: user,
          Group: group,
          EnvironmentFile: asList(cfg("services.radarr.environmentFiles")),
          ExecStart: `${store("radarr")}/bin/Radarr -nobrowser -data='${dataDir}'`,
          Restart: "on-failure",
          ...servarrHardening,
        },
        radarrSrc("serviceConfig = { Type = \"simple\"; User = cfg.user; Group = cfg.group; EnvironmentFile = cfg.environmentFiles; ExecStart = \"${cfg.package}/bin/Radarr -nobrowser -data='${cfg.dataDir}'\"; Restart = \"on-failure\"; # Hardening … RemoveIPC = true; UMask = \"0022\"; …"),
      ),
      ...(asBool(cfg("services.radarr.openFirewall"), false)
        ? [define("networking.firewall.allowedTCPPorts", [(settings.server as Record<string, unknown>).port], radarrSrc("networking.firewall = lib.mkIf cfg.openFirewall { allowedTCPPorts = [ cfg.settings.server.port ]; };"))]
        : []),
      // ids.nix: radarr = 275 (uids and gids).
      ...servarrUsers(cfg, "radarr", 275, radarrSrc("users.users = lib.mkIf (cfg.user == \"radarr\") { radarr = { group = cfg.group; home = cfg.dataDir; uid = config.ids.uids.radarr; }; }; users.groups = lib.mkIf (cfg.group == \"radarr\") { radarr.gid = config.ids.gids.radarr; };")),
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// nixos/prowlarr: nixos/modules/services/misc/servarr/prowlarr.nix @ 0a74e020
// ---------------------------------------------------------------------------------------------
// No user/group options (also not in this newest stored version): DynamicUser = true,
// StateDirectory = "prowlarr", no UMask, no hardening block. A custom dataDir is bind-mounted
// over /var/lib/private/prowlarr (systemd.mounts, not modelled) with a root 0700 tmpfiles rule.

const prowlarrSrc = (quote: string) => nix(P.prowlarr, C.radarrProwlarr, quote);

const prowlarrModule: UpstreamModule = {
  name: "nixos/prowlarr",
  file: storeFile(P.prowlarr),
  declarations: servarrDeclarations("prowlarr", prowlarrSrc, { dataDir: "/var/lib/prowlarr", port: 9696, commit: C.radarrProwlarr, path: P.prowlarr, userGroup: false }),
  definitions: (cfg) => {
    if (!asBool(cfg("services.prowlarr.enable"), false)) return [];
    const dataDir = asStr(cfg("services.prowlarr.dataDir"), "/var/lib/prowlarr");
    const settings = servarrSettings(cfg, "prowlarr", 9696);
    const unit = prowlarrSrc("services.prowlarr = { description = \"Prowlarr\"; after = [ \"network.target\" ]; wantedBy = [ \"multi-user.target\" ]; environment = servarr.mkServarrSettingsEnvVars \"PROWLARR\" cfg.settings // { HOME = \"/var/empty\"; }; … unitConfig.RequiresMountsFor = [ cfg.dataDir ];");
    return [
      define("systemd.services.prowlarr.description", "Prowlarr", unit),
      define("systemd.services.prowlarr.after", ["network.target"], unit),
      define("systemd.services.prowlarr.wantedBy", ["multi-user.target"], unit),
      define("systemd.services.prowlarr.environment", { ...servarrEnv("PROWLARR", settings), HOME: "/var/empty" }, unit),
      define("systemd.services.prowlarr.unitConfig.RequiresMountsFor", [dataDir], unit),
      ...serviceConfig(
        "prowlarr",
        {
          Type: "simple",
          DynamicUser: true,
          StateDirectory: "prowlarr",
          EnvironmentFile: asList(cfg("services.prowlarr.environmentFiles")),
          ExecStart: `${store("prowlarr")}/bin/Prowlarr -nobrowser -data=/var/lib/prowlarr`,
          Restart: "on-failure",
        },
        prowlarrSrc("serviceConfig = { Type = \"simple\"; DynamicUser = true; StateDirectory = \"prowlarr\"; EnvironmentFile = cfg.environmentFiles; ExecStart = \"${lib.getExe cfg.package} -nobrowser -data=/var/lib/prowlarr\"; Restart = \"on-failure\"; };"),
      ),
      ...(dataDir !== "/var/lib/prowlarr"
        ? [define('systemd.tmpfiles.settings."10-prowlarr"', { [dataDir]: { d: { user: "root", group: "root", mode: "0700" } } }, prowlarrSrc("tmpfiles.settings.\"10-prowlarr\".${cfg.dataDir}.d = lib.mkIf isCustomDataDir { user = \"root\"; group = \"root\"; mode = \"0700\"; };"))]
        : []),
      ...(asBool(cfg("services.prowlarr.openFirewall"), false)
        ? [define("networking.firewall.allowedTCPPorts", [(settings.server as Record<string, unknown>).port], prowlarrSrc("networking.firewall = lib.mkIf cfg.openFirewall { allowedTCPPorts = [ cfg.settings.server.port ]; };"))]
        : []),
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// nixos/qbittorrent: nixos/modules/services/torrent/qbittorrent.nix @ 05f24c7f
// ---------------------------------------------------------------------------------------------
//
// serverConfig rendering (for the helper that renders/reads qBittorrent.conf), @ 05f24c7f:
// - configFile = pkgs.writeText "qBittorrent.conf" (gendeepINI (recursiveUpdate legacyDefaultsSeed
//   cfg.serverConfig)), legacyDefaultsSeed = { BitTorrent.Session.QueueingSystemEnabled = false; }
//   (a mirror of qBittorrent's upgrade.cpp changedDefaults; nixpkgs issue 516998). Ours can override it.
// - gendeepINI = lib.generators.toINI with a custom mkKeyValue: top-level attrs are sections
//   (`[BitTorrent]`, section names escaped for [ and ]), sections in attribute-name order
//   (sorted), separated by a blank line; inside a section each key in sorted order; a key whose
//   value is an attrset is flattened: every leaf path becomes `Key\Sub\Leaf=value`
//   (concatStringsSep "\\" ([ k ] ++ path), then lib.escape [ "=" ] on the key), leaves in sorted
//   path order; a plain key is `key=value` (mkKeyValueDefault { } "=").
// - Values: mkValueStringDefault: true/false → "true"/"false", ints as decimal, strings verbatim;
//   in this version a newline inside a value becomes the two characters \n (replaceString).
//   The older version (@ 8c546dad) had no legacyDefaultsSeed and no newline replacement.
// - Ours renders as:
//     [BitTorrent]
//     Session\DefaultSavePath=/var/lib/qBittorrent/completed
//     Session\DisableAutoTMMByDefault=false
//     Session\QueueingSystemEnabled=false
//     Session\TempPath=/var/lib/qBittorrent/downloading
//     Session\TempPathEnabled=true
//
//     [LegalNotice]
//     Accepted=true
//
//     [Preferences]
//     WebUI\LocalHostAuth=false
// - Delivery: ExecStartPre = mkIf (cfg.serverConfig != { }) "…/install -Dm600 <configFile>
//   \"${cfg.profileDir}/qBittorrent/config/qBittorrent.conf\"", run as the service User at every
//   start (overwrites WebUI changes of qBittorrent.conf at each restart; other files in the
//   profile, e.g. categories.json, are untouched); restartTriggers = [ configFile ]. With
//   profileDir "/var/lib/qBittorrent" the file is /var/lib/qBittorrent/qBittorrent/config/qBittorrent.conf.
//   The older version (@ 8c546dad) instead linked it read-only: tmpfiles "L+" … mode "1400".
// - ExecStart: qbittorrent-nox --profile=${profileDir} [--webui-port=N] [--torrenting-port=N] ++ extraArgs.
// - Package: pkgs.qbittorrent-nox = qbittorrent.override { guiSupport = false; }, 5.2.3 in the
//   stored master copy (see PACKAGES_26_05): 5.x needs LegalNotice.Accepted = true (or --confirm-legal-notice).

const qbtSrc = (quote: string) => nix(P.qbittorrent, C.qbittorrent, quote);

export const QBITTORRENT_SERVERCONFIG_RENDERING = {
  facts: [
    "toINI sections = top-level attrs of serverConfig, sorted, blank line between sections",
    "nested attrs flatten to Key\\Sub\\Leaf=value (backslash-joined path, '=' in keys escaped)",
    "values: booleans true/false, ints decimal, strings verbatim, newline → \\n",
    "legacyDefaultsSeed BitTorrent.Session.QueueingSystemEnabled=false merged under serverConfig (recursiveUpdate)",
    "installed with install -Dm600 by ExecStartPre at every start when serverConfig != { }",
  ],
  source: qbtSrc("gendeepINI = toINI { mkKeyValue = … if isAttrs v then concatStringsSep \"\\n\" (collect isString (mapAttrsRecursive (path: value: \"${escape [ sep ] (concatStringsSep \"\\\\\" ([ k ] ++ path))}${sep}${replaceString \"\\n\" \"\\\\n\" (mkValueStringDefault { } value)}\") v)) else mkKeyValueDefault { } sep k v; }; legacyDefaultsSeed = { BitTorrent.Session.QueueingSystemEnabled = false; }; configFile = pkgs.writeText \"qBittorrent.conf\" (gendeepINI (recursiveUpdate legacyDefaultsSeed cfg.serverConfig));"),
} as const;

const qbittorrentModule: UpstreamModule = {
  name: "nixos/qbittorrent",
  file: storeFile(P.qbittorrent),
  declarations: [
    declare("services.qbittorrent.enable", bool, qbtSrc("enable = mkEnableOption \"qbittorrent, BitTorrent client\";"), false),
    declare("services.qbittorrent.package", pkg, qbtSrc("package = mkPackageOption pkgs \"qbittorrent-nox\" { };"), store("qbittorrent-nox")),
    declare("services.qbittorrent.user", str, qbtSrc("user = mkOption { type = str; default = \"qbittorrent\";"), "qbittorrent"),
    declare("services.qbittorrent.group", str, qbtSrc("group = mkOption { type = str; default = \"qbittorrent\";"), "qbittorrent"),
    declare("services.qbittorrent.profileDir", path, qbtSrc("profileDir = mkOption { type = path; default = \"/var/lib/qBittorrent/\";"), "/var/lib/qBittorrent/"),
    declare("services.qbittorrent.openFirewall", bool, qbtSrc("openFirewall = mkEnableOption \"opening both the webuiPort and torrentPort over TCP in the firewall\";"), false),
    declare("services.qbittorrent.webuiPort", nullOr(port), qbtSrc("webuiPort = mkOption { default = 8080; type = nullOr port;"), 8080),
    declare("services.qbittorrent.torrentingPort", nullOr(port), qbtSrc("torrentingPort = mkOption { default = null; type = nullOr port;"), null),
    declare("services.qbittorrent.serverConfig", submodule({}, attrsOf(attrsOf(anything))), qbtSrc("serverConfig = mkOption { default = { }; type = submodule { freeformType = attrsOf (attrsOf anything); };"), {}),
    declare("services.qbittorrent.extraArgs", listOf(str), qbtSrc("extraArgs = mkOption { type = listOf str; default = [ ];"), []),
  ],
  definitions: (cfg) => {
    if (!asBool(cfg("services.qbittorrent.enable"), false)) return [];
    const user = asStr(cfg("services.qbittorrent.user"), "qbittorrent");
    const group = asStr(cfg("services.qbittorrent.group"), "qbittorrent");
    const profileDir = pathString(cfg("services.qbittorrent.profileDir"), "/var/lib/qBittorrent/");
    const webuiPort = cfg("services.qbittorrent.webuiPort") === undefined ? 8080 : cfg("services.qbittorrent.webuiPort");
    const torrentingPort = cfg("services.qbittorrent.torrentingPort") ?? null;
    const serverConfig = asAttrs(cfg("services.qbittorrent.serverConfig"));
    const hasConfig = Object.keys(serverConfig).length > 0;
    const configFile = store("qBittorrent.conf");
    const unit = qbtSrc("services.qbittorrent = { description = \"qbittorrent BitTorrent client\"; wants = [ \"network-online.target\" ]; after = [ \"local-fs.target\" \"network-online.target\" \"nss-lookup.target\" ]; wantedBy = [ \"multi-user.target\" ]; restartTriggers = optionals (cfg.serverConfig != { }) [ configFile ];");
    const execStart = [
      `${store("qbittorrent-nox")}/bin/qbittorrent-nox`,
      `--profile=${profileDir}`,
      ...(webuiPort !== null ? [`--webui-port=${String(webuiPort)}`] : []),
      ...(torrentingPort !== null ? [`--torrenting-port=${String(torrentingPort)}`] : []),
      ...asList(cfg("services.qbittorrent.extraArgs")).map(String),
    ].join(" ");
    const out: Definition[] = [
      define(
        "systemd.tmpfiles.settings.qbittorrent",
        {
          [`${profileDir}/qBittorrent/`]: { d: { mode: "755", user, group } },
          [`${profileDir}/qBittorrent/config/`]: { d: { mode: "755", user, group } },
        },
        qbtSrc("tmpfiles.settings = { qbittorrent = { \"${cfg.profileDir}/qBittorrent/\".\"d\" = { mode = \"755\"; inherit (cfg) user group; }; \"${cfg.profileDir}/qBittorrent/config/\".\"d\" = { mode = \"755\"; inherit (cfg) user group; }; }; };"),
      ),
      define("systemd.services.qbittorrent.description", "qbittorrent BitTorrent client", unit),
      define("systemd.services.qbittorrent.wants", ["network-online.target"], unit),
      define("systemd.services.qbittorrent.after", ["local-fs.target", "network-online.target", "nss-lookup.target"], unit),
      define("systemd.services.qbittorrent.wantedBy", ["multi-user.target"], unit),
      define("systemd.services.qbittorrent.restartTriggers", hasConfig ? [configFile] : [], unit),
      ...serviceConfig(
        "qbittorrent",
        {
          Type: "simple",
          User: user,
          Group: group,
          ExecStart: execStart,
          TimeoutStopSec: 1800,
          PrivateTmp: false,
          PrivateNetwork: false,
          RemoveIPC: true,
          NoNewPrivileges: true,
          PrivateDevices: true,
          PrivateUsers: true,
          ProtectHome: "yes",
          ProtectProc: "invisible",
          ProcSubset: "pid",
          ProtectSystem: "full",
          ProtectClock: true,
          ProtectHostname: true,
          ProtectKernelLogs: true,
          ProtectKernelModules: true,
          ProtectKernelTunables: true,
          ProtectControlGroups: true,
          RestrictAddressFamilies: ["AF_INET", "AF_INET6", "AF_NETLINK"],
          RestrictNamespaces: true,
          RestrictRealtime: true,
          RestrictSUIDSGID: true,
          LockPersonality: true,
          MemoryDenyWriteExecute: true,
          SystemCallArchitectures: "native",
          CapabilityBoundingSet: "",
          SystemCallFilter: ["@system-service"],
        },
        qbtSrc("serviceConfig = { Type = \"simple\"; User = cfg.user; Group = cfg.group; … ExecStart = utils.escapeSystemdExecArgs ([ (getExe cfg.package) \"--profile=${cfg.profileDir}\" ] ++ …); TimeoutStopSec = 1800; PrivateTmp = false; … ProtectSystem = \"full\"; … SystemCallFilter = [ \"@system-service\" ]; }; (no UMask)"),
      ),
      ...(hasConfig
        ? serviceConfig(
            "qbittorrent",
            { ExecStartPre: `${store("coreutils")}/bin/install -Dm600 ${configFile} "${profileDir}/qBittorrent/config/qBittorrent.conf"\n` },
            qbtSrc("ExecStartPre = lib.mkIf (cfg.serverConfig != { }) '' ${pkgs.coreutils}/bin/install -Dm600 ${configFile} \"${cfg.profileDir}/qBittorrent/config/qBittorrent.conf\" '';"),
          )
        : []),
    ];
    if (user === "qbittorrent") out.push(define("users.users.qbittorrent", { group, isSystemUser: true }, qbtSrc("users = mkIf (cfg.user == \"qbittorrent\") { qbittorrent = { inherit (cfg) group; isSystemUser = true; }; };")));
    if (group === "qbittorrent") out.push(define("users.groups.qbittorrent", {}, qbtSrc("groups = mkIf (cfg.group == \"qbittorrent\") { qbittorrent = { }; };")));
    if (asBool(cfg("services.qbittorrent.openFirewall"), false)) {
      out.push(
        define(
          "networking.firewall.allowedTCPPorts",
          [...(webuiPort !== null ? [webuiPort] : []), ...(torrentingPort !== null ? [torrentingPort] : [])],
          qbtSrc("networking.firewall.allowedTCPPorts = mkIf cfg.openFirewall (optionals (cfg.webuiPort != null) [ cfg.webuiPort ] ++ optionals (cfg.torrentingPort != null) [ cfg.torrentingPort ]);"),
        ),
      );
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// nixos/jellyfin: nixos/modules/services/misc/jellyfin.nix
// ---------------------------------------------------------------------------------------------
// Declarations and UMask/User/Group/users/firewall: @ af74eb5f (2023), unchanged in every newer
// stored version seen. The unit, tmpfiles and the dataDir/configDir/cacheDir/logDir options come
// from the newest stored version with hardwareAcceleration/transcoding options (store id
// 1969492321; the store names no commit for it): `unpinned` sources. That version has no
// StateDirectory (tmpfiles rules `jellyfinDirs` instead) and PrivateDevices = mkDefault false.
// dataDir/configDir/cacheDir/logDir are not declared here (no commit to cite); the definitions use
// their defaults unless ours set them.

const jellyfinSrc = (quote: string) => nix(P.jellyfin, C.jellyfin, quote);
const jellyfinNew = (quote: string) => unpinned(P.jellyfin, "1969492321", quote);

const jellyfinModule: UpstreamModule = {
  name: "nixos/jellyfin",
  file: storeFile(P.jellyfin),
  declarations: [
    declare("services.jellyfin.enable", bool, jellyfinSrc("enable = mkEnableOption (lib.mdDoc \"Jellyfin Media Server\");"), false),
    declare("services.jellyfin.user", str, jellyfinSrc("user = mkOption { type = types.str; default = \"jellyfin\";"), "jellyfin"),
    declare("services.jellyfin.group", str, jellyfinSrc("group = mkOption { type = types.str; default = \"jellyfin\";"), "jellyfin"),
    declare("services.jellyfin.openFirewall", bool, jellyfinSrc("openFirewall = mkOption { type = types.bool; default = false;"), false),
    declare("services.jellyfin.package", pkg, jellyfinSrc("package = mkOption { type = types.package; default = pkgs.jellyfin;"), store("jellyfin")),
  ],
  definitions: (cfg) => {
    if (!asBool(cfg("services.jellyfin.enable"), false)) return [];
    const user = asStr(cfg("services.jellyfin.user"), "jellyfin");
    const group = asStr(cfg("services.jellyfin.group"), "jellyfin");
    const dataDir = asStr(cfg("services.jellyfin.dataDir"), "/var/lib/jellyfin");
    const configDir = asStr(cfg("services.jellyfin.configDir"), `${dataDir}/config`);
    const cacheDir = asStr(cfg("services.jellyfin.cacheDir"), "/var/cache/jellyfin");
    const logDir = asStr(cfg("services.jellyfin.logDir"), `${dataDir}/log`);
    const unit = jellyfinNew("services.jellyfin = { description = \"Jellyfin Media Server\"; after = [ \"network-online.target\" ]; wants = [ \"network-online.target\" ]; wantedBy = [ \"multi-user.target\" ];");
    const out: Definition[] = [
      define(
        "systemd.tmpfiles.settings.jellyfinDirs",
        {
          [dataDir]: { d: { mode: "700", user, group } },
          [configDir]: { d: { mode: "700", user, group } },
          [logDir]: { d: { mode: "700", user, group } },
          [cacheDir]: { d: { mode: "700", user, group } },
        },
        jellyfinNew("tmpfiles.settings.jellyfinDirs = { \"${cfg.dataDir}\".\"d\" = { mode = \"700\"; inherit (cfg) user group; }; \"${cfg.configDir}\".\"d\" = …; \"${cfg.logDir}\".\"d\" = …; \"${cfg.cacheDir}\".\"d\" = …; };"),
      ),
      define("systemd.services.jellyfin.description", "Jellyfin Media Server", unit),
      define("systemd.services.jellyfin.after", ["network-online.target"], unit),
      define("systemd.services.jellyfin.wants", ["network-online.target"], unit),
      define("systemd.services.jellyfin.wantedBy", ["multi-user.target"], unit),
      ...serviceConfig("jellyfin", { User: user, Group: group, UMask: "0077" }, jellyfinSrc("serviceConfig = rec { Type = \"simple\"; User = cfg.user; Group = cfg.group; … UMask = \"0077\";")),
      ...serviceConfig(
        "jellyfin",
        {
          Type: "simple",
          WorkingDirectory: dataDir,
          ExecStart: `${store("jellyfin")}/bin/jellyfin --datadir '${dataDir}' --configdir '${configDir}' --cachedir '${cacheDir}' --logdir '${logDir}'`,
          Restart: "on-failure",
          TimeoutSec: 15,
          SuccessExitStatus: ["0", "143"],
          CapabilityBoundingSet: [""],
          NoNewPrivileges: true,
          SystemCallArchitectures: "native",
          RestrictAddressFamilies: ["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"],
          // `!config.boot.isContainer`: true outside a container.
          RestrictNamespaces: true,
          RestrictRealtime: true,
          RestrictSUIDSGID: true,
          ProcSubset: "pid",
          ProtectControlGroups: true,
          ProtectClock: true,
          ProtectHostname: true,
          ProtectKernelLogs: true,
          ProtectKernelModules: true,
          ProtectKernelTunables: true,
          ProtectProc: "invisible",
          ProtectSystem: true,
          LockPersonality: true,
          PrivateTmp: true,
          PrivateUsers: true,
          RemoveIPC: true,
          SystemCallFilter: ["@system-service", "~@privileged"],
          SystemCallErrorNumber: "EPERM",
        },
        jellyfinNew("serviceConfig = { Type = \"simple\"; User = cfg.user; Group = cfg.group; UMask = \"0077\"; WorkingDirectory = cfg.dataDir; ExecStart = \"${getExe cfg.package} --datadir '${cfg.dataDir}' --configdir '${cfg.configDir}' --cachedir '${cfg.cacheDir}' --logdir '${cfg.logDir}'\"; … SystemCallErrorNumber = \"EPERM\"; };"),
      ),
      define("systemd.services.jellyfin.serviceConfig.PrivateDevices", false, jellyfinNew("PrivateDevices = mkDefault false;"), PRIORITY.default),
    ];
    if (user === "jellyfin") out.push(define("users.users.jellyfin", { group, isSystemUser: true }, jellyfinSrc("users.users = mkIf (cfg.user == \"jellyfin\") { jellyfin = { group = cfg.group; isSystemUser = true; }; };")));
    if (group === "jellyfin") out.push(define("users.groups.jellyfin", {}, jellyfinSrc("users.groups = mkIf (cfg.group == \"jellyfin\") { jellyfin = {}; };")));
    if (asBool(cfg("services.jellyfin.openFirewall"), false)) {
      const fw = jellyfinSrc("networking.firewall = mkIf cfg.openFirewall { allowedTCPPorts = [ 8096 8920 ]; allowedUDPPorts = [ 1900 7359 ]; };");
      out.push(define("networking.firewall.allowedTCPPorts", [8096, 8920], fw), define("networking.firewall.allowedUDPPorts", [1900, 7359], fw));
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// copyparty: 9001/copyparty contrib/nixos/modules/copyparty.nix @ 24740f58 (plain module)
// ---------------------------------------------------------------------------------------------
// Two stored variants. @ 24740f58 is a plain module `{ config, pkgs, lib, ... }:` as the flake's
// `nixosModules.default = ./contrib/nixos/modules/copyparty.nix;` and the README's non-flake
// `imports = [ "${copyparty}/contrib/nixos/modules/copyparty.nix" ]` need. @ 05e52011 is
// `{ self }: { config, pkgs, lib, ... }:` (flake: `import … { inherit self; }`) and additionally
// defines `nixpkgs.overlays = [ self.overlays.default ];` — a July 2025 state, before PR #296
// moved the overlay to contrib/package/nix/overlay.nix for non-flake use. Otherwise the two define
// the same things (list values in settings join with "," @ 24740f58, ", " @ 05e52011).
// Later (PR #963, merged 2025-11-02, not in the store) the tmpfiles mode became
// ":${volume flags.chmod_d or settings."chmod-d" or 755}"; still ':'-prefixed; same result for ours.
// UMask = "0077" in every version (also the 2024 one in the fetched snapshot @ b13899c6).

const copypartyModule: UpstreamModule = {
  name: "copyparty",
  file: storeFile(P.copyparty),
  declarations: [
    declare("services.copyparty.enable", bool, copypartySrc("enable = mkEnableOption \"web-based file manager\";"), false),
    declare("services.copyparty.package", pkg, copypartySrc("package = mkOption { type = types.package; default = pkgs.copyparty;"), store("copyparty")),
    declare("services.copyparty.mkHashWrapper", bool, copypartySrc("mkHashWrapper = mkOption { type = types.bool; default = true;"), true),
    declare("services.copyparty.user", str, copypartySrc("user = mkOption { type = types.str; default = \"copyparty\";"), "copyparty"),
    declare("services.copyparty.group", str, copypartySrc("group = mkOption { type = types.str; default = \"copyparty\";"), "copyparty"),
    declare("services.copyparty.openFilesLimit", either(int, str), copypartySrc("openFilesLimit = mkOption { default = 4096; type = types.either types.int types.str;"), 4096),
    // types.attrs: definitions are merged with //; the default is an option default, so any definition of ours replaces it whole.
    declare("services.copyparty.settings", attrs, copypartySrc("settings = mkOption { type = types.attrs; … default = { i = \"127.0.0.1\"; no-reload = true; hist = externalCacheDir; };"), { i: "127.0.0.1", "no-reload": true, hist: "/var/cache/copyparty" }),
    declare("services.copyparty.accounts", attrsOf(submodule({ passwordFile: str })), copypartySrc("accounts = mkOption { type = types.attrsOf (types.submodule ({ ... }: { options = { passwordFile = mkOption { type = types.str;"), {}),
    declare(
      "services.copyparty.volumes",
      attrsOf(submodule({ path, access: attrs, flags: attrs }, undefined, { flags: {} })),
      copypartySrc("volumes = mkOption { type = types.attrsOf (types.submodule ({ ... }: { options = { path = mkOption { type = types.path; … access = mkOption { type = types.attrs; … flags = mkOption { type = types.attrs; … default = { }; … default = { \"/\" = { path = defaultShareDir; access = { r = \"*\"; }; }; };"),
      { "/": { path: "/var/lib/copyparty/data", access: { r: "*" } } },
    ),
  ],
  definitions: (cfg) => {
    if (!asBool(cfg("services.copyparty.enable"), false)) return [];
    const user = asStr(cfg("services.copyparty.user"), "copyparty");
    const group = asStr(cfg("services.copyparty.group"), "copyparty");
    const settingsValue = cfg("services.copyparty.settings");
    const settings = isAttrs(settingsValue) ? settingsValue : { i: "127.0.0.1", "no-reload": true, hist: "/var/cache/copyparty" };
    const volumesValue = cfg("services.copyparty.volumes");
    const volumes = isAttrs(volumesValue) ? volumesValue : { "/": { path: "/var/lib/copyparty/data", access: { r: "*" } } };
    const accounts = asAttrs(cfg("services.copyparty.accounts"));
    const hasHist = "hist" in settings;
    const volumePaths = Object.values(volumes).map((v) => pathString(asAttrs(v).path, ""));
    const unit = copypartySrc("systemd.services.copyparty = { description = \"http file sharing hub\"; wantedBy = [ \"multi-user.target\" ]; environment = { PYTHONUNBUFFERED = \"true\"; XDG_CONFIG_HOME = externalStateDir; }; preStart = … ''set -euo pipefail install -m 600 ${configFile} ${runtimeConfigPath} …'';");
    const command = `${store("copyparty")}/bin/copyparty -c /run/copyparty/copyparty.conf`;
    const out: Definition[] = [
      define("systemd.services.copyparty.description", "http file sharing hub", unit),
      define("systemd.services.copyparty.wantedBy", ["multi-user.target"], unit),
      define("systemd.services.copyparty.environment", { PYTHONUNBUFFERED: "true", XDG_CONFIG_HOME: "/var/lib/copyparty" }, unit),
      define("systemd.services.copyparty.preStart", `set -euo pipefail\ninstall -m 600 ${store("copyparty.conf")} /run/copyparty/copyparty.conf\n${Object.keys(accounts).map((n) => `… replace-secret '{{password-${n}}}' …`).join("\n")}\n`, unit),
      ...serviceConfig(
        "copyparty",
        {
          Type: "simple",
          ExecStart: command,
          User: user,
          Group: group,
          RuntimeDirectory: ["copyparty"],
          RuntimeDirectoryMode: "0700",
          StateDirectory: ["copyparty"],
          StateDirectoryMode: "0700",
          ...(hasHist ? { CacheDirectory: ["copyparty"], CacheDirectoryMode: "0700" } : {}),
          WorkingDirectory: "/var/lib/copyparty",
          BindReadOnlyPaths: ["/nix/store", "-/etc/resolv.conf", "-/etc/nsswitch.conf", "-/etc/group", "-/etc/hosts", "-/etc/localtime", ...Object.values(accounts).map((a) => `-${asStr(asAttrs(a).passwordFile, "")}`)],
          BindPaths: [...(hasHist ? [String(settings.hist)] : []), "/var/lib/copyparty", ...volumePaths],
          TemporaryFileSystem: "/:ro",
          PrivateTmp: true,
          PrivateDevices: true,
          ProtectKernelTunables: true,
          ProtectControlGroups: true,
          RestrictSUIDSGID: true,
          PrivateMounts: true,
          ProtectKernelModules: true,
          ProtectKernelLogs: true,
          ProtectHostname: true,
          ProtectClock: true,
          ProtectProc: "invisible",
          ProcSubset: "pid",
          RestrictNamespaces: true,
          RemoveIPC: true,
          UMask: "0077",
          LimitNOFILE: cfg("services.copyparty.openFilesLimit") ?? 4096,
          NoNewPrivileges: true,
          LockPersonality: true,
          RestrictRealtime: true,
          MemoryDenyWriteExecute: true,
        },
        copypartySrc("serviceConfig = { Type = \"simple\"; ExecStart = command; # Hardening options User = cfg.user; Group = cfg.group; RuntimeDirectory = [ \"copyparty\" ]; … CacheDirectory = lib.mkIf (cfg.settings ? hist) [ \"copyparty\" ]; … BindPaths = (if cfg.settings ? hist then [ cfg.settings.hist ] else [ ]) ++ [ externalStateDir ] ++ (mapAttrsToList (k: v: v.path) cfg.volumes); … TemporaryFileSystem = \"/:ro\"; … UMask = \"0077\"; LimitNOFILE = cfg.openFilesLimit; …"),
      ),
      define(
        "systemd.tmpfiles.settings.copyparty",
        Object.fromEntries(volumePaths.map((p) => [p, { d: { group: `:${group}`, user: `:${user}`, mode: ":755" } }])),
        copypartySrc("# ensure volumes exist: systemd.tmpfiles.settings.\"copyparty\" = (lib.attrsets.mapAttrs' (name: value: lib.attrsets.nameValuePair (value.path) { d = { #: in front of things means it wont change it if the directory already exists. group = \":${cfg.group}\"; user = \":${cfg.user}\"; mode = \":755\"; }; }) cfg.volumes);"),
      ),
    ];
    if (user === "copyparty" && group === "copyparty") {
      const src = copypartySrc("users.groups.copyparty = lib.mkIf (cfg.user == \"copyparty\" && cfg.group == \"copyparty\") { }; users.users.copyparty = lib.mkIf (…) { description = \"Service user for copyparty\"; group = \"copyparty\"; home = externalStateDir; isSystemUser = true; };");
      out.push(define("users.groups.copyparty", {}, src), define("users.users.copyparty", { description: "Service user for copyparty", group: "copyparty", home: "/var/lib/copyparty", isSystemUser: true }, src));
    }
    if (asBool(cfg("services.copyparty.mkHashWrapper"), true)) {
      out.push(define("environment.systemPackages", [store("copyparty-hash")], copypartySrc("environment.systemPackages = lib.mkIf cfg.mkHashWrapper [ (pkgs.writeShellScriptBin \"copyparty-hash\" '' … exec ${command} --ah-cli '') ];")));
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// sops-nix: Mic92/sops-nix modules/sops/default.nix and modules/sops/templates/default.nix @ 56b24064
// ---------------------------------------------------------------------------------------------
// Not modelled: the activation script (setupSecrets) or, with systemd-sysusers/userborn,
// systemd.services.sops-install-secrets (mkIf (regularSecrets != { } && cfg.useSystemdActivation)),
// assertions (a key source must be set: age.keyFile here), sops.environment.

const sopsDefault = (quote: string) => sopsSrc(P.sops, quote);
const sopsTemplates = (quote: string) => sopsSrc(P.sopsTemplates, quote);

const secretSubmodule = submodule({
  name: str,
  key: str,
  path: str,
  format: enumOf("yaml", "json", "binary", "dotenv", "ini"),
  mode: str,
  owner: nullOr(str),
  uid: nullOr(int),
  group: nullOr(str),
  gid: nullOr(int),
  sopsFile: path,
  sopsFileHash: str,
  restartUnits: listOf(str),
  reloadUnits: listOf(str),
  neededForUsers: bool,
});

const templateSubmodule = submodule({
  name: str, // types.singleLineStr
  path: str, // types.singleLineStr
  content: lines,
  mode: str,
  owner: nullOr(str),
  uid: nullOr(int),
  group: nullOr(str),
  gid: nullOr(int),
  file: path,
  restartUnits: listOf(str),
  reloadUnits: listOf(str),
});

const sopsModule: UpstreamModule = {
  name: "sops-nix",
  file: "/nix/store/…-source/modules/sops",
  declarations: [
    declare("sops.secrets", attrsOf(secretSubmodule), sopsDefault("secrets = lib.mkOption { type = lib.types.attrsOf secretType; default = { }; (secretType: … path … default = \"/run/secrets/${config.name}\"; … mode … default = \"0400\"; owner = … nullOr str … default = null; group … default = if config.owner != null then users.${config.owner}.group else null; sopsFile = lib.mkOption { type = lib.types.path; … restartUnits = … listOf str … default = [ ];)"), {}),
    declare("sops.defaultSopsFile", path, sopsDefault("defaultSopsFile = lib.mkOption { type = lib.types.path;")),
    declare("sops.defaultSopsFormat", str, sopsDefault("defaultSopsFormat = lib.mkOption { type = lib.types.str; default = \"yaml\";"), "yaml"),
    declare("sops.defaultSopsKey", nullOr(str), sopsDefault("defaultSopsKey = lib.mkOption { type = lib.types.nullOr lib.types.str; default = null;"), null),
    declare("sops.validateSopsFiles", bool, sopsDefault("validateSopsFiles = lib.mkOption { type = lib.types.bool; default = true;"), true),
    declare("sops.keepGenerations", int, sopsDefault("keepGenerations = lib.mkOption { type = lib.types.ints.unsigned; default = 1;"), 1),
    declare("sops.useTmpfs", bool, sopsDefault("useTmpfs = lib.mkOption { type = lib.types.bool; default = false;"), false),
    declare("sops.useSystemdActivation", bool, sopsDefault("useSystemdActivation = lib.mkOption { type = lib.types.bool; default = (options.systemd ? sysusers && config.systemd.sysusers.enable) || (options.services ? userborn && config.services.userborn.enable);"), false),
    // pathNotInStore: a custom type (check: not under the Nix store; merge = lib.mergeEqualOption).
    declare("sops.age.keyFile", nullOr(path), sopsDefault("keyFile = lib.mkOption { type = lib.types.nullOr pathNotInStore; default = null; example = \"/var/lib/sops-nix/key.txt\";"), null),
    declare("sops.age.sshKeyPaths", listOf(path), sopsDefault("sshKeyPaths = lib.mkOption { type = lib.types.listOf lib.types.path; default = defaultImportKeys \"ed25519\";"), []),
    declare("sops.age.generateKey", bool, sopsDefault("generateKey = lib.mkOption { type = lib.types.bool; default = false;"), false),
    declare("sops.age.plugins", listOf(pkg), sopsDefault("plugins = lib.mkOption { type = lib.types.listOf lib.types.package; default = [ ];"), []),
    declare("sops.gnupg.home", nullOr(str), sopsDefault("home = lib.mkOption { type = lib.types.nullOr lib.types.str; default = null;"), null),
    declare("sops.gnupg.sshKeyPaths", listOf(path), sopsDefault("sshKeyPaths = lib.mkOption { type = lib.types.listOf lib.types.path; default = defaultImportKeys \"rsa\";"), []),
    declare("sops.templates", attrsOf(templateSubmodule), sopsTemplates("templates = mkOption { … type = types.attrsOf (types.submodule ({ config, ... }: { options = { name … path = mkOption { … type = types.singleLineStr; default = \"/run/secrets/rendered/${config.name}\"; content = mkOption { type = types.lines; default = \"\"; mode … default = \"0400\"; owner = mkOption { type = with lib.types; nullOr singleLineStr; default = null; … restartUnits …"), {}),
    // coercibleToString (isConvertibleWithToString, merge = lib.mergeEqualOption): modelled as str.
    declare("sops.placeholder", attrsOf(str), sopsTemplates("placeholder = mkOption { type = types.attrsOf (types.mkOptionType { name = \"coercibleToString\"; … merge = lib.mergeEqualOption; }); default = { }; visible = false; };"), {}),
  ],
  definitions: (cfg) => {
    const secrets = asAttrs(cfg("sops.secrets"));
    const templates = asAttrs(cfg("sops.templates"));
    const out: Definition[] = [];
    const defaultSopsFile = cfg("sops.defaultSopsFile");
    if (defaultSopsFile !== undefined) {
      for (const name of Object.keys(secrets)) {
        out.push(define(`sops.secrets.${JSON.stringify(name)}.sopsFile`, defaultSopsFile, sopsDefault("config = { sopsFile = lib.mkOptionDefault cfg.defaultSopsFile; … };"), PRIORITY.optionDefault));
      }
    }
    if (Object.keys(templates).length > 0) {
      // The placeholder is "<SOPS:" + sha256 of the secret's attribute name + ":PLACEHOLDER>", substituted at activation.
      for (const name of Object.keys(secrets)) {
        out.push(define(`sops.placeholder.${JSON.stringify(name)}`, `<SOPS:${createHash("sha256").update(name).digest("hex")}:PLACEHOLDER>`, sopsTemplates("config = lib.optionalAttrs (options ? sops.secrets) (lib.mkIf (config.sops.templates != { }) { sops.placeholder = mapAttrs (name: _: mkDefault \"<SOPS:${builtins.hashString \"sha256\" name}:PLACEHOLDER>\") config.sops.secrets;"), PRIORITY.default));
      }
    }
    // Option defaults that our modules read (EnvironmentFile = config.sops.templates."…".path),
    // as definitions at the default's priority.
    for (const name of Object.keys(templates)) {
      out.push(define(`sops.templates.${JSON.stringify(name)}.path`, `/run/secrets/rendered/${name}`, sopsTemplates('path = mkOption { type = types.singleLineStr; default = "/run/secrets/rendered/${config.name}"; };'), PRIORITY.optionDefault));
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// The model.
// ---------------------------------------------------------------------------------------------

export const UPSTREAM: readonly UpstreamModule[] = [
  systemdModule,
  tmpfilesModule,
  usersModule,
  firewallModule,
  etcModule,
  systemPathModule,
  nixpkgsModule,
  fuseModule,
  nginxModule,
  qbittorrentModule,
  jellyfinModule,
  sonarrModule,
  radarrModule,
  prowlarrModule,
  copypartyModule,
  sopsModule,
];

// ---------------------------------------------------------------------------------------------
// How NixOS writes systemd.tmpfiles.{settings,rules} to /etc/tmpfiles.d, and how systemd-tmpfiles
// reads them. nixos/modules/system/boot/systemd/tmpfiles.nix @ 9ab61b25; tmpfiles.d(5) @ systemd 00c53f42.
// ---------------------------------------------------------------------------------------------

/** One entry: systemd.tmpfiles.settings.<file>.<path>.<type> (the submodule's fields, all optional in a definition). */
export interface TmpfilesEntry {
  readonly type?: string;
  readonly mode?: string;
  readonly user?: string;
  readonly group?: string;
  readonly age?: string;
  readonly argument?: string;
}
export type TmpfilesSettings = Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, TmpfilesEntry>>>>>>;

/** Nix orders attribute names by byte comparison (attrNames, mapAttrsToList). */
const byNixName = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

/**
 * lib.strings.escapeC [ "\t" "\n" "\r" " " "\\" ]: each such character becomes \xNN (lower-case hex).
 * Only newer tmpfiles.nix versions escape the argument (stored id 62272828691, no commit); the
 * version @ 9ab61b25 writes it raw. Paths, modes, users, groups and ages are never escaped.
 */
function escapeArgument(argument: string): string {
  return argument.replace(/[\t\n\r \\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * The files NixOS puts in /etc/tmpfiles.d for systemd.tmpfiles.settings and .rules, as lines
 * (each file's content is the lines joined with "\n" plus a final "\n"):
 * - rules → "00-nixos.conf": two comment lines, an empty line, then the rules in definition order;
 * - settings.<name> → "<name>.conf": one line per path (paths in Nix attribute order), per type
 *   (in attribute order): `'<type>' '<path>' '<mode>' '<user>' '<group>' '<age>' <argument>`,
 *   the type defaulting to the attribute name, mode/user/group/age to "-", argument to "" (which
 *   leaves a trailing space).
 */
export function renderTmpfilesSettings(settings: TmpfilesSettings, rules: readonly string[] = []): { file: string; lines: string[] }[] {
  const files: { file: string; lines: string[] }[] = [
    { file: "00-nixos.conf", lines: ["# This file is created automatically and should not be modified.", "# Please change the option ‘systemd.tmpfiles.rules’ instead.", "", ...rules] },
  ];
  for (const name of Object.keys(settings).sort(byNixName)) {
    const paths = settings[name] ?? {};
    const lines: string[] = [];
    for (const p of Object.keys(paths).sort(byNixName)) {
      const types = paths[p] ?? {};
      for (const typeName of Object.keys(types).sort(byNixName)) {
        const e = types[typeName] ?? {};
        lines.push(`'${e.type ?? typeName}' '${p}' '${e.mode ?? "-"}' '${e.user ?? "-"}' '${e.group ?? "-"}' '${e.age ?? "-"}' ${escapeArgument(e.argument ?? "")}`);
      }
    }
    files.push({ file: `${name}.conf`, lines });
  }
  return files;
}

/** The path a tmpfiles.d line is about: the second field, single-quoted (settings) or bare (rules). */
function linePath(line: string): string | undefined {
  const t = line.trim();
  if (t === "" || t.startsWith("#")) return undefined;
  const m = /^(?:'[^']*'|\S+)\s+(?:'([^']*)'|(\S+))/.exec(t);
  return m ? (m[1] ?? m[2]) : undefined;
}

/**
 * systemd-tmpfiles' rule for one path named in several files: files are read in file-name order
 * (all directories together), the line from the lexicographically first file applies, later ones
 * are logged as errors ("Duplicate line for path …, ignoring."). Returns, per path named in more
 * than one file, the files in the order read (the first wins).
 */
export function tmpfilesDuplicates(files: readonly { file: string; lines: readonly string[] }[]): Map<string, string[]> {
  const byPath = new Map<string, string[]>();
  for (const f of [...files].sort((a, b) => byNixName(a.file, b.file))) {
    for (const line of f.lines) {
      const p = linePath(line);
      if (p === undefined) continue;
      const list = byPath.get(p) ?? [];
      if (!list.includes(f.file)) list.push(f.file);
      byPath.set(p, list);
    }
  }
  return new Map([...byPath].filter(([, list]) => list.length > 1));
}

export const TMPFILES_RENDERING = {
  rulesFile: "00-nixos.conf",
  settingsFile: (name: string) => `${name}.conf`,
  lineFormat: "'<type>' '<path>' '<mode>' '<user>' '<group>' '<age>' <argument>",
  facts: [
    "each systemd.tmpfiles.settings.<name> becomes lib/tmpfiles.d/<name>.conf (pkgs.writeTextDir), systemd.tmpfiles.rules becomes lib/tmpfiles.d/00-nixos.conf; all systemd.tmpfiles.packages are symlinkJoin'ed into /etc/tmpfiles.d",
    "lines of a settings file: paths in attribute-name order, then types in attribute-name order; fields single-quoted without escaping (a ' in a path breaks the line); argument unquoted",
    "tmpfiles.d(5): all files are sorted by file name across directories; for a path named in several files the line from the lexicographically earliest file name applies, the others are logged as errors",
    "a ':' before mode/user/group (copyparty's rules: ':755', ':<user>', ':<group>') applies them only when the path is created, not to an existing one (copyparty's own comment: \"#: in front of things means it wont change it if the directory already exists.\"; Debian 12's systemd-tmpfiles 252 accepts the prefix)",
    "the default value of mode/user/group/age is \"-\" (systemd's default: 0755 for directories, the invoking user)",
  ],
  sources: [
    nix(P.tmpfiles, C.tmpfiles, "settingsEntryToRule = path: entry: '' '${entry.type}' '${path}' '${entry.mode}' '${entry.user}' '${entry.group}' '${entry.age}' ${entry.argument} ''; pathsToRules = mapAttrsToList (path: types: concatStrings (mapAttrsToList (_type: settingsEntryToRule path) types)); mkRuleFileContent = paths: concatStrings (pathsToRules paths);"),
    nix(P.tmpfiles, C.tmpfiles, "(pkgs.writeTextFile { name = \"nixos-tmpfiles.d\"; destination = \"/lib/tmpfiles.d/00-nixos.conf\"; text = '' # This file is created automatically and should not be modified. # Please change the option ‘systemd.tmpfiles.rules’ instead. ${concatStringsSep \"\\n\" cfg.rules} ''; }) ] ++ (mapAttrsToList (name: paths: pkgs.writeTextDir \"lib/tmpfiles.d/${name}.conf\" (mkRuleFileContent paths)) cfg.settings);"),
    nix(P.tmpfiles, C.tmpfiles, "environment.etc = { \"tmpfiles.d\".source = (pkgs.symlinkJoin { name = \"tmpfiles.d\"; paths = map (p: p + \"/lib/tmpfiles.d\") cfg.packages; … }) + \"/*\";"),
    { repo: "systemd/systemd", path: "man/tmpfiles.d.xml", commit: C.systemdMan, quote: "All configuration files are sorted by their filename in lexicographic order, regardless of which of the directories they reside in. If multiple files specify the same path, the entry in the file with the lexicographically earliest name will be applied. All other conflicting entries will be logged as errors." },
    unpinned(P.tmpfiles, "62272828691", "escapeArgument = lib.strings.escapeC [\"\\t\" \"\\n\" \"\\r\" \" \" \"\\\\\"]; settingsEntryToRule = path: entry: '' … '${entry.age}' ${escapeArgument entry.argument} '';"),
  ],
  render: renderTmpfilesSettings,
  duplicates: tmpfilesDuplicates,
} as const;

// ---------------------------------------------------------------------------------------------
// Packages. The stored nixpkgs copy is master (26.11 development) around mid-2026; attribute
// existence carries over to the nixos-26.05 branch for these long-standing packages, versions may not.
// ---------------------------------------------------------------------------------------------

export interface PackageFact {
  readonly attr: string;
  readonly exists: boolean;
  readonly version?: string;
  readonly note?: string;
  readonly source: Source;
}

export const PACKAGES_26_05: readonly PackageFact[] = [
  {
    attr: "copyparty",
    exists: true,
    version: "1.20.24 (stored master copy)",
    note: "added by nixpkgs PR 457402 \"copyparty: init at 1.19.20\" (2025-11-01), so in 25.11 and 26.05; copyparty's NixOS module is still only in copyparty's repository",
    source: nix("pkgs/by-name/co/copyparty/package.nix", C.pkgCopyparty, "pname = \"copyparty${nameSuffix}\"; version = \"1.20.24\";"),
  },
  {
    attr: "qbittorrent-nox",
    exists: true,
    version: "5.2.3 (stored master copy; the 26.05 branch's version not verified)",
    note: "qbittorrent-nox = qbittorrent.override { guiSupport = false; }",
    source: nix("pkgs/by-name/qb/qbittorrent-nox/package.nix", C.pkgQbittorrentNox, "qbittorrent.override { guiSupport = false; }"),
  },
  {
    attr: "qbittorrent",
    exists: true,
    version: "5.2.3 (stored master copy)",
    source: nix("pkgs/by-name/qb/qbittorrent/package.nix", C.pkgQbittorrent, "pname = \"qbittorrent\" + lib.optionalString (!guiSupport) \"-nox\"; version = \"5.2.3\";"),
  },
  {
    attr: "rclone",
    exists: true,
    version: "1.74.4 (stored master copy)",
    note: "built with fuse3 and cmount; wraps PATH with fuse3 (suffix) so /run/wrappers/bin/fusermount3 wins",
    source: nix("pkgs/by-name/rc/rclone/package.nix", C.pkgRclone, "pname = \"rclone\"; version = \"1.74.4\";"),
  },
  {
    attr: "unar",
    exists: true,
    version: "1.10.8 (stored master copy)",
    source: nix("pkgs/by-name/un/unar/package.nix", C.pkgUnar, "pname = \"unar\"; version = \"1.10.8\";"),
  },
  {
    attr: "nodejs",
    exists: true,
    note: "not read at its definition (pkgs/top-level/all-packages.nix is beyond the store's search window); pkgs/development/web/nodejs/ holds v20.nix, v22.nix, v24.nix, v25.nix, v26.nix in the stored copy",
    source: { repo: NIXPKGS, path: "pkgs/development/web/nodejs/v24.nix", commit: "5e0ee2f2102eed3ef0e0382ab675f7f0cd9569e3", quote: "(file listing only)" },
  },
];

/** Where the stored nixpkgs copy stands, for readers of this file. */
export const NIXPKGS_COPY_READ = nix("lib/.version", C.libVersion, "26.11");
