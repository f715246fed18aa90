/**
 * The docs' table of listening ports against what the generated configuration really opens and binds:
 * the firewall from our modules merged with the model of NixOS's own (test/nixos-model, where
 * openFirewall's ports are facts read from nixpkgs), the addresses from the generated units and modules.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { EVERY_ADDRESS, listeners } from "../../generators/model/ports.ts";
import builder from "../../spec/builder.ts";
import { parseSpec } from "../../spec/validate.ts";
import { fileOf, generateFrom, ROOT } from "../helpers.ts";
import { evaluateSystem, lookup, readOurModules, type OurModule } from "../nixos-model/system.ts";

const spec = parseSpec(builder);
const table = listeners(spec);
let config: Record<string, unknown>;
let ours: OurModule[];

beforeAll(async () => {
  ours = await readOurModules(ROOT);
  config = evaluateSystem(ours).config;
});

describe("the port table matches the generated firewall and listen addresses (NixOS model: upstream facts with their sources)", () => {
  it("the firewall opens exactly the ports the table marks open, TCP and UDP", () => {
    const opened = (key: string) => [...new Set((lookup(config, key) as number[] | undefined) ?? [])].sort((a, b) => a - b);
    const marked = (protocol: "TCP" | "UDP") => [...new Set(table.filter((l) => l.firewall && l.protocol === protocol).map((l) => l.port))].sort((a, b) => a - b);
    expect(opened("networking.firewall.allowedTCPPorts")).toEqual(marked("TCP"));
    expect(opened("networking.firewall.allowedUDPPorts")).toEqual(marked("UDP"));
  });

  it("the rclone RC listens where the table says, and its port is not opened", () => {
    const rc = table.find((l) => l.service === "rclone RC")!;
    const exec = fileOf(generateFrom(builder), "systemd/rclone-b2-mount.service").match(/^ExecStart=(.*)$/m)![1]!;
    expect(exec.split(" ")).toContain(`--rc-addr=${rc.address}:${rc.port}`);
    expect(rc.address).toBe("127.0.0.1");
    expect(exec).not.toMatch(/--rc-no-auth|--rc-web-gui/);
    expect(rc.firewall).toBe(false);
  });

  it("nginx and copyparty bind the addresses the table names", () => {
    const nginx = table.find((l) => l.service.startsWith("nginx"))!;
    expect(lookup(config, "services.nginx.virtualHosts.builder.listen")).toEqual([{ addr: nginx.address, port: nginx.port }]);
    const copyparty = table.find((l) => l.service === builder.endpoints.copyparty.name)!;
    expect(lookup(config, "services.copyparty.settings")).toMatchObject({ i: copyparty.address, p: [copyparty.port] });
  });

  it("services the table says bind every address leave their upstream default alone (qBittorrent `*`, Servarr `*`, Jellyfin all)", () => {
    const everywhere = table.filter((l) => l.address === EVERY_ADDRESS).map((l) => l.service);
    expect(everywhere).toEqual(expect.arrayContaining(["qBittorrent WebUI", "Jellyfin", "Sonarr", "Radarr", "Prowlarr"]));
    expect(lookup(config, "services.qbittorrent.serverConfig.Preferences.WebUI.Address")).toBeUndefined();
    for (const arr of ["sonarr", "radarr", "prowlarr"]) expect(lookup(config, `services.${arr}.settings.server.bindaddress`), arr).toBeUndefined();
  });

  it("no copyparty volume is anonymous unless the spec writes \"*\", and then the table says so", () => {
    const volumes = lookup(config, "services.copyparty.volumes") as Record<string, { access: { r: unknown } }>;
    for (const [url, v] of Object.entries(volumes)) expect(v.access.r, url).toEqual(builder.copyparty.volumes[url]!.read);
    const withAnonymous = listeners(parseSpec({ ...builder, copyparty: { ...builder.copyparty, volumes: { ...builder.copyparty.volumes, "/tv": { path: "/media/arr/tv", read: ["*"] } } } }));
    expect(withAnonymous.find((l) => l.service === "Copyparty")!.credentials).toContain("anonymous read on /tv");
  });

  it("the docs print the table", () => {
    const docs = fileOf(generateFrom(builder), "docs/media-pipeline.md");
    for (const l of table) expect(docs).toContain(`| ${l.service} | ${l.port}/${l.protocol} |`);
  });
});
