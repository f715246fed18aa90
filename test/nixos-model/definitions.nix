# Reads the definitions our modules make, as data, for the model in merge.ts: the flake's
# nixosModules.default and every file it imports, each module applied to a `lib` whose mkIf,
# mkMerge and mkOverride return tagged values instead of acting, so the model sees priorities and
# conditions where the module wrote them. Values from outside our modules (store paths, the sops
# placeholders) are fixed strings. This is a reading aid, not a module system: merge.ts merges.
{ root }:
let
  lib = rec {
    mkOverride = priority: content: { _type = "override"; inherit priority content; };
    mkForce = mkOverride 50;
    mkDefault = mkOverride 1000;
    mkOptionDefault = mkOverride 1500;
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkOption = attrs: attrs // { _type = "option"; };
    types = { package = { _type = "type"; name = "package"; }; path = { _type = "type"; name = "path"; }; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
  };
  store = name: "/nix/store/00000000000000000000000000000000-${name}";
  pkgs = {
    nodejs = store "nodejs";
    rclone = store "rclone";
    unar = store "unar";
    writeTextDir = name: text: store "writeTextDir-${name}";
    stdenv.hostPlatform.system = "x86_64-linux";
  };
  config = {
    services.media-pipeline.package = store "media-pipeline-runtime";
    # The host sets it, as in the README's deploy example.
    services.media-pipeline.sopsFile = "/etc/nixos/secrets/b2.yaml";
    # sops-nix's default paths: templates in /run/secrets/rendered/<name>, secrets in /run/secrets/<name>.
    sops.templates = builtins.listToAttrs (map (name: { inherit name; value.path = "/run/secrets/rendered/${name}"; })
      [ "rclone-b2-mount.env" "rclone-b2-upload.env" "rclone-b2-cleanup.env" "rclone-rc.htpasswd" "rclone-rc.netrc"
        "sonarr.env" "radarr.env" "prowlarr.env" ]);
    sops.secrets = builtins.listToAttrs (map (name: { inherit name; value.path = "/run/secrets/${name}"; })
      [ "copyparty/admin_password" "sonarr/api_key" "sonarr/password" "radarr/api_key" "radarr/password" "prowlarr/api_key" "prowlarr/password" "jellyfin/admin_password" ]);
    # sops-nix's placeholder for a secret (modules/sops/templates/default.nix).
    sops.placeholder = builtins.listToAttrs (map (name: { inherit name; value = "<SOPS:${builtins.hashString "sha256" name}:PLACEHOLDER>"; }) [
      "b2/mount/key_id" "b2/mount/application_key" "b2/upload/key_id" "b2/upload/application_key"
      "b2/cleanup/key_id" "b2/cleanup/application_key" "rclone/rc_password" "copyparty/admin_password"
      "sonarr/api_key" "sonarr/password" "radarr/api_key" "radarr/password" "prowlarr/api_key" "prowlarr/password" "jellyfin/admin_password"
    ]);
    # The nginx module's default account (nixos/modules/services/web-servers/nginx/default.nix: user = "nginx").
    services.nginx.user = "nginx";
  };
  # The flake's inputs, as markers: merge.ts puts the upstream modules' facts in their place.
  flake = (import (root + "/flake.nix")).outputs {
    self = { outPath = root; packages.x86_64-linux.runtime = store "media-pipeline-runtime"; };
    nixpkgs = { inherit lib; legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: pkgs); };
    sops-nix.nixosModules.sops = { _type = "upstream"; name = "sops-nix"; };
    copyparty = {
      nixosModules.default = { _type = "upstream"; name = "copyparty"; };
      packages.x86_64-linux.copyparty = { type = "derivation"; name = "copyparty"; outPath = store "copyparty"; meta.mainProgram = "copyparty"; };
    };
  };
  # A path becomes its file name relative to the repository, as nixos-rebuild's messages name files.
  rel = p: let s = toString p; r = toString root; in
    if builtins.substring 0 (builtins.stringLength r) s == r then builtins.substring (builtins.stringLength r + 1) (-1) s else s;
  show = v:
    if builtins.isPath v then { _type = "path"; path = rel v; }
    else if builtins.isList v then map show v
    else if builtins.isFunction v then { _type = "function"; }
    else if builtins.isAttrs v then builtins.mapAttrs (_: show) v
    else v;
  load = file: fn: { file = rel file; module = show (fn { inherit config lib pkgs; }); };
  # Follows imports that are files of ours; directories mean their default.nix.
  collect = entry:
    let
      imports = entry.module.imports or [ ];
      paths = builtins.filter (i: builtins.isAttrs i && (i._type or "") == "path") imports;
      asFile = p: let f = root + "/${p.path}"; in if builtins.pathExists (f + "/default.nix") then f + "/default.nix" else f;
    in
    [ entry ] ++ builtins.concatLists (map (p: collect (load (asFile p) (import (asFile p)))) paths);
in
collect { file = "flake.nix"; module = show (flake.nixosModules.default { inherit config lib pkgs; }); }
