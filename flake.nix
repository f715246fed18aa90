{
  description = "media-pipeline: a NixOS home media server (qBittorrent, Sonarr, Radarr, Prowlarr, Jellyfin, Copyparty, B2 via rclone), compiled from a typed spec";

  inputs = {
    # The release spec/builder.ts names in host.nixosRelease (a test keeps the two equal).
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    sops-nix = {
      url = "github:Mic92/sops-nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    copyparty = {
      url = "github:9001/copyparty";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = { self, nixpkgs, sops-nix, copyparty }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      # The runtime the upload, cleanup and categories units run: the committed bundle in
      # out/runtime, which needs Node.js and nothing from npm.
      packages = forAllSystems (pkgs: rec {
        runtime = pkgs.stdenvNoCC.mkDerivation {
          pname = "media-pipeline-runtime";
          version = "0.1.0";
          src = ./out/runtime;
          nativeBuildInputs = [ pkgs.makeWrapper ];
          installPhase = ''
            install -Dm644 media-pipeline.mjs $out/lib/media-pipeline.mjs
            install -Dm644 config.schema.json $out/share/media-pipeline/config.schema.json
            makeWrapper ${pkgs.nodejs}/bin/node $out/bin/media-pipeline \
              --add-flags $out/lib/media-pipeline.mjs \
              --prefix PATH : ${pkgs.lib.makeBinPath [ pkgs.rclone pkgs.unar ]}
          '';
          meta.mainProgram = "media-pipeline";
        };
        default = runtime;
      });

      # Import this in the host's nixosConfiguration; out/nixos is generated from the spec.
      nixosModules.default = { lib, pkgs, ... }:
        let
          system = pkgs.stdenv.hostPlatform.system;
        in
        {
          imports = [
            ./out/nixos
            sops-nix.nixosModules.sops
            copyparty.nixosModules.default
          ];
          services.media-pipeline.package = self.packages.${system}.runtime;
          # copyparty's module defaults to pkgs.copyparty, which not every nixpkgs has; its own flake's
          # package always matches its module, and is built with this flake's nixpkgs (follows above).
          services.copyparty.package = lib.mkDefault copyparty.packages.${system}.copyparty;
        };

      # The tools the test suite runs against.
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = with pkgs; [ nodejs_20 nix just rclone unar nginx qbittorrent-nox mktorrent chromium diffutils ];
        };
      });
    };
}
