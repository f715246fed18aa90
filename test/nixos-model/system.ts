/**
 * Evaluates our flake module (and everything it imports) together with the model of the upstream
 * modules, as a NixOS system would: every NixOS module is always present, and sops-nix and
 * copyparty come in where the flake imports them. Returns the merged configuration, or throws the
 * ModuleError nixos-rebuild would stop with.
 */
import { execa } from "execa";
import { join } from "node:path";
import { requireTool } from "../helpers.ts";
import { declarationTree, definitionAt, merge, parseOption, showOption, type Def } from "./merge.ts";
import { path as pathType, pkg, type Declaration, type NixType, type UpstreamModule } from "./types.ts";
import { UPSTREAM } from "./upstream.ts";

/** One of our module files, as test/nixos-model/definitions.nix reads it. */
export interface OurModule {
  readonly file: string;
  readonly module: Record<string, unknown>;
}

const isAttrs = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads the flake's module and every file it imports, with the real Nix evaluator. */
export async function readOurModules(root: string): Promise<OurModule[]> {
  const nix = requireTool("nix-instantiate");
  const { stdout } = await execa(nix, ["--eval", "--strict", "--json", join(root, "test/nixos-model/definitions.nix"), "--arg", "root", root.replace(/\/+$/, "")]);
  return JSON.parse(stdout) as OurModule[];
}

/** The upstream modules a module imports by marker (`{ _type = "upstream"; name; }`). */
function upstreamImports(m: OurModule): string[] {
  const imports = (m.module.imports as unknown[] | undefined) ?? [];
  return imports.filter((i): i is { _type: string; name: string } => isAttrs(i) && i._type === "upstream").map((i) => i.name);
}

/** Our option declarations (`options.x = lib.mkOption { type = lib.types.package; }`). */
function ourDeclarations(m: OurModule): Declaration[] {
  const out: Declaration[] = [];
  const types: Record<string, NixType> = { package: pkg, path: pathType };
  const walk = (node: unknown, loc: string[]) => {
    if (!isAttrs(node)) return;
    if (node._type === "option") {
      const typeName = (node.type as { name: string }).name;
      const type = types[typeName];
      if (!type) throw new Error(`${m.file}: option type ${typeName} is not modelled`);
      out.push({ option: showOption(loc), type, source: { repo: "this repository", path: m.file, commit: "working tree" } });
      return;
    }
    for (const [k, v] of Object.entries(node)) walk(v, [...loc, k]);
  };
  walk(m.module.options, []);
  return out;
}

/** The configuration part of a module: `config` if it declares options, the rest of it otherwise. */
function configOf(m: OurModule): Record<string, unknown> {
  if ("options" in m.module || "config" in m.module) return (m.module.config as Record<string, unknown> | undefined) ?? {};
  const { imports: _imports, ...rest } = m.module;
  return rest;
}

/** Reads a value from a merged attribute set by option path; `undefined` if absent. */
function lookup(config: unknown, option: string): unknown {
  let v = config;
  for (const part of parseOption(option)) v = isAttrs(v) ? v[part] : undefined;
  return v;
}

export interface Evaluation {
  readonly config: Record<string, unknown>;
  /** The upstream modules taken part, by name. */
  readonly upstream: readonly string[];
}

/**
 * Merges our modules with the upstream ones. `extra` adds definitions (a fault a test injects);
 * `replace` swaps an upstream module for another (the real-lib test's cross-checks).
 */
export function evaluateSystem(ours: readonly OurModule[], options: { extra?: readonly Def[]; upstream?: readonly UpstreamModule[] } = {}): Evaluation {
  const all = options.upstream ?? UPSTREAM;
  const imported = new Set(ours.flatMap(upstreamImports));
  for (const name of imported) if (!all.some((u) => u.name === name)) throw new Error(`the flake imports ${name}, which the model has no facts for`);
  // NixOS evaluates every one of its own modules; the others only where imported.
  const present = all.filter((u) => u.name.startsWith("nixos/") || imported.has(u.name));
  const declarations = [...present.flatMap((u) => u.declarations), ...ours.flatMap(ourDeclarations)];
  const root = declarationTree(declarations);
  const ourDefs: Def[] = [...ours.map((m) => ({ file: m.file, value: configOf(m) })), ...(options.extra ?? [])];

  // Upstream definitions depend on our configuration (mkIf cfg.enable, User = cfg.user): read it
  // from our definitions alone, falling back to the declared default.
  const ownConfig = merge([], root, ourDefs);
  const view = (option: string) => {
    const v = lookup(ownConfig, option);
    return v !== undefined ? v : declarations.find((d) => d.option === option)?.default;
  };
  const upstreamDefs: Def[] = present.flatMap((u) => u.definitions(view).map((d) => ({ file: u.file, value: definitionAt(d.option, d.value, d.priority) })));
  // The real lib lists definitions newest module first: ours were imported after NixOS's own.
  const config = merge([], root, [...ourDefs].reverse().concat([...upstreamDefs].reverse())) as Record<string, unknown>;
  return { config, upstream: present.map((u) => u.name) };
}

export { lookup };
