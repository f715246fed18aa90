/**
 * The wire job against fakes of Sonarr, Radarr, Prowlarr and Jellyfin (MODELS built from the apps'
 * sources, test/fakes; their agreement with the published OpenAPI documents is the optional contract
 * group in contracts.test.ts). The config is the one generated from the default spec.
 */
import { afterEach, describe, expect, it } from "vitest";
import { execa } from "execa";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drift, seededRandom } from "../fakes/index.ts";
import { ROOT } from "../helpers.ts";
import { WIRE_ENV } from "../../runtime/wire/index.ts";
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

  it("Jellyfin set up with another password is an error saying what to do, not a reset", async () => {
    const s = await stack();
    await runWire(s);
    const other = { ...s.env, [WIRE_ENV.jellyfinPassword]: "not-the-password-anymore" };
    const run = await runWire({ ...s, env: other });
    expect(run.summary.failed).toEqual(["Jellyfin"]);
    expect(run.lines.some((l) => l.startsWith(`error: Jellyfin: Jellyfin refuses the administrator "admin" with the password from sops`))).toBe(true);
    expect(run.writes.jellyfin).toEqual([]);
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
