/** The generated NixOS modules, checked with the real Nix evaluator (Debian's nix-bin). */
import { execa } from "execa";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import builder from "../../spec/builder.ts";
import { escapeNixString } from "../../generators/render/nix.ts";
import { evalModule, evalNix, generateFrom, requireTool, ROOT, specWith, writeTree } from "../helpers.ts";
import { unitLines } from "../../generators/render/systemd.ts";

const OUT = join(ROOT, "out");
const modules = readdirSync(join(OUT, "nixos")).filter((f) => f.endsWith(".nix"));

describe("out/nixos", () => {
  it("holds one module per concern, named as the seed names them", () => {
    expect(modules.sort()).toEqual(
      ["copyparty", "default", "jellyfin", "prowlarr", "qbittorrent", "radarr", "rclone-b2", "secrets", "sonarr", "web", "wire"].map((m) => `${m}.nix`),
    );
  });

  it.each(modules)("%s parses with nix-instantiate --parse", async (file) => {
    const nix = requireTool("nix-instantiate");
    const result = await execa(nix, ["--parse", join(OUT, "nixos", file)], { reject: false });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });
});

describe("flake.nix", () => {
  it("pins the NixOS release the spec names, as the README's deploy example does", () => {
    const release = builder.host.nixosRelease;
    const pin = `"github:NixOS/nixpkgs/nixos-${release}"`;
    expect(readFileSync(join(ROOT, "flake.nix"), "utf8")).toContain(`nixpkgs.url = ${pin};`);
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain(`inputs.nixpkgs.url = ${pin};`);
    expect(readFileSync(join(ROOT, "flake.nix"), "utf8")).toContain("services.copyparty.package = lib.mkDefault copyparty.packages.${system}.copyparty;");
  });

  it("parses, and exposes the generated modules, the runtime package and a dev shell", async () => {
    const nix = requireTool("nix-instantiate");
    const result = await execa(nix, ["--parse", join(ROOT, "flake.nix")], { reject: false });
    expect(result.exitCode, result.stderr).toBe(0);
    const text = readFileSync(join(ROOT, "flake.nix"), "utf8");
    expect(text).toMatch(/nixosModules\.default = /);
    expect(text).toContain("./out/nixos");
    expect(text).toContain("install -Dm644 media-pipeline.mjs $out/lib/media-pipeline.mjs");
    expect(text).toMatch(/devShells = /);
  });
});

describe("each module evaluates to the intended values", () => {
  const m: Record<string, any> = {};
  beforeAll(async () => {
    for (const file of modules) m[file.replace(/\.nix$/, "")] = await evalModule(OUT, file.replace(/\.nix$/, ""));
  });

  it("default: the shared user, the directories and the runtime config", () => {
    const d = m.default;
    expect(d.imports).toHaveLength(10);
    expect(d.config.users.users.media).toMatchObject({ isSystemUser: true, group: "media" });
    expect(d.config.users.groups).toHaveProperty("media");
    const tmpfiles = d.config.systemd.tmpfiles.settings["media-pipeline"];
    const local = builder.directories.filter((x) => x.filesystem === "root").map((x) => x.path);
    for (const path of local) expect(tmpfiles[path].d, path).toEqual({ user: "media", group: "media", mode: "0775" });
    expect(tmpfiles["/media/b2"].d).toEqual({ user: "rclone-b2", group: "rclone-b2", mode: "0755" });
    for (const path of ["/var/lib/media-pipeline", "/run/media-pipeline"]) expect(tmpfiles[path].d, path).toEqual({ user: "root", group: "media-pipeline", mode: "2770" });
    expect(d.config.users.users["rclone-b2"]).toMatchObject({ isSystemUser: true, group: "rclone-b2" });
    for (const job of ["mp-upload", "mp-cleanup"]) expect(d.config.users.users[job], job).toMatchObject({ isSystemUser: true, group: "media", extraGroups: ["media-pipeline"] });
    expect(tmpfiles).not.toHaveProperty("/media/b2/tv");
    expect(d.config.environment.etc["media-pipeline/config.json"].source).toBe("<path:config.json>");
    expect(d.options.services["media-pipeline"].package._type).toBe("option");
  });

  it("qbittorrent: ports, user, temp and save paths, automatic torrent management", () => {
    const q = m.qbittorrent.services.qbittorrent;
    expect(q).toMatchObject({ enable: true, user: "media", group: "media", profileDir: "/var/lib/qBittorrent", webuiPort: 8080, torrentingPort: 6881 });
    expect(q.serverConfig.BitTorrent.Session).toEqual({
      TempPathEnabled: true,
      TempPath: "/var/lib/qBittorrent/downloading",
      DefaultSavePath: "/var/lib/qBittorrent/completed",
      DisableAutoTMMByDefault: false,
    });
    expect(q.serverConfig.LegalNotice.Accepted).toBe(true);
    expect(q.serverConfig.Preferences.WebUI.LocalHostAuth).toBe(false);
    expect(m.qbittorrent.systemd.services.qbittorrent.serviceConfig.UMask).toBe("0002");
  });

  it("qbittorrent: the timers run at the seed's intervals", () => {
    const t = m.qbittorrent.systemd.timers;
    expect(t["qbt-upload-b2"]).toMatchObject({ wantedBy: ["timers.target"], timerConfig: { OnBootSec: "1min", OnUnitActiveSec: "2min" } });
    expect(t["qbt-cleanup"]).toMatchObject({ wantedBy: ["timers.target"], timerConfig: { OnBootSec: "5min", OnUnitActiveSec: "10min" } });
    const cat = m.qbittorrent.systemd.services["qbt-categories"];
    expect(cat.after).toEqual(["qbittorrent.service"]);
    expect(cat.wantedBy).toEqual(["multi-user.target"]);
    expect(cat.serviceConfig.ExecStart).toBe("/usr/bin/node /opt/media-pipeline/lib/media-pipeline.mjs categories --config /etc/media-pipeline/config.json");
  });

  it("rclone-b2: a notify service carrying exactly the spec's flags, and userAllowOther", () => {
    const r = m["rclone-b2"];
    expect(r.programs.fuse.userAllowOther).toBe(true);
    const unit = r.systemd.services["rclone-b2-mount"];
    expect(unit.serviceConfig.Type).toBe("notify");
    expect(unit.serviceConfig.EnvironmentFile).toBe(`${builder.standalone.secretsDir}/rclone-b2-mount.env`);
    expect(unit.serviceConfig.User).toBe(builder.accounts.mount);
    expect(unit.path).toEqual(["/run/wrappers"]);
    const args = unit.serviceConfig.ExecStart.split(" ");
    expect(args.slice(0, 4)).toEqual(["/usr/bin/rclone", "mount", "b2:entertainment-netmount", "/media/b2"]);
    const expected = builder.rclone.mount.flags.map((f) => (f.value === true ? f.flag : `${f.flag}=${f.value}`));
    expect(args.slice(4)).toEqual([...expected, "--rc-addr=127.0.0.1:572", "--rc-baseurl=/rclone", "--cache-dir=/var/cache/rclone-b2"]);
    // A privileged RC port, and the one capability that binds it.
    expect(unit.serviceConfig).toMatchObject({ AmbientCapabilities: "CAP_NET_BIND_SERVICE", CapabilityBoundingSet: "CAP_SYS_ADMIN CAP_NET_BIND_SERVICE" });
    expect(args).toEqual(expect.arrayContaining(["--vfs-cache-mode=full", "--vfs-cache-max-size=150G", "--vfs-cache-max-age=7d", "--dir-cache-time=1m", "--allow-other", "--read-only", "--buffer-size=512M", "--vfs-read-ahead=1G", "--vfs-read-chunk-streams=4", "--vfs-fast-fingerprint", "--rc"]));
    expect(args.some((a: string) => a.startsWith("--rc-no-auth") || a.startsWith("--rc-web-gui") || a.startsWith("--rc-user") || a.startsWith("--rc-pass"))).toBe(false);
  });

  it("media services run as the shared user with a group-writable umask", () => {
    for (const name of ["jellyfin", "sonarr", "radarr", "copyparty"]) {
      expect(m[name].services[name], name).toMatchObject({ enable: true, user: "media", group: "media" });
    }
    expect(m.sonarr.services.sonarr.settings.server.port).toBe(8989);
    expect(m.radarr.services.radarr.settings.server.port).toBe(7878);
    expect(m.prowlarr.services.prowlarr.settings.server.port).toBe(9696);
    expect(m.copyparty.services.copyparty.settings.p).toEqual([3923]);
    // Forced only where the upstream module sets its own UMask (UPSTREAM_SETS); qBittorrent's sets none.
    for (const name of ["jellyfin", "sonarr", "radarr", "copyparty"]) {
      expect(m[name].systemd.services[name].serviceConfig.UMask, name).toEqual({ _type: "override", priority: 50, content: "0002" });
    }
    expect(m.qbittorrent.systemd.services.qbittorrent.serviceConfig.UMask).toBe("0002");
  });

  it("prowlarr keeps its upstream sandbox (DynamicUser): it touches no media files", () => {
    expect(m.prowlarr).not.toHaveProperty("systemd");
  });

  it("copyparty: upstream's own settings defaults restated, and its tmpfiles rules replaced by default.nix's", () => {
    expect(m.copyparty.services.copyparty.settings).toMatchObject({ "no-reload": true, hist: "/var/cache/copyparty" });
    expect(m.copyparty.systemd.tmpfiles.settings.copyparty).toEqual({ _type: "override", priority: 50, content: {} });
    const ours = m.default.config.systemd.tmpfiles.settings["media-pipeline"];
    for (const volume of Object.values(m.copyparty.services.copyparty.volumes) as { path: string }[]) expect(ours, volume.path).toHaveProperty([volume.path]);
  });

  it("secrets: only sops references and placeholders, no values", () => {
    const s = m.secrets.sops;
    expect(s.age.keyFile).toBe("/var/lib/sops-nix/key.txt");
    expect(Object.keys(s.secrets).sort()).toEqual([
      "b2/cleanup/application_key", "b2/cleanup/key_id", "b2/mount/application_key", "b2/mount/key_id",
      "b2/upload/application_key", "b2/upload/key_id", "copyparty/admin_password", "jellyfin/admin_password",
      "prowlarr/api_key", "prowlarr/password", "radarr/api_key", "radarr/password", "rclone/rc_password", "sonarr/api_key", "sonarr/password",
    ]);
    const env = (role: string) => `RCLONE_CONFIG_B2_TYPE=b2\nRCLONE_CONFIG_B2_ACCOUNT=<SOPS:b2/${role}/key_id>\nRCLONE_CONFIG_B2_KEY=<SOPS:b2/${role}/application_key>\n`;
    expect(s.templates["rclone-b2-mount.env"].content).toBe(`${env("mount")}RCLONE_RC_USER=admin\nRCLONE_RC_PASS=<SOPS:rclone/rc_password>\n`);
    expect(s.templates["rclone-b2-upload.env"].content).toBe(env("upload"));
    expect(s.templates["rclone-b2-cleanup.env"].content).toBe(env("cleanup"));
    expect(s.templates["rclone-rc.htpasswd"].content).toBe("admin:{PLAIN}<SOPS:rclone/rc_password>\n");
    // Each *arr reads its own API key from its environment; the wire job reads every key and password.
    expect(s.templates["sonarr.env"].content).toBe("SONARR__AUTH__APIKEY=<SOPS:sonarr/api_key>\n");
    expect(s.templates["radarr.env"].content).toBe("RADARR__AUTH__APIKEY=<SOPS:radarr/api_key>\n");
    expect(s.templates["prowlarr.env"].content).toBe("PROWLARR__AUTH__APIKEY=<SOPS:prowlarr/api_key>\n");
    expect(s.templates).not.toHaveProperty(["media-pipeline-wire.env"]);
    // Each file is readable by its one reader only: no group, mode 0400 (sops-nix gives a template no group unless asked).
    const owners = Object.fromEntries(Object.entries(s.templates).map(([name, t]: [string, any]) => [name, `${t.owner} ${t.mode} ${t.group ?? "-"}`]));
    expect(owners).toEqual({
      "rclone-b2-mount.env": "rclone-b2 0400 -",
      "rclone-b2-upload.env": "mp-upload 0400 -",
      "rclone-b2-cleanup.env": "mp-cleanup 0400 -",
      "rclone-rc.htpasswd": "nginx 0400 -",
      "rclone-rc.netrc": "root 0400 -",
      // systemd reads an EnvironmentFile as root: the apps' keys are root's, not the media account's.
      "sonarr.env": "root 0400 -",
      "radarr.env": "root 0400 -",
      "prowlarr.env": "root 0400 -",
    });
  });

  it("web: nginx on port 80, a redirect to the configured host per dashboard path, the RC proxied with its login", () => {
    const host = m.web.services.nginx.virtualHosts.builder;
    expect(host.listen).toEqual([{ addr: "0.0.0.0", port: 80 }]);
    const { "/rclone/": rcRest, "= /rclone/": rcPage, "= /rclone/core/stats": core, "= /rclone/vfs/stats": vfs, ...redirects } = host.locations;
    const rc = core;
    // Only the two stats reach the RC through nginx; anything else under the RC path is 404.
    expect(rcRest).toEqual({ return: "404" });
    expect(vfs).toEqual(core);
    expect(rcPage.extraConfig).toContain("try_files /rclone/index.html =404;");
    expect(rcPage.extraConfig).toContain(`auth_basic_user_file ${builder.standalone.secretsDir}/rclone-rc.htpasswd;`);
    expect(redirects).toEqual({
      "/qbt/": { return: "302 http://builder:8080/" },
      "/jellyfin/": { return: "302 http://builder:8096/" },
      "/files/": { return: "302 http://builder:3923/" },
      "/sonarr/": { return: "302 http://builder:8989/" },
      "/radarr/": { return: "302 http://builder:7878/" },
      "/prowlarr/": { return: "302 http://builder:9696/" },
    });
    expect(rc.proxyPass).toBe("http://127.0.0.1:572");
    expect(rc.extraConfig).toContain(`auth_basic_user_file ${builder.standalone.secretsDir}/rclone-rc.htpasswd;`);
    expect(rc.extraConfig).toContain("if ($mp_foreign_origin) {");
    expect(m.web.services.nginx.serverTokens).toBe(false);
    expect(host.root).toBe("<path:www>");
  });
});

describe("the NixOS module and the standalone unit agree", () => {
  /** The [Service] section of a unit file as key → list of values. */
  function serviceSection(text: string): Record<string, string[]> {
    const section = text.split(/^\[/m).find((s) => s.startsWith("Service]"))!;
    const out: Record<string, string[]> = {};
    for (const line of section.split("\n").slice(1)) {
      const i = line.indexOf("=");
      if (i > 0) (out[line.slice(0, i)] ??= []).push(line.slice(i + 1));
    }
    return out;
  }
  const units = [
    ["qbittorrent", "qbt-upload-b2"],
    ["qbittorrent", "qbt-cleanup"],
    ["qbittorrent", "qbt-categories"],
    ["rclone-b2", "rclone-b2-mount"],
  ] as const;
  it.each(units)("%s.nix serviceConfig of %s equals out/systemd's [Service]", async (module, unit) => {
    const evaluated = (await evalModule(OUT, module)).systemd.services[unit].serviceConfig as Record<string, any>;
    const asLines = Object.fromEntries(Object.entries(evaluated).map(([k, v]) => [k, unitLines(v)]));
    const file = readFileSync(join(OUT, "systemd", `${unit}.service`), "utf8");
    expect(asLines).toEqual(serviceSection(file));
  });
});

describe("Nix strings round-trip through the real evaluator", () => {
  const samples = ["plain", 'quo"te', "back\\slash", "dollar $HOME", "anti ${quotation}", "$${x}", "new\nline\ttab", "unicode ✓ Ωmega 日本", "ends with $"];
  it.each(samples)("%j", async (text) => {
    expect(await evalNix(`"${escapeNixString(text)}"`)).toBe(text);
  });
  it("a show name with Nix metacharacters survives generation into a module", async () => {
    const weird = 'Show "${evil}" \\ $HOME';
    const files = generateFrom(specWith((s) => void (s.endpoints.sonarr.purpose = weird)));
    const dir = writeTree(files);
    const docs = files.find((f) => f.path === "docs/media-pipeline.md")!.contents;
    expect(docs).toContain(weird.replace(/\|/g, "\\|"));
    const defaultModule = await evalModule(dir, "sonarr");
    expect(defaultModule.services.sonarr.settings.server.port).toBe(8989);
  });
});

describe("the apps' ports open to the LAN only once their logins exist (spec appLogins; adversary, issue 12)", () => {
  it.each([
    ["not-yet-created", false],
    ["created", true],
  ] as const)("appLogins %s: Sonarr, Radarr, Prowlarr and Jellyfin open %s", async (appLogins, open) => {
    const dir = writeTree(generateFrom(specWith((s) => void (s.appLogins = appLogins))));
    for (const app of ["sonarr", "radarr", "prowlarr"]) expect((await evalModule(dir, app)).services[app].openFirewall, app).toBe(open);
    const jellyfin = await evalModule(dir, "jellyfin");
    expect(jellyfin.services.jellyfin.openFirewall).toBe(false);
    expect(jellyfin.networking?.firewall?.allowedTCPPorts ?? []).toEqual(open ? [8096] : []);
    expect(jellyfin.networking?.firewall?.allowedUDPPorts ?? []).toEqual(open ? [7359] : []);
  });
});
