/**
 * The wire job against fakes of Sonarr, Radarr, Prowlarr and Jellyfin (MODELS built from the apps'
 * sources, test/fakes; their agreement with the published OpenAPI documents is the optional contract
 * group in contracts.test.ts). The config is the one generated from the default spec.
 */
import { afterEach, describe, expect, it } from "vitest";
import { execa } from "execa";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drift, seededRandom } from "../fakes/index.ts";
import { ROOT } from "../helpers.ts";
import { WIRE_CREDENTIALS, WIRE_ENV } from "../../runtime/wire/index.ts";
import { runWire, seedSetupProblems, startStack, type Stack } from "./stack.ts";

let stacks: Stack[] = [];
const stack = async (options?: Parameters<typeof startStack>[0]) => {
  const s = await startStack(options);
  stacks.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(stacks.map((s) => s.close()));
  stacks = [];
});

/** A port nothing listens on: taken, then freed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

const noWrites = { sonarr: [], radarr: [], prowlarr: [], jellyfin: [] };

describe("wire, from the default spec, against fresh apps (fakes: models of the apps from their sources)", () => {
  it("leaves the seed's configuration in every app, and a second run writes nothing", async () => {
    const s = await stack();
    expect(seedSetupProblems(s).length).toBeGreaterThan(0); // a fresh install is not set up
    const first = await runWire(s);
    expect(first.summary).toMatchObject({ exitCode: 0, failed: [] });
    expect(seedSetupProblems(s)).toEqual([]);
    expect(first.writes.sonarr).toEqual(["PUT /api/v3/config/host/1", "POST /api/v3/downloadclient", "POST /api/v3/rootfolder"]);
    expect(first.writes.prowlarr).toEqual(["PUT /api/v1/config/host/1", "POST /api/v1/applications", "POST /api/v1/applications"]);
    expect(first.writes.jellyfin.length).toBeGreaterThan(0);
    // One journal line per change, saying what changed.
    expect(first.lines.filter((l) => /^(Sonarr|Radarr|Prowlarr|Jellyfin): (set|added|completed|created|updated)/.test(l))).toHaveLength(first.summary.changes);
    expect(first.lines).toContain(`Sonarr: added download client "qBittorrent": qBittorrent at localhost:8080, category "tv-sonarr", Remove Completed off`);

    const second = await runWire(s);
    expect(second.writes).toEqual(noWrites);
    expect(second.summary).toMatchObject({ exitCode: 0, changes: 0, reported: 0, pending: 0 });
    expect(second.lines.at(-1)).toMatch(/^wire finished in [0-9.]+s: 0 changes, 0 not in the spec, left alone, 0 waiting for a folder, every app answered$/);
  });

  it("--dry-run lists every change the real run then makes, and makes none", async () => {
    const s = await stack();
    const plan = await runWire(s, true);
    expect(plan.writes).toEqual(noWrites);
    expect(seedSetupProblems(s).length).toBeGreaterThan(0);
    const would = plan.lines.filter((l) => l.includes(": would ")).map((l) => l.replace(": would ", ": "));
    expect(would.length).toBe(plan.summary.changes);
    const real = await runWire(s);
    expect(real.summary.changes).toBe(plan.summary.changes);
    // The same changes, in the same order (the real run says them in the past tense).
    const made = real.lines.filter((l) => /^(Sonarr|Radarr|Prowlarr|Jellyfin): (set|added|completed|created|updated) /.test(l));
    expect(made.map((l) => l.split(":")[0])).toEqual(would.map((l) => l.split(":")[0]));
  });

  it("does not add a Jellyfin path that does not exist yet, says so, and adds it once it exists", async () => {
    const s = await stack();
    const exists = new Set(["/media/arr/tv", "/media/arr/movies"]);
    const lines: string[] = [];
    const { wire } = await import("../../runtime/wire/index.ts");
    const { setLogSink } = await import("../../runtime/log.ts");
    setLogSink((_l, line) => lines.push(line));
    try {
      const first = await wire(s.config, { dryRun: false, env: s.env, isDirectory: (p) => exists.has(p), pollMs: 100 });
      expect(first).toMatchObject({ exitCode: 0, pending: 2 });
      expect(lines.some((l) => l.includes(`"/media/b2/tv" does not exist yet`))).toBe(true);
      expect(s.jellyfin.state.virtualFolders.map((f) => [f.name, f.paths])).toEqual([["TV Shows", ["/media/arr/tv"]], ["Movies", ["/media/arr/movies"]]]);
      exists.add("/media/b2/tv").add("/media/b2/movies");
      const second = await wire(s.config, { dryRun: false, env: s.env, isDirectory: (p) => exists.has(p), pollMs: 100 });
      expect(second).toMatchObject({ exitCode: 0, pending: 0 });
      expect(seedSetupProblems(s)).toEqual([]);
    } finally {
      setLogSink(undefined);
    }
  });
});

describe("wire converges from random drifted states (fakes: models of the apps from their sources)", () => {
  const HISTORIES = Number(process.env.WIRE_HISTORIES ?? 40);
  const seeds = [20261126, ...Array.from({ length: 2 }, () => Math.floor(Math.random() * 2 ** 31))];
  it.each(seeds)(`seed %i: ${HISTORIES} histories of set-up, drift, wire; each converges and a second run writes nothing`, async (seed) => {
    console.log(`wire drift: seed ${seed}, ${HISTORIES} histories`);
    const rng = seededRandom(seed);
    let repaired = 0;
    for (let h = 0; h < HISTORIES; h++) {
      const s = await stack();
      // Half the histories drift a fresh install, half a set-up one.
      if (rng() < 0.5) await runWire(s);
      const drifted = drift(s, rng);
      const run = await runWire(s);
      const context = `seed ${seed}, history ${h}, drift:\n  ${drifted.join("\n  ")}\nlog:\n  ${run.lines.join("\n  ")}`;
      expect(run.summary.exitCode, context).toBe(0);
      expect(seedSetupProblems(s), context).toEqual([]);
      if (drifted.length > 0 && run.summary.changes > 0) repaired++;
      const again = await runWire(s);
      expect(again.writes, context).toEqual(noWrites);
      expect(again.summary.changes, context).toBe(0);
      for (const app of ["sonarr", "radarr", "prowlarr", "jellyfin"] as const) expect(s[app].violations, `${app}: ${context}`).toEqual([]);
      await s.close();
      stacks = stacks.filter((x) => x !== s);
    }
    // Not vacuous: most histories drifted something the job had to put back.
    console.log(`wire drift: seed ${seed}: ${repaired} of ${HISTORIES} histories needed changes after their drift`);
    expect(repaired).toBeGreaterThan(HISTORIES / 2);
  }, 300_000);
});

describe("wire's bounded waits and clear errors", () => {
  it("waits for an app that is still starting, then wires it", async () => {
    const s = await stack({ unavailableForMs: { sonarr: 800, jellyfin: 800 } });
    const run = await runWire(s);
    expect(run.summary.exitCode).toBe(0);
    expect(run.lines).toContain("Sonarr: waiting for it to answer (up to 5s)");
    expect(seedSetupProblems(s)).toEqual([]);
  });

  it("gives up on an app that never answers, says so, and still wires the others", async () => {
    const s = await stack();
    s.config.wire!.waitSeconds = 1;
    const port = await closedPort();
    s.config.wire!.radarr.url = `http://127.0.0.1:${port}`;
    const run = await runWire(s);
    expect(run.summary).toMatchObject({ exitCode: 1, failed: ["Radarr"] });
    const gaveUp = new RegExp(`^error: Radarr: Radarr did not answer GET /api/v3/system/status at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); gave up waiting for Radarr after \\d+ attempts in 1s$`);
    expect(run.lines.filter((l) => gaveUp.test(l)), run.lines.join("\n")).toHaveLength(1);
    expect(s.sonarr.state.downloadClients).toHaveLength(1);
    expect(s.jellyfin.state.wizardCompleted).toBe(true);
  });

  it("a wrong API key is one line naming where the app reads its key, and no wait", async () => {
    const s = await stack();
    s.env[WIRE_ENV.sonarrApiKey] = "0".repeat(32);
    const started = Date.now();
    const run = await runWire(s);
    expect(Date.now() - started).toBeLessThan(4000);
    // Prowlarr then cannot add Sonarr either: its connection test carries the same key.
    expect(run.summary.failed).toEqual(["Sonarr", "Prowlarr"]);
    expect(run.lines).toContain(
      "error: Sonarr: Sonarr refuses the API key from sops (401 on /api/v3/system/status); it reads its key from SONARR__AUTH__APIKEY in its environment, so check that its service has the generated environment file and was restarted after the key changed",
    );
  });

  it("Jellyfin: the job logs in once and keeps its session; a refused password is tried once, never hourly (adversary, issue 13)", async () => {
    const s = await stack();
    await runWire(s);
    const logins = () => s.jellyfin.requests.filter((r) => r.path === "/Users/AuthenticateByName").length;
    expect(logins()).toBe(1);
    await runWire(s);
    expect(logins()).toBe(1); // the kept session, no new login
    // The administrator's password changed in the web UI, and every session was signed out.
    s.jellyfin.state.sessions = [];
    const stale = { ...s, env: { ...s.env, [WIRE_ENV.jellyfinPassword]: "the-old-password-from-sops" } };
    const refused = await runWire(stale);
    expect(refused.summary.failed).toEqual(["Jellyfin"]);
    expect(refused.lines.some((l) => l.startsWith(`error: Jellyfin: Jellyfin refuses the administrator "admin" with the password from sops`))).toBe(true);
    expect(logins()).toBe(2);
    // Jellyfin disables an account after repeated failures (UserManager.cs): the next runs do not try again.
    const again = await runWire(stale);
    expect(again.summary.failed).toEqual(["Jellyfin"]);
    expect(again.lines.some((l) => l.includes("the job does not try a refused password again"))).toBe(true);
    expect(logins()).toBe(2);
    expect(again.writes.jellyfin).toEqual([]);
    // A new password in sops is tried, once.
    const fixed = await runWire(s);
    expect(fixed.summary.exitCode).toBe(0);
    expect(logins()).toBe(3);
  });

  it("Jellyfin: a dry run never logs in, so wire-plan cannot add to the lockout count either (second adversary round)", async () => {
    const s = await stack();
    await runWire(s);
    const logins = () => s.jellyfin.requests.filter((r) => r.path === "/Users/AuthenticateByName").length;
    s.jellyfin.state.sessions = [];
    const stale = { ...s, env: { ...s.env, [WIRE_ENV.jellyfinPassword]: "the-old-password-from-sops" } };
    for (let i = 0; i < 3; i++) {
      const plan = await runWire(stale, true);
      expect(plan.summary.exitCode).toBe(0);
      expect(plan.lines.some((l) => l.includes("a dry run does not log in"))).toBe(true);
    }
    expect(logins()).toBe(1);
    expect(existsSync(join(s.config.wire!.stateDir, "jellyfin.json"))).toBe(true); // the first real run's session, untouched
  });

  it("Jellyfin: two wrong passwords since the last good login, and the job tries no third, not even one refused before (third adversary round)", async () => {
    const s = await stack();
    await runWire(s);
    const logins = () => s.jellyfin.requests.filter((r) => r.path === "/Users/AuthenticateByName").length;
    s.jellyfin.state.sessions = [];
    const withPassword = (p: string) => ({ ...s, env: { ...s.env, [WIRE_ENV.jellyfinPassword]: p } });
    await runWire(withPassword("wrong-a"));
    await runWire(withPassword("wrong-b"));
    expect(logins()).toBe(3);
    for (const p of ["wrong-a", "wrong-c", s.env[WIRE_ENV.jellyfinPassword]!]) {
      const run = await runWire(withPassword(p));
      expect(run.summary.failed).toEqual(["Jellyfin"]);
    }
    expect(logins()).toBe(3);
    const last = await runWire(withPassword("wrong-c"));
    expect(last.lines.some((l) => l.includes(`2 logins as "admin" failed since the job's last good one`) && l.includes("sign in once in Jellyfin's web UI") && l.includes("just wire-retry-login"))).toBe(true);
    // A dry run says that a real run would not log in, and why.
    const plan = await runWire(withPassword("wrong-c"), true);
    expect(plan.lines.some((l) => l.includes("a real run would not log in either: 2 logins"))).toBe(true);
  });

  it("Jellyfin: two runs at once send one login between them (fourth adversary round)", async () => {
    const s = await stack();
    await runWire(s);
    s.jellyfin.state.sessions = [];
    const logins = () => s.jellyfin.requests.filter((r) => r.path === "/Users/AuthenticateByName").length;
    const { wire } = await import("../../runtime/wire/index.ts");
    const { setLogSink } = await import("../../runtime/log.ts");
    const lines: string[] = [];
    setLogSink((_l, line) => lines.push(line));
    try {
      const env = { ...s.env, [WIRE_ENV.jellyfinPassword]: "wrong" };
      await Promise.all([wire(s.config, { dryRun: false, env, isDirectory: () => true }), wire(s.config, { dryRun: false, env, isDirectory: () => true })]);
    } finally {
      setLogSink(undefined);
    }
    expect(logins()).toBe(2); // the first run's good login, and one of the two
    expect(lines.some((l) => l.includes("is logging in to Jellyfin; this one leaves it to that run"))).toBe(true);
  });

  it("Jellyfin: the job's own wizard cut off after its first user goes on at the next run", async () => {
    const s = await stack();
    // As if an earlier run set the first user's password and was stopped before Complete.
    const call = (method: string, path: string, json?: unknown) => s.jellyfin.handle({ method, path, json, headers: {}, contentType: "application/json", query: new URLSearchParams() });
    call("GET", "/Startup/User");
    call("POST", "/Startup/User", { Name: "admin", Password: s.env[WIRE_ENV.jellyfinPassword] });
    const run = await runWire(s);
    expect(run.summary.exitCode, run.lines.join("\n")).toBe(0);
    expect(s.jellyfin.state.wizardCompleted).toBe(true);
    expect(seedSetupProblems(s)).toEqual([]);
  });

  it("Jellyfin reinstalled: the job does the new wizard with the sops password, and an old refusal no longer blocks it", async () => {
    const s = await stack();
    await runWire(s);
    s.jellyfin.state.sessions = [];
    await runWire({ ...s, env: { ...s.env, [WIRE_ENV.jellyfinPassword]: "stale" } }); // recorded as refused
    Object.assign(s.jellyfin.state, { wizardCompleted: false, users: [], sessions: [], virtualFolders: [] });
    const run = await runWire({ ...s, env: { ...s.env, [WIRE_ENV.jellyfinPassword]: "stale" } });
    expect(run.summary.exitCode, run.lines.join("\n")).toBe(0);
    expect(s.jellyfin.state.virtualFolders.map((f) => f.name)).toEqual(["TV Shows", "Movies"]);
  });

  it("Jellyfin's state file: a missing folder is made; one that cannot be made stops the job before any login; a foreign file is named", async () => {
    const s = await stack();
    s.config.wire!.stateDir = join(mkdtempSync(join(tmpdir(), "mp-wire-")), "not", "yet");
    expect((await runWire(s)).summary.exitCode).toBe(0);
    const blocked = await stack();
    blocked.config.wire!.stateDir = "/dev/null/state";
    const run = await runWire(blocked);
    expect(run.lines).toContain("error: Jellyfin: cannot keep the job's state in /dev/null/state (ENOTDIR); without it a refused password would be tried at every run, so the job does not log in");
    expect(blocked.jellyfin.requests.filter((r) => r.method !== "GET")).toEqual([]);
    writeFileSync(join(s.config.wire!.stateDir, "jellyfin.json"), "null");
    const foreign = await runWire(s);
    expect(foreign.lines).toContain(`error: Jellyfin: ${join(s.config.wire!.stateDir, "jellyfin.json")} is not what the job writes; remove it and the job logs in again`);
  });

  it("Jellyfin's wizard begun by someone else is left alone, with an error saying so", async () => {
    const s = await stack();
    // Someone on the host reached the wizard first and gave the first user a password.
    const call = (method: string, path: string, json?: unknown) => s.jellyfin.handle({ method, path, json, headers: {}, contentType: "application/json", query: new URLSearchParams() });
    call("GET", "/Startup/User");
    call("POST", "/Startup/User", { Name: "mallory", Password: "hers" });
    const run = await runWire(s);
    expect(run.summary.failed).toEqual(["Jellyfin"]);
    expect(run.lines.some((l) => l.includes("first-run wizard was begun without the job"))).toBe(true);
    expect(s.jellyfin.state.wizardCompleted).toBe(false);
    // Nothing of the wizard is touched, at this run or the next.
    await runWire(s);
    expect(s.jellyfin.writes).toEqual([]);
    expect(s.jellyfin.requests.filter((r) => r.method === "POST" && r.path !== "/Startup/User" && r.path !== "/Users/AuthenticateByName")).toEqual([]);
  });

  it("an API key with a quote or a backslash is refused before any call", async () => {
    const s = await stack();
    const { wire } = await import("../../runtime/wire/index.ts");
    const env = { ...s.env, [WIRE_ENV.radarrApiKey]: `ab"c\\d` };
    await expect(wire(s.config, { dryRun: false, env, isDirectory: () => true })).rejects.toThrow(
      "the radarr API key from sops has characters other than letters and digits; the app reads it from an environment file, which would alter them. Generate one with: openssl rand -hex 16",
    );
    expect(s.sonarr.requests).toEqual([]);
  });

  it("reads its secrets as systemd credentials, byte for byte: a password with quotes, backslashes and spaces arrives as written", async () => {
    const s = await stack();
    const dir = mkdtempSync(join(tmpdir(), "mp-credentials-"));
    const password = ` it's a "p\\ss" word `;
    const files: Record<string, string> = {
      [WIRE_CREDENTIALS.sonarrApiKey]: s.env[WIRE_ENV.sonarrApiKey]!,
      [WIRE_CREDENTIALS.radarrApiKey]: s.env[WIRE_ENV.radarrApiKey]!,
      [WIRE_CREDENTIALS.prowlarrApiKey]: s.env[WIRE_ENV.prowlarrApiKey]!,
      [WIRE_CREDENTIALS.sonarrPassword]: password,
      [WIRE_CREDENTIALS.radarrPassword]: "r",
      [WIRE_CREDENTIALS.prowlarrPassword]: "p",
      [WIRE_CREDENTIALS.jellyfinPassword]: "j",
    };
    for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), value);
    const run = await runWire({ ...s, env: { CREDENTIALS_DIRECTORY: dir } });
    expect(run.summary.exitCode).toBe(0);
    // Sonarr now takes exactly that password at its login page.
    const form = new FormData();
    form.append("username", "admin");
    form.append("password", password);
    const login = await fetch(`${s.sonarr.url}/login`, { method: "POST", body: form, redirect: "manual" });
    expect(login.headers.get("location")).not.toContain("loginFailed");
    // Without the credentials, the job names the missing ones.
    const { wire } = await import("../../runtime/wire/index.ts");
    await expect(wire(s.config, { dryRun: true, env: { CREDENTIALS_DIRECTORY: tmpdir() } })).rejects.toThrow(/^wire needs the credentials sonarr-api-key, sonarr-password, /);
  });

  it("an app that answers unexpectedly is named with the call and the answer, at once", async () => {
    const s = await stack();
    // Something else on Radarr's port (here: Jellyfin) answers 404 where Radarr's API should be.
    s.config.wire!.radarr.url = s.jellyfin.url;
    const started = Date.now();
    const run = await runWire(s);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(run.summary.failed).toContain("Radarr");
    expect(run.lines).toContain("error: Radarr: Radarr answered GET /api/v3/system/status with 404 Not Found");
  });
});

describe("wire owns only what the spec declares (adversary, issue 13; fakes: models of the apps from their sources)", () => {
  const post = (fake: Stack["sonarr"], path: string, json: unknown) =>
    fake.handle({ method: "POST", path, json, query: new URLSearchParams({ forceSave: "true" }), headers: { "x-api-key": fake.state.apiKey }, contentType: "application/json" });
  const qbtClient = (fake: Stack["sonarr"], name: string, host: string) => {
    const template = (fake.handle({ method: "GET", path: "/api/v3/downloadclient/schema", headers: { "x-api-key": fake.state.apiKey } }) as { body: { fields: { name: string; value: unknown }[] }[] }).body[0]!;
    const fields = template.fields.map((f) => (f.name === "host" ? { ...f, value: host } : f));
    return { ...template, name, fields, enable: true, priority: 1, removeCompletedDownloads: true, removeFailedDownloads: true };
  };

  it("a seedbox's qBittorrent, even one named QBITTORRENT, is reported and never taken over; the job adds its own beside it", async () => {
    const s = await stack();
    const reply = post(s.sonarr, "/api/v3/downloadclient", qbtClient(s.sonarr, "QBITTORRENT", "seedbox.lan")) as { status: number };
    expect(reply.status).toBeLessThan(300);
    const run = await runWire(s);
    expect(run.summary.exitCode).toBe(0);
    const seedbox = s.sonarr.state.downloadClients.find((c) => c.name === "QBITTORRENT")!;
    expect([seedbox.settings.host, seedbox.removeCompletedDownloads]).toEqual(["seedbox.lan", true]);
    expect(s.sonarr.state.downloadClients.map((c) => c.name)).toEqual(["QBITTORRENT", "qBittorrent 2"]);
    expect(run.lines).toContain(`warning: Sonarr: download client "QBITTORRENT" (QBittorrent), and it removes completed downloads from its client; left as it is (not in the spec)`);
    expect(seedSetupProblems(s)).toEqual([]);
    expect((await runWire(s)).writes).toEqual(noWrites);
  });

  it("of two clients on this host's qBittorrent, the one named as the job names it is kept and a retired duplicate left alone (fifth adversary round)", async () => {
    const s = await stack();
    await runWire(s);
    const retired = { ...qbtClient(s.sonarr, "A old qbt", "localhost"), enable: false };
    retired.fields = retired.fields.map((f) => (f.name === "tvCategory" ? { ...f, value: "tv-old" } : f));
    expect((post(s.sonarr, "/api/v3/downloadclient", retired) as { status: number }).status).toBeLessThan(300);
    const run = await runWire(s);
    expect(run.writes.sonarr).toEqual([]);
    const old = s.sonarr.state.downloadClients.find((c) => c.name === "A old qbt")!;
    expect([old.enable, old.settings.tvCategory]).toEqual([false, "tv-old"]);
    expect(run.lines.some((l) => l.startsWith(`warning: Sonarr: download client "A old qbt" (QBittorrent, also this host's qBittorrent)`))).toBe(true);
  });

  it("Prowlarr's own Sonarr application under another name and 127.0.0.1 is recognised, not doubled", async () => {
    const s = await stack();
    await runWire(s);
    const app = s.prowlarr.state.applications.find((a) => a.implementation === "Sonarr")!;
    app.name = "My Sonarr";
    app.settings.baseUrl = String(app.settings.baseUrl).replace("127.0.0.1", "localhost") + "/";
    const run = await runWire(s);
    expect(s.prowlarr.state.applications.filter((a) => a.implementation === "Sonarr")).toHaveLength(1);
    expect(run.writes.prowlarr).toEqual([]);
  });

  it("a Prowlarr application that matches the spec but fails its test for another reason than the key is said, not rewritten every run", async () => {
    const s = await stack();
    await runWire(s);
    await s.radarr.close(); // Radarr gone: Prowlarr cannot reach it
    s.config.wire!.waitSeconds = 1;
    for (let i = 0; i < 2; i++) {
      const run = await runWire(s);
      expect(run.writes.prowlarr).toEqual([]);
      expect(run.summary.failed).toEqual(["Radarr", "Prowlarr"]);
      expect(run.lines.some((l) => /^error: Prowlarr: application "Radarr" matches the spec but fails Prowlarr's connection test: .+; nothing changed$/.test(l)), run.lines.join("\n")).toBe(true);
    }
  }, 20_000);

  it("with qBittorrent down, the download client fails alone: the root folders are still set, and the failed add is not counted as a change", async () => {
    const s = await stack({ qbittorrentReachable: false });
    const run = await runWire(s);
    expect(run.summary.failed).toEqual(["Sonarr", "Radarr"]);
    expect(s.sonarr.state.rootFolders.map((r) => r.path)).toEqual(["/media/arr/tv"]);
    expect(s.sonarr.state.downloadClients).toEqual([]);
    expect(run.lines.filter((l) => l.startsWith("Sonarr: added download client"))).toEqual([]);
  });

  it("a Jellyfin library named in another case is used, not doubled, and gets its missing folder under its own name", async () => {
    const s = await stack();
    await runWire(s);
    const library = s.jellyfin.state.virtualFolders.find((f) => f.name === "TV Shows")!;
    library.name = "tv shows";
    library.paths = library.paths.filter((p) => p !== "/media/b2/tv");
    const run = await runWire(s);
    expect(run.summary.exitCode, run.lines.join("\n")).toBe(0);
    expect(s.jellyfin.state.virtualFolders.map((f) => f.name).sort()).toEqual(["Movies", "tv shows"]);
    expect(library.paths).toContain("/media/b2/tv");
    expect(run.lines).toContain(`warning: Jellyfin: library "tv shows" is the spec's "TV Shows" in another case; the job uses it under its own name`);
    expect(run.lines).toContain(`Jellyfin: added "/media/b2/tv" to library "tv shows"`);
  });
});

describe("media-pipeline wire, the bundled CLI (out/runtime/media-pipeline.mjs)", () => {
  it("--dry-run against the fakes prints the plan, exits 0, writes nothing; without its secrets it exits 2 naming them", async () => {
    const s = await stack();
    const dir = mkdtempSync(join(tmpdir(), "mp-wire-"));
    const config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify(s.config));
    const bundle = join(ROOT, "out/runtime/media-pipeline.mjs");
    const dry = await execa("node", [bundle, "wire", "--config", config, "--dry-run"], { env: { ...s.env, JOURNAL_STREAM: "" }, extendEnv: false, reject: false });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Sonarr: would add download client "qBittorrent"`);
    expect(dry.stdout).toMatch(/wire \(dry run\) finished in [0-9.]+s: \d+ changes to make/);
    expect([s.sonarr, s.radarr, s.prowlarr, s.jellyfin].flatMap((f) => f.writes)).toEqual([]);
    const bare = await execa("node", [bundle, "wire", "--config", config], { env: {}, extendEnv: false, reject: false });
    expect(bare.exitCode).toBe(2);
    expect(bare.stderr).toContain("wire needs MP_SONARR_API_KEY, MP_SONARR_PASSWORD");
  });
});
