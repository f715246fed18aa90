/**
 * OPTIONAL group: needs the apps' published OpenAPI documents in ../shared/contracts (or
 * MP_CONTRACTS_DIR); without them it is skipped, saying what is missing. Every request the wire job
 * sends, and every answer the fakes give it, is checked against Sonarr v3's, Radarr v3's and
 * Prowlarr v1's documents; Jellyfin's requests are typed with @jellyfin/sdk (checked by tsc).
 */
import { afterEach, describe, expect, it } from "vitest";
import { defaultContractsDir, drift, loadContracts, seededRandom } from "../fakes/index.ts";
import { runWire, seedSetupProblems, startStack, type Stack } from "./stack.ts";

const contracts = loadContracts();
const missing = "missing" in contracts ? contracts.missing : undefined;
if (missing) console.log(`wire contract group skipped: ${missing} is missing (the OpenAPI documents live in ../shared/contracts, or set MP_CONTRACTS_DIR; default ${defaultContractsDir()})`);

let stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.map((s) => s.close()));
  stacks = [];
});

describe.skipIf(!!missing)("the wire job's traffic fits the published OpenAPI documents (optional: ../shared/contracts)", () => {
  const withContracts = async () => {
    const s = await startStack({ contracts: "missing" in contracts ? undefined : contracts });
    stacks.push(s);
    return s;
  };
  const violations = (s: Stack) => ({ sonarr: s.sonarr.violations, radarr: s.radarr.violations, prowlarr: s.prowlarr.violations, jellyfin: s.jellyfin.violations });
  const none = { sonarr: [], radarr: [], prowlarr: [], jellyfin: [] };

  it("from the default spec: a fresh set-up, then a second run, with no request or answer outside the documents", async () => {
    const s = await withContracts();
    const first = await runWire(s);
    expect(first.summary.exitCode).toBe(0);
    expect(seedSetupProblems(s)).toEqual([]);
    const second = await runWire(s);
    expect(second.writes).toEqual(none);
    expect(violations(s)).toEqual(none);
    // The check is live: the fakes saw the job's calls.
    expect(s.sonarr.requests.length).toBeGreaterThan(5);
  });

  it.each([7, Math.floor(Math.random() * 2 ** 31)])("seed %i: 10 drifted histories, each request and answer within the documents", async (seed) => {
    console.log(`wire contract drift: seed ${seed}`);
    const rng = seededRandom(seed);
    for (let h = 0; h < 10; h++) {
      const s = await withContracts();
      if (rng() < 0.5) await runWire(s);
      const drifted = drift(s, rng);
      const run = await runWire(s);
      const context = `seed ${seed}, history ${h}: ${drifted.join("; ")}\n${run.lines.join("\n")}`;
      expect(run.summary.exitCode, context).toBe(0);
      expect(violations(s), context).toEqual(none);
    }
  }, 120_000);
});
