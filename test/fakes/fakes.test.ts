/**
 * Tests of the FAKES themselves: models of Sonarr, Radarr, Prowlarr and Jellyfin written from their
 * sources. They check that the models keep the facts named in test/fakes/*.ts and, when the
 * published OpenAPI documents are present (../shared/contracts), that the fakes' own traffic fits them.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defaultContractsDir, drift, type FakeJellyfin, type FakeServarr, loadContracts, seededRandom, startFakeJellyfin, startFakeServarr,
} from "./index.ts";

const contracts = loadContracts();
const missing = "missing" in contracts ? contracts.missing : undefined;
if (missing) console.log(`fakes: contract checks skipped: ${missing} is missing (the OpenAPI documents live in ../shared/contracts, or set MP_CONTRACTS_DIR; default ${defaultContractsDir()})`);
const contractOf = (app: "sonarr" | "radarr" | "prowlarr") => ("missing" in contracts ? undefined : contracts[app]);

const KEYS = { sonarr: "a".repeat(32), radarr: "b".repeat(32), prowlarr: "c".repeat(32) };
const root = mkdtempSync(join(tmpdir(), "fakes-"));
const dir = (name: string) => { const p = join(root, name); mkdirSync(p, { recursive: true }); return p; };
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function api(fake: { url: string }, method: string, path: string, body?: unknown, key?: string, extra: Record<string, string> = {}) {
  const res = await fetch(fake.url + path, {
    method, redirect: "manual",
    headers: { ...(key ? { "X-Api-Key": key } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...extra },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json: json as any, headers: res.headers }; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const MB = 'MediaBrowser Client="wire", Device="test", DeviceId="wire-test", Version="1.0"';
const servarr = (app: "sonarr" | "radarr" | "prowlarr", extra: Partial<Parameters<typeof startFakeServarr>[1]> = {}) =>
  startFakeServarr(app, { apiKey: KEYS[app], contract: contractOf(app), ...extra });
const v = (app: string) => (app === "prowlarr" ? "/api/v1" : "/api/v3");

/** A qBittorrent client resource made from the fake's own template. */
async function qbtClient(fake: FakeServarr, name = "qBittorrent", values: Record<string, unknown> = {}) {
  const [template] = (await api(fake, "GET", `${v(fake.app)}/downloadclient/schema`, undefined, KEYS[fake.app as "sonarr"])).json;
  for (const f of template.fields) if (f.name in values) f.value = values[f.name];
  return { ...template, name, enable: true };
}

/** Sonarr, Radarr, Prowlarr and Jellyfin configured the way the wire job would leave them. */
async function configuredWorld() {
  const [sonarr, radarr, prowlarr, jellyfin] = await Promise.all([
    servarr("sonarr", { qbittorrentReachable: true }), servarr("radarr", { qbittorrentReachable: true }), servarr("prowlarr"), startFakeJellyfin({}),
  ]);
  for (const f of [sonarr, radarr, prowlarr]) {
    const key = KEYS[f.app];
    const host = (await api(f, "GET", `${v(f.app)}/config/host`, undefined, key)).json;
    expect((await api(f, "PUT", `${v(f.app)}/config/host/1`, { ...host, authenticationMethod: "forms", username: "Admin", password: "pw", passwordConfirmation: "pw" }, key)).status).toBe(202);
  }
  for (const f of [sonarr, radarr]) {
    expect((await api(f, "POST", "/api/v3/downloadclient", await qbtClient(f, "qBittorrent", { username: "u", password: "p" }), KEYS[f.app])).status).toBe(201);
    expect((await api(f, "POST", "/api/v3/rootfolder", { path: dir(`${f.app}-media`) }, KEYS[f.app])).status).toBe(201);
  }
  const templates = (await api(prowlarr, "GET", "/api/v1/applications/schema", undefined, KEYS.prowlarr)).json;
  for (const [target, impl] of [[sonarr, "Sonarr"], [radarr, "Radarr"]] as const) {
    const t = templates.find((x: { implementation: string }) => x.implementation === impl);
    const values: Record<string, unknown> = { prowlarrUrl: prowlarr.url, baseUrl: target.url, apiKey: KEYS[target.app] };
    for (const f of t.fields) if (f.name in values) f.value = values[f.name];
    const res = await api(prowlarr, "POST", "/api/v1/applications", { ...t, name: impl }, KEYS.prowlarr);
    expect(res.status, JSON.stringify(res.json)).toBe(201);
  }
  await api(jellyfin, "GET", "/Startup/User");
  await api(jellyfin, "POST", "/Startup/User", { Name: "admin", Password: "pw" });
  await api(jellyfin, "POST", "/Startup/Complete");
  const token = (await api(jellyfin, "POST", "/Users/AuthenticateByName", { Username: "admin", Pw: "pw" }, undefined, { authorization: MB })).json.AccessToken;
  const auth = { authorization: `${MB}, Token="${token}"` };
  for (const [name, type] of [["Movies", "movies"], ["Shows", "tvshows"]]) {
    const paths = [dir(`${name}-a`), dir(`${name}-b`)].join(",");
    expect((await api(jellyfin, "POST", `/Library/VirtualFolders?name=${name}&collectionType=${type}&paths=${encodeURIComponent(paths)}`, {}, undefined, auth)).status).toBe(204);
  }
  const fakes = { sonarr, radarr, prowlarr, jellyfin };
  return { ...fakes, fakes, close: () => Promise.all([sonarr.close(), radarr.close(), prowlarr.close(), jellyfin.close()]) };
}

describe.skipIf(!!missing)("the fakes' traffic fits the published OpenAPI documents (../shared/contracts)", () => {
  it("a whole configuration run of Sonarr, Radarr and Prowlarr models breaks no contract", async () => {
    const world = await configuredWorld();
    for (const f of [world.sonarr, world.radarr, world.prowlarr]) {
      const key = KEYS[f.app];
      for (const p of ["/system/status", "/config/host", f.app === "prowlarr" ? "/applications" : "/downloadclient", f.app === "prowlarr" ? "/applications/schema" : "/downloadclient/schema"]) {
        expect((await api(f, "GET", v(f.app) + p, undefined, key)).status).toBe(200);
      }
      if (f.app !== "prowlarr") expect((await api(f, "GET", "/api/v3/rootfolder", undefined, key)).status).toBe(200);
      expect(f.violations, f.app).toEqual([]);
    }
    await world.close();
  });

  it("a request body the document refuses is recorded as a violation", async () => {
    const sonarr = await servarr("sonarr");
    await api(sonarr, "POST", "/api/v3/rootfolder", { path: 5 }, KEYS.sonarr);
    expect(sonarr.violations.join("\n")).toMatch(/request body\/path must be string/);
    await sonarr.close();
  });
});

describe("fake Sonarr and Radarr (model from Sonarr 49df353f / Radarr 1b9662d5 sources)", () => {
  let sonarr: FakeServarr, radarr: FakeServarr;
  beforeAll(async () => { [sonarr, radarr] = await Promise.all([servarr("sonarr"), servarr("radarr")]); });
  afterAll(() => Promise.all([sonarr.close(), radarr.close()]));

  it("the qBittorrent template carries QBittorrentSettings.cs's fields in source order with their defaults", async () => {
    const [s] = (await api(sonarr, "GET", "/api/v3/downloadclient/schema", undefined, KEYS.sonarr)).json;
    expect(s.fields.map((f: { name: string }) => f.name)).toEqual(["host", "port", "useSsl", "urlBase", "apiKey", "username", "password", "tvCategory", "tvImportedCategory", "recentTvPriority", "olderTvPriority", "initialState", "sequentialOrder", "firstAndLast", "contentLayout", "addSeriesTags"]);
    expect(Object.fromEntries(s.fields.map((f: { name: string; value: unknown }) => [f.name, f.value]))).toMatchObject({ host: "localhost", port: 8080, tvCategory: "tv-sonarr" });
    expect(s).toMatchObject({ implementation: "QBittorrent", configContract: "QBittorrentSettings", protocol: "torrent", enable: false, priority: 1, removeCompletedDownloads: true, removeFailedDownloads: true });
    const [r] = (await api(radarr, "GET", "/api/v3/downloadclient/schema", undefined, KEYS.radarr)).json;
    expect(r.fields.map((f: { name: string }) => f.name)).toContain("movieCategory");
    expect(r.fields.find((f: { name: string }) => f.name === "movieCategory").value).toBe("radarr");
  });

  it("the API key: 401 without it; the apikey query wins over a right X-Api-Key (ApiKeyAuthenticationHandler.cs)", async () => {
    expect((await api(sonarr, "GET", "/api/v3/system/status")).status).toBe(401);
    expect((await api(sonarr, "GET", "/api/v3/system/status?apikey=wrong", undefined, KEYS.sonarr)).status).toBe(401);
    expect((await api(sonarr, "GET", `/api/v3/system/status?apikey=${KEYS.sonarr}`)).status).toBe(200);
    expect((await api(sonarr, "GET", "/api/v3/system/status", undefined, undefined, { authorization: `Bearer ${KEYS.sonarr}` })).status).toBe(200);
  });

  it("a failing qBittorrent test refuses POST even with forceSave; PUT with forceSave skips the test (ProviderControllerBase.cs)", async () => {
    const client = await qbtClient(sonarr, "q1");
    const refused = await api(sonarr, "POST", "/api/v3/downloadclient?forceSave=true", client, KEYS.sonarr);
    expect(refused.status).toBe(400);
    expect(refused.json[0]).toMatchObject({ propertyName: "Host", errorMessage: "Unable to connect to qBittorrent" });
    const created = await api(sonarr, "POST", "/api/v3/downloadclient", { ...client, enable: false }, KEYS.sonarr);
    expect(created.status).toBe(201);
    expect((await api(sonarr, "PUT", `/api/v3/downloadclient/${created.json.id}`, { ...created.json, enable: true }, KEYS.sonarr)).status).toBe(400);
    expect((await api(sonarr, "PUT", `/api/v3/downloadclient/${created.json.id}?forceSave=true`, { ...created.json, enable: true }, KEYS.sonarr)).status).toBe(202);
  });

  it("masking: secrets come back as ********; ******** on PUT keeps the stored value; missing fields fall back to defaults (SchemaBuilder.cs)", async () => {
    const client = await qbtClient(sonarr, "masked", { password: "secret", username: "me", tvCategory: "tv" });
    client.fields.push({ name: "noSuchField", value: 1 });
    const created = await api(sonarr, "POST", "/api/v3/downloadclient", { ...client, enable: false }, KEYS.sonarr);
    expect(created.json.fields.find((f: { name: string }) => f.name === "password").value).toBe("********");
    const stored = sonarr.state.downloadClients.find((c) => c.name === "masked")!;
    expect(stored.settings.password).toBe("secret");
    await api(sonarr, "PUT", `/api/v3/downloadclient/${created.json.id}`, created.json, KEYS.sonarr);
    expect(stored.settings.password).toBe("secret");
    const fewer = { ...created.json, fields: created.json.fields.filter((f: { name: string }) => f.name !== "tvCategory") };
    await api(sonarr, "PUT", `/api/v3/downloadclient/${created.json.id}`, fewer, KEYS.sonarr);
    expect(sonarr.state.downloadClients.find((c) => c.name === "masked")!.settings.tvCategory).toBe("tv-sonarr");
    // removeCompletedDownloads missing from the body: the resource's bool default (false), not the definition's true.
    const { removeCompletedDownloads: _, ...noRemove } = created.json;
    await api(sonarr, "PUT", `/api/v3/downloadclient/${created.json.id}`, noRemove, KEYS.sonarr);
    expect(sonarr.state.downloadClients.find((c) => c.name === "masked")!.removeCompletedDownloads).toBe(false);
  });

  it("validation refuses what the source refuses: duplicate names, priority 0, a bad category", async () => {
    const base = { ...(await qbtClient(radarr, "dup")), enable: false };
    expect((await api(radarr, "POST", "/api/v3/downloadclient", base, KEYS.radarr)).status).toBe(201);
    expect((await api(radarr, "POST", "/api/v3/downloadclient", { ...base, name: "DUP" }, KEYS.radarr)).json[0].errorMessage).toBe("Should be unique");
    expect((await api(radarr, "POST", "/api/v3/downloadclient", { ...base, name: "p0", priority: 0 }, KEYS.radarr)).status).toBe(400);
    const bad = await qbtClient(radarr, "badcat", { movieCategory: "/movies/" });
    const fake = await servarr("radarr", { qbittorrentReachable: true });
    expect((await api(fake, "POST", "/api/v3/downloadclient", bad, KEYS.radarr)).json[0].propertyName).toBe("MovieCategory");
    await fake.close();
  });

  it("root folders: must exist, not twice, not a system folder (RootFolderController.cs validators)", async () => {
    const ok = dir("sonarr-tv");
    expect((await api(sonarr, "POST", "/api/v3/rootfolder", { path: join(root, "absent") }, KEYS.sonarr)).json[0].errorMessage).toMatch(/does not exist/);
    expect((await api(sonarr, "POST", "/api/v3/rootfolder", { path: ok }, KEYS.sonarr)).status).toBe(201);
    expect((await api(sonarr, "POST", "/api/v3/rootfolder", { path: `${ok}/` }, KEYS.sonarr)).json[0].errorMessage).toMatch(/already configured/);
    expect((await api(sonarr, "POST", "/api/v3/rootfolder", { path: "/usr/bin" }, KEYS.sonarr)).json[0].errorMessage).toMatch(/system folder/);
  });

  it("host config: forms needs a user; the stored hash comes back as password; login uses the method of the last start", async () => {
    const f = await servarr("sonarr");
    const host = (await api(f, "GET", "/api/v3/config/host", undefined, KEYS.sonarr)).json;
    expect(host).toMatchObject({ id: 1, authenticationMethod: "none", username: "", password: "" });
    expect((await api(f, "PUT", "/api/v3/config/host/1", { ...host, authenticationMethod: "forms" }, KEYS.sonarr)).status).toBe(400);
    expect((await api(f, "PUT", "/api/v3/config/host/1", { ...host, authenticationMethod: "forms", username: "Me", password: "a", passwordConfirmation: "b" }, KEYS.sonarr)).json[0].propertyName).toBe("PasswordConfirmation");
    expect((await api(f, "PUT", "/api/v3/config/host/1", { bindAddress: "*", authenticationMethod: "forms", username: "Me", password: "a", passwordConfirmation: "a", port: 8989, logSizeLimit: 1, backupInterval: 7, backupRetention: 28, branch: "main" }, KEYS.sonarr)).status).toBe(500);
    expect(f.violations.join("\n")).toMatch(/ConfigFileProvider.SaveConfigDictionary/);
    expect((await api(f, "PUT", "/api/v3/config/host/1", { ...host, authenticationMethod: "forms", username: "Me", password: "a", passwordConfirmation: "a" }, KEYS.sonarr)).status).toBe(202);
    expect(f.state.user?.username).toBe("me");
    const again = (await api(f, "GET", "/api/v3/config/host", undefined, KEYS.sonarr)).json;
    expect(again.password).toBe(f.state.user?.password);
    expect(again.password).not.toBe("a");
    const hashBefore = f.state.user!.password;
    expect((await api(f, "PUT", "/api/v3/config/host/1", again, KEYS.sonarr)).status).toBe(202);
    expect(f.state.user!.password).toBe(hashBefore);
    const login = (password: string) => fetch(`${f.url}/login?returnUrl=/queue`, { method: "POST", redirect: "manual", body: new URLSearchParams({ username: "ME", password, rememberMe: "on" }) });
    expect((await login("a")).headers.get("location")).toMatch(/loginFailed=true/); // still "none" since start
    f.restart();
    expect((await login("a")).headers.get("location")).toBe("/queue");
    expect((await login("b")).headers.get("location")).toMatch(/loginFailed=true/);
    expect(f.writes.map((w) => `${w.method} ${w.path}`)).toEqual(["PUT /api/v3/config/host/1"]);
    await f.close();
  });

  it("answers 503 while starting (StartingUpMiddleware.cs)", async () => {
    const f = await servarr("radarr", { unavailableForMs: 300 });
    expect((await api(f, "GET", "/api/v3/system/status", undefined, KEYS.radarr)).json).toEqual({ errorMessage: "Radarr is starting up, please try again later" });
    await new Promise((r) => setTimeout(r, 350));
    expect((await api(f, "GET", "/api/v3/system/status", undefined, KEYS.radarr)).status).toBe(200);
    await f.close();
  });
});

describe("fake Prowlarr (model from Prowlarr 0ffcfccf source, applications test as in SonarrV3Proxy.cs/RadarrV3Proxy.cs)", () => {
  it("the templates carry SonarrSettings.cs/RadarrSettings.cs fields; the test passes with the right key and fails with a wrong one", async () => {
    const [prowlarr, sonarr] = await Promise.all([servarr("prowlarr"), servarr("sonarr")]);
    const templates = (await api(prowlarr, "GET", "/api/v1/applications/schema", undefined, KEYS.prowlarr)).json;
    const t = templates.find((x: { implementation: string }) => x.implementation === "Sonarr");
    expect(t.fields.map((f: { name: string }) => f.name)).toEqual(["prowlarrUrl", "baseUrl", "apiKey", "syncCategories", "animeSyncCategories", "syncAnimeStandardFormatSearch", "syncRejectBlocklistedTorrentHashesWhileGrabbing"]);
    expect(t).toMatchObject({ syncLevel: "fullSync", configContract: "SonarrSettings" });
    const withValues = (values: Record<string, unknown>) => ({ ...t, name: "Sonarr", fields: t.fields.map((f: { name: string }) => (f.name in values ? { ...f, value: values[f.name] } : f)) });
    const right = withValues({ prowlarrUrl: prowlarr.url, baseUrl: sonarr.url, apiKey: KEYS.sonarr });
    expect((await api(prowlarr, "POST", "/api/v1/applications/test", right, KEYS.prowlarr)).status).toBe(200);
    const wrong = await api(prowlarr, "POST", "/api/v1/applications/test", withValues({ prowlarrUrl: prowlarr.url, baseUrl: sonarr.url, apiKey: "wrong" }), KEYS.prowlarr);
    expect(wrong.json[0]).toMatchObject({ propertyName: "ApiKey", errorMessage: "API Key is invalid" });
    const badProwlarrUrl = await api(prowlarr, "POST", "/api/v1/applications/test", withValues({ prowlarrUrl: "http://127.0.0.1:1", baseUrl: sonarr.url, apiKey: KEYS.sonarr }), KEYS.prowlarr);
    expect(badProwlarrUrl.json[0].propertyName).toBe("ProwlarrUrl");
    // POST without forceSave tests; the stored key then answers for "********" with the id.
    expect((await api(prowlarr, "POST", "/api/v1/applications", withValues({ prowlarrUrl: prowlarr.url, baseUrl: sonarr.url, apiKey: "wrong" }), KEYS.prowlarr)).status).toBe(400);
    const created = await api(prowlarr, "POST", "/api/v1/applications", right, KEYS.prowlarr);
    expect(created.status).toBe(201);
    expect(created.json.fields.find((f: { name: string }) => f.name === "apiKey").value).toBe("********");
    expect((await api(prowlarr, "POST", "/api/v1/applications/test", created.json, KEYS.prowlarr)).status).toBe(200);
    expect((await api(prowlarr, "POST", "/api/v1/applications/test", { ...created.json, id: 0 }, KEYS.prowlarr)).status).toBe(400);
    // syncLevel disabled: Enable is false, so no validation and no test run.
    expect((await api(prowlarr, "PUT", `/api/v1/applications/${created.json.id}`, { ...created.json, syncLevel: "disabled", fields: [] }, KEYS.prowlarr)).status).toBe(202);
    expect(prowlarr.writes.map((w) => w.method)).toEqual(["POST", "PUT"]);
    await Promise.all([prowlarr.close(), sonarr.close()]);
  });
});

describe("fake Jellyfin (model from jellyfin c3ed1407 source, types from @jellyfin/sdk 1.0.0)", () => {
  let j: FakeJellyfin;
  beforeAll(async () => { j = await startFakeJellyfin({ processUser: "jellyfin" }); });
  afterAll(() => j.close());

  it("the wizard: the first user appears on GET /Startup/User, is renamed and given a password; afterwards Startup needs an admin token", async () => {
    expect((await api(j, "GET", "/System/Info/Public")).json.StartupWizardCompleted).toBe(false);
    expect((await api(j, "POST", "/Startup/User", { Name: "admin", Password: "pw" })).status).toBe(404);
    expect((await api(j, "GET", "/Startup/User")).json.Name).toBe("jellyfin");
    expect((await api(j, "POST", "/Startup/User", { Name: "admin", Password: "" })).status).toBe(400);
    expect((await api(j, "POST", "/Startup/User", { Name: "admin", Password: "pw" })).status).toBe(204);
    expect((await api(j, "POST", "/Startup/User", { Name: "admin", Password: "pw2" })).status).toBe(403);
    expect((await api(j, "POST", "/Startup/Complete")).status).toBe(204);
    expect((await api(j, "GET", "/Startup/Configuration")).status).toBe(401);
    expect((await api(j, "POST", "/Users/AuthenticateByName", { Username: "admin", Pw: "pw" })).status).toBe(400); // no Client/Device/...
    expect((await api(j, "POST", "/Users/AuthenticateByName", { Username: "ADMIN", Pw: "nope" }, undefined, { authorization: MB })).status).toBe(401);
    const token = (await api(j, "POST", "/Users/AuthenticateByName", { Username: "ADMIN", Pw: "pw" }, undefined, { authorization: MB })).json.AccessToken;
    expect((await api(j, "GET", "/Startup/Configuration", undefined, undefined, { authorization: `${MB}, Token="${token}"` })).status).toBe(200);
    expect((await api(j, "GET", "/Startup/Configuration", undefined, undefined, { "x-emby-token": token })).status).toBe(401); // legacy auth is off by default
    expect((await api(j, "GET", `/Startup/Configuration?ApiKey=${token}`)).status).toBe(200);
  });

  it("libraries: paths must exist, a taken name gets a number, Locations come back sorted", async () => {
    const token = (await api(j, "POST", "/Users/AuthenticateByName", { Username: "admin", Pw: "pw" }, undefined, { authorization: MB })).json.AccessToken;
    const auth = { authorization: `${MB}, Token="${token}"` };
    const [b, a] = [dir("lib-b"), dir("lib-a")];
    expect((await api(j, "POST", `/Library/VirtualFolders?name=Movies&collectionType=movies&paths=${join(root, "nope")}`, {}, undefined, auth)).status).toBe(400);
    expect((await api(j, "POST", `/Library/VirtualFolders?name=Movies&collectionType=movies&paths=${b}&paths=${a}`, {}, undefined, auth)).status).toBe(204);
    expect((await api(j, "POST", "/Library/VirtualFolders?name=Movies&collectionType=movies", {}, undefined, auth)).status).toBe(204);
    const libs = (await api(j, "GET", "/Library/VirtualFolders", undefined, undefined, auth)).json;
    expect(libs.map((l: { Name: string }) => l.Name)).toEqual(["Movies", "Movies2"]);
    expect(libs[0].Locations).toEqual([a, b]);
    expect((await api(j, "POST", "/Library/VirtualFolders/Paths", { Name: "Movies", Path: join(root, "nope") }, undefined, auth)).status).toBe(404);
    expect((await api(j, "POST", "/Library/VirtualFolders/Paths", { Path: a }, undefined, auth)).status).toBe(400);
    expect(j.violations.join("\n")).toMatch(/Name is required/);
    expect((await api(j, "DELETE", `/Library/VirtualFolders/Paths?name=Movies&path=${encodeURIComponent(b)}`, undefined, undefined, auth)).status).toBe(204);
    expect(j.state.virtualFolders[0]!.paths).toEqual([a]);
    expect((await api(j, "DELETE", "/Library/VirtualFolders?name=Nope", undefined, undefined, auth)).status).toBe(404);
    expect((await api(j, "GET", "/Library/Nope", undefined, undefined, auth)).status).toBe(404);
    expect(j.violations.join("\n")).toMatch(/GET \/Library\/Nope is not an endpoint/);
  });

  it("answers 503 while starting, except /System/Ping (ServerStartupMessageMiddleware.cs)", async () => {
    const f = await startFakeJellyfin({ unavailableForMs: 300 });
    expect((await api(f, "GET", "/System/Info/Public")).status).toBe(503);
    expect((await api(f, "GET", "/System/Ping")).status).toBe(200);
    await f.close();
  });
});

describe("drift (changes a user could click in the UIs) stays within what the models accept", () => {
  const randomSeed = Math.floor(Math.random() * 2 ** 31);
  console.log(`fakes: drift random seed ${randomSeed}`);
  for (const seed of [1, 2, 3, 42, randomSeed]) {
    it(`seed ${seed}: every drifted state passes the fakes' own validators`, async () => {
      const world = await configuredWorld();
      const lines = drift(world.fakes, seededRandom(seed));
      console.log(`fakes: drift seed ${seed}:\n  ${lines.join("\n  ")}`);
      expect(lines.length).toBeGreaterThan(0);
      for (const f of [world.sonarr, world.radarr, world.prowlarr]) {
        const key = KEYS[f.app];
        const kind = f.app === "prowlarr" ? "applications" : "downloadclient";
        for (const r of (await api(f, "GET", `${v(f.app)}/${kind}`, undefined, key)).json) {
          expect((await api(f, "PUT", `${v(f.app)}/${kind}/${r.id}?forceSave=true`, r, key)).status, `${f.app} ${r.name} (seed ${seed})`).toBe(202);
        }
        const host = (await api(f, "GET", `${v(f.app)}/config/host`, undefined, key)).json;
        expect((await api(f, "PUT", `${v(f.app)}/config/host/1`, host, key)).status).toBe(202);
        for (const r of f.state.rootFolders) expect(f.state.rootFolders.filter((x) => x.path === r.path)).toHaveLength(1);
        expect(f.violations, `${f.app} (seed ${seed}): ${lines.join("; ")}`).toEqual([]);
        expect(f.writes.filter((w) => w.method === "PUT" && w.path.includes(kind)), "re-saving an unchanged resource changes nothing").toEqual([]);
      }
      expect(world.jellyfin.violations).toEqual([]);
      await world.close();
    });
  }
});
