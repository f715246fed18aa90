/**
 * OPTIONAL GROUP: the same evaluation as nixos-model.test.ts, with the REAL module system.
 *
 * Runs when NIXPKGS_LIB names a nixpkgs `lib` directory (for example a checkout of
 * nix-community/nixpkgs.lib: NIXPKGS_LIB=/path/to/nixpkgs.lib/lib). Then the real `lib.evalModules`
 * evaluates the flake's nixosModules.default with the upstream modules' facts turned into real
 * option declarations (to-nix.ts), and the test checks that the model in merge.ts reaches the same
 * merged values and fails with the same messages. With COPYPARTY_MODULE naming copyparty's own
 * contrib/nixos/modules/copyparty.nix, that real module replaces the model's copyparty facts.
 * Nothing fetched is committed: the paths are the reader's.
 */
import { execa } from "execa";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, requireTool } from "../helpers.ts";
import { definitionAt, ModuleError } from "./merge.ts";
import { evaluateSystem, lookup, readOurModules, type OurModule } from "./system.ts";
import { modulesFromFacts } from "./to-nix.ts";
import { UPSTREAM } from "./upstream.ts";

const LIB = process.env.NIXPKGS_LIB;
const COPYPARTY = process.env.COPYPARTY_MODULE;
if (!LIB) console.log("real-lib.test.ts skipped: set NIXPKGS_LIB to a nixpkgs lib directory (see the README) to check the model against the real lib.evalModules");

/**
 * The options the comparison reads, the same on both sides. Only what some module defines: the
 * model's submodules carry no per-option defaults, so forcing a whole submodule would trip over
 * options nobody set (the real module has defaults for them).
 */
function comparedPaths(config: Record<string, unknown>): string[][] {
  const names = (option: string) => Object.keys((lookup(config, option) as Record<string, unknown> | undefined) ?? {});
  return [
    ...names("systemd.services").map((n) => ["systemd", "services", n, "serviceConfig"]),
    ...names("systemd.timers").map((n) => ["systemd", "timers", n, "timerConfig"]),
    ["systemd", "tmpfiles", "settings"],
    ["networking", "firewall", "allowedTCPPorts"],
    ["services", "copyparty", "settings"],
    ["services", "copyparty", "volumes"],
    ["programs", "fuse", "userAllowOther"],
    ...names("users.users").flatMap((n) => ["group", "isSystemUser"].map((k) => ["users", "users", n, k])),
    ...names("sops.templates").flatMap((n) => ["content", "owner", "group", "mode"].map((k) => ["sops", "templates", n, k])),
    ...["webuiPort", "torrentingPort", "profileDir", "user", "group", "serverConfig"].map((k) => ["services", "qbittorrent", k]),
  ];
}
const key = (path: readonly string[]) => JSON.stringify(path);

interface Extra {
  readonly file: string;
  readonly option: string;
  readonly value: unknown;
}

async function realEval(ours: readonly OurModule[], extra: readonly Extra[] = [], useRealCopyparty = false): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; message: string }> {
  const nix = requireTool("nix-instantiate");
  const { config: modelConfig } = evaluateSystem(ours);
  const view = (o: string) => lookup(modelConfig, o);
  const modelOf = (name: string) => `[\n${UPSTREAM.filter((u) => u.name === name).flatMap((u) => modulesFromFacts(u, view)).join("\n")}\n]`;
  const nixosModels = UPSTREAM.filter((u) => u.name.startsWith("nixos/")).flatMap((u) => modulesFromFacts(u, view));
  const copyparty = useRealCopyparty
    ? `(let m = import ${JSON.stringify(COPYPARTY)}; in if builtins.functionArgs m == { self = false; } then m { self.overlays.default = _: _: { }; } else m)`
    : `{ imports = ${modelOf("copyparty")}; }`;
  const extras = extra.map((e) => `{ _file = ${JSON.stringify(e.file)}; config.${e.option} = builtins.fromJSON ${JSON.stringify(JSON.stringify(e.value))}; }`);
  const dir = mkdtempSync(join(tmpdir(), "mp-real-lib-"));
  const file = join(dir, "eval.nix");
  writeFileSync(
    file,
    `let
  lib = import ${JSON.stringify(LIB)};
  root = ${JSON.stringify(ROOT.replace(/\/$/, ""))};
  store = name: "/nix/store/00000000000000000000000000000000-\${name}";
  drv = name: { type = "derivation"; inherit name; outPath = store name; meta.mainProgram = name; };
  pkgs = {
    inherit lib;
    nodejs = store "nodejs"; rclone = store "rclone"; unar = store "unar";
    writeTextDir = name: text: store "writeTextDir-\${name}";
    writeText = name: text: store name;
    writeShellScriptBin = name: text: drv name;
    replace-secret = drv "replace-secret";
    coreutils = drv "coreutils";
    copyparty = drv "copyparty";
    stdenv.hostPlatform.system = "x86_64-linux";
  };
  utils.escapeSystemdExecArgs = args: lib.concatStringsSep " " args;
  flake = (import (/. + root + "/flake.nix")).outputs {
    self = { outPath = /. + root; packages.x86_64-linux.runtime = store "media-pipeline-runtime"; };
    nixpkgs = { inherit lib; legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: pkgs); };
    sops-nix.nixosModules.sops = { imports = ${modelOf("sops-nix")}; };
    copyparty = { nixosModules.default = ${copyparty}; packages.x86_64-linux.copyparty = drv "copyparty"; };
  };
  host = { _file = "host configuration.nix"; services.media-pipeline.sopsFile = "/etc/nixos/secrets/b2.yaml"; };
  eval = lib.evalModules {
    specialArgs = { inherit pkgs utils; };
    modules = [
${nixosModels.join("\n")}
      flake.nixosModules.default
      host
${extras.join("\n")}
    ];
  };
  paths = builtins.fromJSON ${JSON.stringify(JSON.stringify(comparedPaths(modelConfig)))};
in
builtins.toJSON (map (path: lib.attrByPath path null eval.config) paths)
`,
  );
  const run = await execa(nix, ["--eval", "--strict", "--json", file], { reject: false });
  if (run.exitCode !== 0) return { ok: false, message: run.stderr.replace(/^error: /, "").replace(/\n\s*\(use '--show-trace'[^\n]*$/, "").replace(/\n {7}/g, "\n") };
  const values = JSON.parse(JSON.parse(run.stdout)) as unknown[];
  return { ok: true, value: Object.fromEntries(comparedPaths(modelConfig).map((p, i) => [key(p), values[i]])) };
}

/** The model's value of each compared option, normalised as builtins.toJSON would give it. */
function modelValues(ours: readonly OurModule[], extra: readonly Extra[] = []): Record<string, unknown> {
  const { config } = evaluateSystem(ours, { extra: extra.map((e) => ({ file: e.file, value: definitionAt(e.option, e.value) })) });
  return Object.fromEntries(comparedPaths(config).map((p) => [key(p), lookup(config, p.map((x) => JSON.stringify(x)).join(".")) ?? null]));
}

describe.skipIf(!LIB)("real lib.evalModules agrees with the merge model (optional: NIXPKGS_LIB)", () => {
  let ours: OurModule[];
  beforeAll(async () => {
    if (!existsSync(join(LIB!, "default.nix"))) throw new Error(`NIXPKGS_LIB=${LIB} has no default.nix; point it at nixpkgs' lib directory`);
    ours = await readOurModules(ROOT);
  });

  it("evaluates our modules with the upstream facts, and every compared value equals the model's", async () => {
    const real = await realEval(ours);
    expect(real.ok, real.ok ? "" : real.message).toBe(true);
    if (!real.ok) return;
    const model = modelValues(ours);
    expect(Object.keys(real.value).sort()).toEqual(Object.keys(model).sort());
    for (const [path, value] of Object.entries(model)) {
      if (Array.isArray(value)) expect([...(real.value[path] as unknown[])].sort(), path).toEqual([...value].sort());
      else expect(real.value[path], path).toEqual(value);
    }
  });

  it.each([
    ["a unit setting sonarr's module also sets, at the same priority", { file: "extra.nix", option: "systemd.services.sonarr.serviceConfig.User", value: "root" }],
    ["an option no module declares", { file: "extra.nix", option: "services.copyparty.listenAddress", value: "0.0.0.0" }],
    ["a port given as a string", { file: "extra.nix", option: "services.qbittorrent.webuiPort", value: "8080" }],
  ] as const)("fails like the model on %s", async (_name, extra) => {
    const real = await realEval(ours, [extra]);
    expect(real.ok).toBe(false);
    let model = "(no error)";
    try {
      modelValues(ours, [extra]);
    } catch (e) {
      if (!(e instanceof ModuleError)) throw e;
      model = e.message;
    }
    const firstLine = (s: string) => s.split("\n")[0];
    expect(firstLine(real.ok ? "" : real.message)).toBe(firstLine(model));
    for (const line of model.split("\n").filter((l) => l.startsWith("- In `extra.nix'"))) expect(real.ok ? "" : real.message).toContain(line);
  });

  it.skipIf(!COPYPARTY)("copyparty's real module (COPYPARTY_MODULE) merges with ours as the model's facts do", async () => {
    const real = await realEval(ours, [], true);
    expect(real.ok, real.ok ? "" : real.message).toBe(true);
    if (!real.ok) return;
    const serviceConfig = real.value[key(["systemd", "services", "copyparty", "serviceConfig"])] as Record<string, unknown>;
    expect(serviceConfig.UMask).toBe("0002");
    expect(serviceConfig.User).toBe("media");
    expect((real.value[key(["systemd", "tmpfiles", "settings"])] as Record<string, unknown>).copyparty).toEqual({});
  });
});
