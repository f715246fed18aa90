# Evaluates one generated module outside NixOS: nixpkgs is not available in the test environment,
# so `lib` and `pkgs` hold just what the modules use, and `config` holds the values other modules
# (sops-nix, the flake) would provide. Store paths are given as plain directories so the result
# can be compared with the standalone unit files.
{ module, binPrefix, runtimeDir, environmentFile }:
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
    sops.templates."rclone-b2.env".path = environmentFile;
    sops.placeholder = {
      "b2/account_id" = "<SOPS:b2/account_id>";
      "b2/application_key" = "<SOPS:b2/application_key>";
    };
  };
  stripPaths = v:
    if builtins.isPath v then "<path:${baseNameOf v}>"
    else if builtins.isList v then map stripPaths v
    else if builtins.isAttrs v then builtins.mapAttrs (_: stripPaths) v
    else v;
in
stripPaths ((import module) { inherit config lib pkgs; })
