/**
 * Fakes of Sonarr, Radarr, Prowlarr and Jellyfin for testing the wire job: stateful MODELS of their
 * HTTP APIs written from the apps' sources, checked against the published OpenAPI documents when
 * those are present (../shared/contracts). See servarr.ts and jellyfin.ts for the facts and sources.
 */
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Reply } from "./http.ts";
import type { FakeJellyfin } from "./jellyfin.ts";
import type { FakeServarr } from "./servarr.ts";

export type { FakeBase, WriteRecord } from "./http.ts";
export { startFakeServarr, CONTRACT_PATCHES } from "./servarr.ts";
export type { FakeServarr, ServarrApp, ServarrOptions, ServarrState, ProviderDefinition, ServarrUser, AuthenticationType, SyncLevel } from "./servarr.ts";
export { startFakeJellyfin } from "./jellyfin.ts";
export type { FakeJellyfin, JellyfinOptions, JellyfinState, JellyfinUser, JellyfinLibrary, JellyfinSession } from "./jellyfin.ts";
export { Contract } from "./contract.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const CONTRACT_FILES = { sonarr: "sonarr-v3.openapi.json", radarr: "radarr-v3.openapi.json", prowlarr: "prowlarr-v1.openapi.json" } as const;
export const defaultContractsDir = () => process.env.MP_CONTRACTS_DIR ?? join(REPO, "..", "shared", "contracts");

/** The three OpenAPI documents, or which file is missing. */
export function loadContracts(dir = defaultContractsDir()): { sonarr: object; radarr: object; prowlarr: object } | { missing: string } {
  const out: Record<string, object> = {};
  for (const [app, file] of Object.entries(CONTRACT_FILES)) {
    const path = join(dir, file);
    if (!existsSync(path)) return { missing: path };
    out[app] = JSON.parse(readFileSync(path, "utf8")) as object;
  }
  return out as { sonarr: object; radarr: object; prowlarr: object };
}

type Fakes = { sonarr: FakeServarr; radarr: FakeServarr; prowlarr: FakeServarr; jellyfin: FakeJellyfin };

/**
 * Changes a user clicking in the web UIs could make, picked with `rng`; one line per change made.
 * Every change goes through the fake's own request handling (the app's validation), so a change the
 * app would refuse is not made. Saves use forceSave where the UI offers "save anyway" (a failing
 * connection test does not block a PUT with forceSave: ProviderControllerBase.UpdateProvider).
 * Not offered, because no UI can do it: deleting the Servarr user, un-completing Jellyfin's wizard.
 */
export function drift(fakes: Fakes, rng: () => number): string[] {
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(rng() * xs.length)];
  const lines: string[] = [];
  const call = (fake: FakeServarr | FakeJellyfin, method: string, path: string, body?: unknown, query: Record<string, string> = {}): Reply | undefined => {
    const headers = "app" in fake ? { "x-api-key": fake.state.apiKey } : { authorization: "" };
    const reply = fake.handle({ method, path, json: body, query: new URLSearchParams(query), headers, contentType: "application/json" });
    return reply instanceof Promise ? undefined : reply; // an app test over HTTP: not a click drift makes
  };
  const ok = (r: Reply | undefined) => !!r && r.status < 300;
  const base = (f: FakeServarr) => (f.app === "prowlarr" ? "/api/v1" : "/api/v3");
  const existingDir = () => [tmpdir(), "/tmp", "/var/tmp", "/srv"].find((p) => existsSync(p));

  /** PUT a provider resource with one field or property changed. */
  function editProvider(f: FakeServarr, kind: string, change: (r: Record<string, unknown>) => string | undefined) {
    const items = (call(f, "GET", `${base(f)}/${kind}`)?.body ?? []) as Record<string, unknown>[];
    const r = pick(items);
    if (!r) return;
    const what = change(r);
    if (what && ok(call(f, "PUT", `${base(f)}/${kind}/${r.id}`, r, { forceSave: "true" }))) lines.push(`${f.app}: ${kind} '${r.name}': ${what}`);
  }
  const setField = (r: Record<string, unknown>, name: string, value: unknown) => {
    const field = (r.fields as { name: string; value?: unknown }[]).find((x) => x.name === name);
    if (field) field.value = value;
    return field;
  };

  const servarrMoves = (f: FakeServarr) => {
    const category = f.app === "sonarr" ? "tvCategory" : "movieCategory";
    return [
      () => editProvider(f, "downloadclient", (r) => setField(r, category, "wrong-category") && "category set to wrong-category"),
      () => editProvider(f, "downloadclient", (r) => ((r.removeCompletedDownloads = true), "removeCompletedDownloads on")),
      () => editProvider(f, "downloadclient", (r) => ((r.enable = false), "disabled")),
      () => editProvider(f, "downloadclient", (r) => setField(r, "port", 18080) && "port set to 18080"),
      () => {
        const template = ((call(f, "GET", `${base(f)}/downloadclient/schema`)?.body ?? []) as Record<string, unknown>[])[0];
        if (template && ok(call(f, "POST", `${base(f)}/downloadclient`, { ...template, name: `qBittorrent extra ${Math.floor(rng() * 1000)}`, enable: false, priority: 1 }, { forceSave: "true" })))
          lines.push(`${f.app}: an extra (disabled) qBittorrent client added`);
      },
      () => {
        const c = pick(f.state.downloadClients);
        if (c && ok(call(f, "DELETE", `${base(f)}/downloadclient/${c.id}`))) lines.push(`${f.app}: download client '${c.name}' deleted`);
      },
      () => {
        const r = pick(f.state.rootFolders);
        if (r && ok(call(f, "DELETE", `${base(f)}/rootfolder/${r.id}`))) lines.push(`${f.app}: root folder ${r.path} deleted`);
      },
      () => {
        const dir = existingDir();
        if (dir && ok(call(f, "POST", `${base(f)}/rootfolder`, { path: dir }))) lines.push(`${f.app}: extra root folder ${dir} added`);
      },
      ...hostMoves(f),
    ];
  };
  const hostMoves = (f: FakeServarr) => [
    () => {
      const host = call(f, "GET", `${base(f)}/config/host`)?.body as Record<string, unknown>;
      if (!f.state.user) return;
      const password = `drifted-${Math.floor(rng() * 1e6)}`;
      if (ok(call(f, "PUT", `${base(f)}/config/host/1`, { ...host, password, passwordConfirmation: password }))) lines.push(`${f.app}: the user's password changed`);
    },
    () => {
      const host = call(f, "GET", `${base(f)}/config/host`)?.body as Record<string, unknown>;
      if (host.authenticationMethod !== "none" && ok(call(f, "PUT", `${base(f)}/config/host/1`, { ...host, authenticationMethod: "none" }))) lines.push(`${f.app}: authentication method set to none`);
    },
  ];
  const prowlarrMoves = (f: FakeServarr) => [
    () => {
      const a = pick(f.state.applications);
      if (a && ok(call(f, "DELETE", `/api/v1/applications/${a.id}`))) lines.push(`prowlarr: application '${a.name}' deleted`);
    },
    () => editProvider(f, "applications", (r) => (r.syncLevel !== "addOnly" ? ((r.syncLevel = "addOnly"), "syncLevel addOnly") : undefined)),
    () => editProvider(f, "applications", (r) => setField(r, "baseUrl", "http://127.0.0.1:1") && "baseUrl set to http://127.0.0.1:1"),
    () => editProvider(f, "applications", (r) => setField(r, "apiKey", "0123456789abcdef0123456789abcdef") && "apiKey replaced"),
    ...hostMoves(f),
  ];
  const jellyfinMoves = (j: FakeJellyfin) => {
    const lib = () => pick(j.state.virtualFolders);
    // The fake's handler decides as the server would; drift calls it directly, as an administrator would.
    const asAdmin = (method: string, path: string, query: Record<string, string>, body?: unknown) => {
      const admin = j.state.users.find((u) => u.isAdministrator);
      let token = j.state.sessions.find((s) => s.userId === admin?.id)?.accessToken;
      if (!token && admin) {
        token = "drift-session";
        j.state.sessions.push({ accessToken: token, userId: admin.id, deviceId: "drift", client: "Jellyfin Web", device: "Browser", version: "10.11.0" });
      }
      return j.handle({ method, path, query: new URLSearchParams(query), json: body, headers: token ? { authorization: `MediaBrowser Token="${token}"` } : {}, contentType: "application/json" });
    };
    return [
      () => { const l = lib(); const p = l && pick(l.paths); if (l && p && ok(asAdmin("DELETE", "/Library/VirtualFolders/Paths", { name: l.name, path: p }))) lines.push(`jellyfin: library '${l.name}' lost path ${p}`); },
      () => { const l = lib(); const p = existingDir(); if (l && p && !l.paths.includes(p) && ok(asAdmin("POST", "/Library/VirtualFolders/Paths", {}, { Name: l.name, Path: p }))) lines.push(`jellyfin: library '${l.name}' gained path ${p}`); },
      () => { const l = lib(); if (l && ok(asAdmin("DELETE", "/Library/VirtualFolders", { name: l.name }))) lines.push(`jellyfin: library '${l.name}' deleted`); },
    ];
  };

  const moves = [...servarrMoves(fakes.sonarr), ...servarrMoves(fakes.radarr), ...prowlarrMoves(fakes.prowlarr), ...jellyfinMoves(fakes.jellyfin)];
  const count = 1 + Math.floor(rng() * 4);
  for (let i = 0; i < count * 3 && lines.length < count; i++) pick(moves)?.();
  // The drifting itself is no request of the job: it leaves the write logs alone.
  return lines;
}

/** A small seeded generator (mulberry32) for drift. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
