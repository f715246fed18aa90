/**
 * Every port the host listens on: address, who can reach it, what it asks for, and whether the
 * firewall opens it. The docs print it; test/targets/ports.test.ts checks it against the generated
 * firewall (through the NixOS model) and the generated listen addresses.
 *
 * Defaults the generated modules leave alone, with where they were read:
 * - qBittorrent's WebUI listens on every address: `Preferences/WebUI/Address` defaults to `*`
 *   (qBittorrent src/base/preferences.cpp, release-5.2.3).
 * - Sonarr, Radarr and Prowlarr bind `*` (Sonarr src/NzbDrone.Core/Configuration/ConfigFileProvider.cs:
 *   BindAddress `defaultValue = "*"`); no NixOS servarr module sets a bind address.
 * - Jellyfin binds every interface (nixpkgs jellyfin.nix sets no address; Jellyfin: "If empty, all
 *   interfaces will be used").
 * - The qBittorrent module's openFirewall opens its two ports over TCP only (nixpkgs
 *   qbittorrent.nix: "opening both the webuiPort and torrentPort over TCP").
 */
import type { SpecModel } from "../../spec/schema.ts";
import { JELLYFIN_DISCOVERY_PORT } from "../nixos/modules.ts";
import { hasRc, rcListen } from "./units.ts";
import { rcProxyPath } from "../web.ts";

export interface Listener {
  readonly service: string;
  readonly protocol: "TCP" | "UDP";
  readonly port: number;
  /** The address it binds, as the service spells it. */
  readonly address: string;
  readonly reach: "LAN" | "this host only" | "Internet (peers)";
  readonly credentials: string;
  /** Whether the generated NixOS configuration opens it in the firewall. */
  readonly firewall: boolean;
}

export const EVERY_ADDRESS = "every address";

export function listeners(spec: SpecModel): Listener[] {
  const e = spec.endpoints;
  const accounts = Object.keys(spec.copyparty.accounts);
  const anonymous = Object.entries(spec.copyparty.volumes).filter(([, v]) => v.read.includes("*")).map(([url]) => url);
  const open = spec.appLogins === "created";
  const untilLogins = open ? "" : ' Closed to the LAN until appLogins is "created": before its first-run setup it lets anyone in.';
  const arr = (name: string, port: number): Listener => ({
    service: name,
    protocol: "TCP",
    port,
    address: EVERY_ADDRESS,
    reach: open ? "LAN" : "this host only",
    credentials: `its own login, from every address (AuthenticationRequired=Enabled); the API key for apps.${untilLogins}`,
    firewall: open,
  });
  const rcPath = rcProxyPath(spec);
  return [
    {
      service: "nginx (dashboard)",
      protocol: "TCP",
      port: spec.dashboard.port,
      address: "0.0.0.0",
      reach: "LAN",
      credentials: rcPath ? `none for the page and the redirects; the RC login on \`${rcPath}\` (core/stats and vfs/stats only), refused to pages of other origins` : "none (a page and redirects)",
      firewall: true,
    },
    {
      service: e.qbittorrentWebui.name,
      protocol: "TCP",
      port: e.qbittorrentWebui.port,
      address: EVERY_ADDRESS,
      reach: "LAN",
      credentials: spec.qbittorrent.bypassLocalhostAuth
        ? "its WebUI login from the LAN; processes on this host pass without (nothing on the host forwards LAN requests to it: nginx only redirects, the RC asks for its login)"
        : "its WebUI login, from every address",
      firewall: true,
    },
    { service: e.qbittorrentPeer.name, protocol: "TCP", port: e.qbittorrentPeer.port, address: EVERY_ADDRESS, reach: "Internet (peers)", credentials: "none (BitTorrent)", firewall: true },
    { service: e.jellyfin.name, protocol: "TCP", port: e.jellyfin.port, address: EVERY_ADDRESS, reach: open ? "LAN" : "this host only", credentials: `Jellyfin's own users (first-run wizard).${untilLogins}`, firewall: open },
    { service: `${e.jellyfin.name} discovery`, protocol: "UDP", port: JELLYFIN_DISCOVERY_PORT, address: EVERY_ADDRESS, reach: open ? "LAN" : "this host only", credentials: "none (answers with the server's name and address)", firewall: open },
    {
      service: e.copyparty.name,
      protocol: "TCP",
      port: e.copyparty.port,
      address: "0.0.0.0",
      reach: "LAN",
      credentials: `copyparty accounts (${accounts.join(", ") || "none"})${anonymous.length > 0 ? `; anonymous read on ${anonymous.join(", ")}, as the spec says` : "; no anonymous access"}`,
      firewall: true,
    },
    ...(hasRc(spec)
      ? [{ service: "rclone RC", protocol: "TCP" as const, port: rcListen(spec).port, address: rcListen(spec).address, reach: "this host only" as const, credentials: "the RC login, for every method (stats included); a privileged port, so no other account can take it", firewall: false }]
      : []),
    arr(e.sonarr.name, e.sonarr.port),
    arr(e.radarr.name, e.radarr.port),
    arr(e.prowlarr.name, e.prowlarr.port),
  ];
}
