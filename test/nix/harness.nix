# Evaluates one generated module outside NixOS: nixpkgs is not available in the test environment,
# so `lib` and `pkgs` hold just what the modules use, and `config` holds the values other modules
# (sops-nix, the flake) would provide. Store paths are given as plain directories so the result
# can be compared with the standalone unit files.
{ module, binPrefix, runtimeDir, secretsDir }:
let
  lib = {
    mkForce = content: { _type = "override"; priority = 50; inherit content; };
    mkOption = attrs: attrs // { _type = "option"; };
    types = { package = "package"; path = "path"; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
  };
  pkgs = {
    nodejs = binPrefix;
    rclone = binPrefix;
    unar = binPrefix;
    writeTextDir = name: text: { _type = "writeTextDir"; inherit name text; };
  };
  config = {
    services.media-pipeline = {
      package = runtimeDir;
      sopsFile = "/host/secrets/b2.yaml";
    };
    # Each template lies where the standalone units expect its file: secretsDir/<template name>.
    sops.templates = builtins.listToAttrs (map (name: { inherit name; value.path = "${secretsDir}/${name}"; })
      [ "rclone-b2-mount.env" "rclone-b2-upload.env" "rclone-b2-cleanup.env" "rclone-rc.htpasswd" "rclone-rc.netrc"
        "sonarr.env" "radarr.env" "prowlarr.env" ]);
    # Each sops secret's file: secretsDir/<key with '/' as '-'>, where the standalone units expect it
    # (copyparty's password, and the wire job's credentials).
    sops.secrets = builtins.listToAttrs (map (name: { inherit name; value.path = "${secretsDir}/${builtins.replaceStrings [ "/" ] [ "-" ] name}"; })
      [ "copyparty/admin_password" "sonarr/api_key" "sonarr/password" "radarr/api_key" "radarr/password" "prowlarr/api_key" "prowlarr/password" "jellyfin/admin_password" ]);
    # Every placeholder reads as <SOPS:key>.
    sops.placeholder = builtins.mapAttrs (name: _: "<SOPS:${name}>") (builtins.listToAttrs (map (name: { inherit name; value = null; }) [
      "b2/mount/key_id" "b2/mount/application_key" "b2/upload/key_id" "b2/upload/application_key"
      "b2/cleanup/key_id" "b2/cleanup/application_key" "rclone/rc_password" "copyparty/admin_password"
      "sonarr/api_key" "sonarr/password" "radarr/api_key" "radarr/password" "prowlarr/api_key" "prowlarr/password" "jellyfin/admin_password"
    ]));
    services.nginx.user = "nginx";
  };
  stripPaths = v:
    if builtins.isPath v then "<path:${baseNameOf v}>"
    else if builtins.isList v then map stripPaths v
    else if builtins.isAttrs v then builtins.mapAttrs (_: stripPaths) v
    else v;
in
stripPaths ((import module) { inherit config lib pkgs; })
