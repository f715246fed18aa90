/**
 * Turns the model's facts into NixOS modules for the real `lib.evalModules` (real-lib.test.ts):
 * each declaration an `lib.mkOption` with the real `lib.types`, each definition an `lib.mkOverride`
 * at its priority. Values are rendered by the project's one Nix renderer.
 */
import { renderNix, type NixValue } from "../../generators/render/nix.ts";
import { parseOption } from "./merge.ts";
import { ATTR_NAME, type ConfigView, type NixType, type UpstreamModule } from "./types.ts";

/** The NixOS unit option type, as nixos/lib/systemd-unit-options.nix defines it (lists concatenate, the rest must be equal). */
const UNIT_OPTION = `(lib.mkOptionType {
    name = "systemd option";
    merge = loc: defs:
      let defs' = lib.filterOverrides defs; in
      if lib.any (def: lib.isList def.value) defs' then lib.concatMap (def: lib.toList def.value) defs' else lib.mergeEqualOption loc defs';
  })`;

export function nixType(type: NixType): string {
  switch (type.t) {
    case "str": return "lib.types.str";
    case "bool": return "lib.types.bool";
    case "int": return "lib.types.int";
    case "port": return "lib.types.port";
    case "path": return "lib.types.path";
    case "package": return "lib.types.package";
    case "lines": return "lib.types.lines";
    case "attrs": return "lib.types.attrs";
    case "anything": return "lib.types.anything";
    case "unitOption": return UNIT_OPTION;
    case "enum": return `(lib.types.enum ${renderNix(type.values as NixValue)})`;
    case "nullOr": return `(lib.types.nullOr ${nixType(type.of)})`;
    case "either": return `(lib.types.either ${nixType(type.a)} ${nixType(type.b)})`;
    case "listOf": return `(lib.types.listOf ${nixType(type.of)})`;
    case "attrsOf": return `(lib.types.attrsOf ${nixType(type.of)})`;
    case "submodule": {
      const defaultOf = (k: string) => {
        if (!type.defaults || !(k in type.defaults)) return "";
        const d = type.defaults[k];
        return ` default = ${d === ATTR_NAME ? "name" : renderNix(d as NixValue)};`;
      };
      const options = Object.entries(type.options).map(([k, t]) => `${JSON.stringify(k)} = lib.mkOption { type = ${nixType(t)};${defaultOf(k)} };`);
      const freeform = type.freeform ? `freeformType = ${nixType(type.freeform)}; ` : "";
      return `(lib.types.submodule ({ name, ... }: { ${freeform}options = { ${options.join(" ")} }; }))`;
    }
  }
}

/** `a.b."c.d"` as a Nix attribute path. */
const attrPath = (option: string) => parseOption(option).map((p) => JSON.stringify(p)).join(".");

/** One upstream module as Nix modules: one for its declarations, one per definition given our configuration, each naming its file. */
export function modulesFromFacts(u: UpstreamModule, view: ConfigView): string[] {
  const file = JSON.stringify(u.file);
  const decls = u.declarations.map((d) => `options.${attrPath(d.option)} = lib.mkOption { type = ${nixType(d.type)};${d.default !== undefined ? ` default = ${renderNix(d.default as NixValue)};` : ""} };`);
  const defs = u.definitions(view).map((d) => `{ _file = ${file}; config.${attrPath(d.option)} = lib.mkOverride ${d.priority ?? 100} (${renderNix(d.value as NixValue, 1)}); }`);
  return [`{ _file = ${file}; ${decls.join(" ")} }`, ...defs];
}
