/**
 * A model of the NixOS module system's merge (nixpkgs lib/modules.nix and lib/types.nix), enough
 * to merge our modules' definitions with the upstream modules' facts and fail as `nixos-rebuild`
 * fails: an undeclared option, a value of the wrong type, conflicting definitions, a unique option
 * defined twice. It is written by this project; `real-lib.test.ts` checks its verdicts and merged
 * values against the real `lib.evalModules` when a nixpkgs lib is available.
 *
 * The rules modelled, each as lib/ states it:
 * - mkIf/mkMerge are discharged first (`dischargeProperties`), then only the definitions with the
 *   highest priority (lowest number) are kept (`filterOverrides`), at every level where a
 *   definition carries an override: on an option, and on each attribute of an attrsOf.
 * - str, int, bool, port, path, enum: all remaining definitions must be equal (`mergeEqualOption`).
 * - package: exactly one definition (`mergeOneOption`).
 * - listOf: concatenated; attrsOf and submodules: merged attribute by attribute; `attrs`: `//`.
 * - systemd unit options (nixos/lib/systemd-unit-options.nix `unitOption`): lists concatenate,
 *   anything else must be equal.
 * - Definitions are listed in messages newest module first, as the real lib prints them.
 */
import { ATTR_NAME, type NixType } from "./types.ts";

export interface Def {
  readonly file: string;
  readonly value: unknown;
}

export class ModuleError extends Error {}

const PLAIN = 100;
const isAttrs = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const tagged = (v: unknown, type: string): v is Record<string, unknown> => isAttrs(v) && v._type === type;

/** `showOption`: dotted, with names that are not identifiers quoted. */
export function showOption(loc: readonly string[]): string {
  return loc.map((part) => (/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(part) ? part : JSON.stringify(part))).join(".");
}

/** A value as the module system's messages print it (lib.generators.toPretty, on one line where short). */
export function showValue(v: unknown, indent = ""): string {
  if (typeof v === "string") return JSON.stringify(v).replace(/\$\{/g, "\\${");
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "null";
  if (tagged(v, "path")) return `/nix/store/…-source/${String(v.path)}`;
  if (Array.isArray(v)) return v.length === 0 ? "[ ]" : `[\n${v.map((x) => `${indent}  ${showValue(x, `${indent}  `)}`).join("\n")}\n${indent}]`;
  if (isAttrs(v)) {
    const keys = Object.keys(v).sort();
    if (keys.length === 0) return "{ }";
    return `{\n${keys.map((k) => `${indent}  ${showOption([k])} = ${showValue(v[k], `${indent}  `)};`).join("\n")}\n${indent}}`;
  }
  return String(v);
}

function showDefs(defs: readonly Def[]): string {
  return defs.map((d) => `\n- In \`${d.file}': ${showValue(d.value)}`).join("");
}

export function describe(type: NixType): string {
  switch (type.t) {
    case "str": return "string";
    case "bool": return "boolean";
    case "int": return "signed integer";
    case "port": return "16 bit unsigned integer; between 0 and 65535 (both inclusive)";
    case "path": return "path";
    case "package": return "package";
    case "lines": return 'strings concatenated with "\\n"';
    case "attrs": return "attribute set";
    case "anything": return "anything";
    case "unitOption": return "systemd option";
    case "enum": return `one of ${type.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "nullOr": return `null or ${describe(type.of)}`;
    case "either": return `${describe(type.a)} or ${describe(type.b)}`;
    case "listOf": return `list of ${describe(type.of)}`;
    case "attrsOf": return `attribute set of ${describe(type.of)}`;
    case "submodule": return "submodule";
  }
}

/** Whether a value passes the type's own check (`type.check`), before merging. */
export function check(type: NixType, v: unknown): boolean {
  switch (type.t) {
    case "str": return typeof v === "string";
    case "lines": return typeof v === "string";
    case "bool": return typeof v === "boolean";
    case "int": return Number.isInteger(v);
    case "port": return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
    case "path": return tagged(v, "path") || (typeof v === "string" && v.startsWith("/"));
    // A derivation, or (as types.package accepts) a store path string.
    case "package": return typeof v === "string" ? v.startsWith("/nix/store/") : isAttrs(v) && v.type === "derivation";
    case "attrs": return isAttrs(v);
    case "anything": return true;
    case "unitOption": return ["string", "number", "boolean"].includes(typeof v) || Array.isArray(v) || tagged(v, "path");
    case "enum": return type.values.includes(v as string);
    case "nullOr": return v === null || check(type.of, v);
    case "either": return check(type.a, v) || check(type.b, v);
    case "listOf": return Array.isArray(v);
    case "attrsOf": return isAttrs(v);
    case "submodule": return isAttrs(v);
  }
}

/** Expands mkMerge and drops mkIf whose condition is false (`dischargeProperties`), keeping overrides. */
function discharge(def: Def): Def[] {
  const v = def.value;
  if (tagged(v, "merge")) return (v.contents as unknown[]).flatMap((c) => discharge({ file: def.file, value: c }));
  if (tagged(v, "if")) {
    if (typeof v.condition !== "boolean") throw new ModuleError(`mkIf called with a non-Boolean condition in \`${def.file}'`);
    return v.condition ? discharge({ file: def.file, value: v.content }) : [];
  }
  if (tagged(v, "override")) {
    return discharge({ file: def.file, value: v.content }).map((d) => ({ file: d.file, value: { _type: "override", priority: v.priority, content: d.value } }));
  }
  return [def];
}

/** Keeps the definitions of the highest priority and unwraps them (`filterOverrides`). */
function filterOverrides(defs: readonly Def[]): Def[] {
  const priority = (d: Def) => (tagged(d.value, "override") ? (d.value.priority as number) : PLAIN);
  const best = Math.min(...defs.map(priority));
  return defs.filter((d) => priority(d) === best).map((d) => (tagged(d.value, "override") ? { file: d.file, value: d.value.content } : d));
}

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function mergeEqual(loc: readonly string[], defs: readonly Def[]): unknown {
  if (defs.slice(1).some((d) => !equal(d.value, defs[0]!.value))) {
    throw new ModuleError(
      `The option \`${showOption(loc)}' has conflicting definition values:${showDefs(defs)}\nUse \`lib.mkForce value\` or \`lib.mkDefault value\` to change the priority on any of these definitions.`,
    );
  }
  return defs[0]!.value;
}

function mergeOne(loc: readonly string[], defs: readonly Def[]): unknown {
  if (defs.length !== 1) {
    throw new ModuleError(
      `The option \`${showOption(loc)}' is defined multiple times while it's expected to be unique.\nDefinition values:${showDefs(defs)}\nUse \`lib.mkForce value\` or \`lib.mkDefault value\` to change the priority on any of these definitions.`,
    );
  }
  return defs[0]!.value;
}

/** Zips attribute-set definitions by name: name → the definitions of that attribute, in order. */
function zipAttrs(loc: readonly string[], type: NixType, defs: readonly Def[]): Map<string, Def[]> {
  const byName = new Map<string, Def[]>();
  for (const d of defs) {
    if (!isAttrs(d.value)) throw typeError(loc, type, d);
    for (const [k, v] of Object.entries(d.value)) {
      if (!byName.has(k)) byName.set(k, []);
      byName.get(k)!.push({ file: d.file, value: v });
    }
  }
  return byName;
}

function typeError(loc: readonly string[], type: NixType, def: Def): ModuleError {
  return new ModuleError(`A definition for option \`${showOption(loc)}' is not of type \`${describe(type)}'. Definition values:${showDefs([def])}`);
}

/** Merges the definitions of one option (or namespace) of the given type; `undefined` if none remain. */
export function merge(loc: readonly string[], type: NixType, rawDefs: readonly Def[]): unknown {
  const defs = filterOverrides(rawDefs.flatMap(discharge));
  if (defs.length === 0) return undefined;
  if (type.t === "submodule") {
    const out: Record<string, unknown> = {};
    for (const [name, sub] of zipAttrs(loc, type, defs)) {
      const declared = type.options[name];
      const subType = declared ?? (type.freeform ? freeformElement(type.freeform) : undefined);
      if (!subType) {
        throw new ModuleError(`The option \`${showOption([...loc, name])}' does not exist. Definition values:${showDefs(sub)}`);
      }
      const merged = merge([...loc, name], subType, sub);
      if (merged !== undefined) out[name] = merged;
    }
    // Declared defaults fill what no definition set (an option default has the lowest priority).
    for (const [name, value] of Object.entries(type.defaults ?? {})) if (!(name in out)) out[name] = value === ATTR_NAME ? loc.at(-1) : value;
    return out;
  }
  for (const d of defs) if (!check(type, d.value)) throw typeError(loc, type, d);
  switch (type.t) {
    case "attrsOf": {
      const out: Record<string, unknown> = {};
      for (const [name, sub] of zipAttrs(loc, type, defs)) {
        const merged = merge([...loc, name], type.of, sub);
        if (merged !== undefined) out[name] = merged;
      }
      return out;
    }
    case "listOf":
      return defs.flatMap((d) => (d.value as unknown[]).map((item, i) => merge([...loc, `[definition ${i + 1}-entry]`], type.of, [{ file: d.file, value: item }])));
    case "attrs":
      return Object.assign({}, ...defs.map((d) => d.value));
    case "lines":
      return defs.map((d) => d.value).join("\n");
    case "unitOption":
      return defs.some((d) => Array.isArray(d.value)) ? defs.flatMap((d) => (Array.isArray(d.value) ? d.value : [d.value])) : mergeEqual(loc, defs);
    case "package":
      return mergeOne(loc, defs);
    case "anything":
      return defs.every((d) => isAttrs(d.value)) ? merge(loc, { t: "attrsOf", of: type }, defs) : mergeEqual(loc, defs);
    case "nullOr":
      if (defs.every((d) => d.value === null)) return null;
      if (defs.some((d) => d.value === null)) throw new ModuleError(`The option \`${showOption(loc)}' is defined both null and not null, in ${defs.map((d) => `\`${d.file}'`).join(", ")}.`);
      return merge(loc, type.of, defs);
    case "either":
      if (defs.every((d) => check(type.a, d.value))) return merge(loc, type.a, defs);
      if (defs.every((d) => check(type.b, d.value))) return merge(loc, type.b, defs);
      return mergeOne(loc, defs);
    default:
      return mergeEqual(loc, defs);
  }
}

/** A freeform type applies to each undeclared attribute as its element type. */
function freeformElement(freeform: NixType): NixType {
  return freeform.t === "attrsOf" ? freeform.of : freeform;
}

/** Parses `a.b."c.d".e` into its parts. */
export function parseOption(option: string): string[] {
  const parts: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^.]+)/g;
  for (const m of option.matchAll(re)) parts.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : m[2]!);
  return parts;
}

/** Builds the root namespace from declarations at dotted paths: intermediate names become namespaces (submodules). */
export function declarationTree(declarations: readonly { option: string; type: NixType }[]): NixType {
  type Node = { options: Record<string, Node | NixType> };
  const root: Node = { options: {} };
  for (const d of declarations) {
    const parts = parseOption(d.option);
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node.options[part];
      if (next && "t" in next) throw new Error(`${d.option}: ${part} is declared as an option and as a namespace`);
      node = (node.options[part] as Node | undefined) ?? (node.options[part] = { options: {} });
    }
    const last = parts.at(-1)!;
    if (node.options[last]) throw new Error(`${d.option} is declared twice (the real module system refuses that too)`);
    node.options[last] = d.type;
  }
  const toType = (node: Node): NixType => ({ t: "submodule", options: Object.fromEntries(Object.entries(node.options).map(([k, v]) => [k, "t" in v ? (v as NixType) : toType(v as Node)])) });
  return toType(root);
}

/** `{ a.b.c = v; }` from `a.b.c` and v, with an override wrapper where the priority is not plain. */
export function definitionAt(option: string, value: unknown, priority = PLAIN): Record<string, unknown> {
  const parts = parseOption(option);
  let v: unknown = priority === PLAIN ? value : { _type: "override", priority, content: value };
  for (const part of parts.reverse()) v = { [part]: v };
  return v as Record<string, unknown>;
}
