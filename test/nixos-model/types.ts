/**
 * The vocabulary of the NixOS model: option types as `lib.types` declares them, and facts (a
 * declaration or a definition an upstream module makes) each tied to the source it was read from.
 *
 * This is a model of NixOS, written by this project. Every fact in `upstream.ts` names the file and
 * commit it was read from; `merge.ts` applies the module system's merge rules to them, and the
 * optional group in `real-lib.test.ts` checks those rules against the real `lib.evalModules`.
 */

/** An option type, as the upstream module declares it with `lib.types`. */
export type NixType =
  | { readonly t: "str" } // types.str: strings, merged only if all equal
  | { readonly t: "bool" }
  | { readonly t: "int" }
  | { readonly t: "port" } // types.port: ints 0–65535
  | { readonly t: "path" } // types.path: an absolute path or a path value
  | { readonly t: "package" }
  | { readonly t: "lines" } // types.lines: strings joined with newlines
  | { readonly t: "attrs" } // types.attrs: any attribute set, merged with //
  | { readonly t: "anything" }
  | { readonly t: "unitOption" } // nixos/lib/systemd-unit-options.nix: lists concatenate, other values must be equal
  | { readonly t: "enum"; readonly values: readonly (string | number | boolean)[] }
  | { readonly t: "nullOr"; readonly of: NixType }
  | { readonly t: "either"; readonly a: NixType; readonly b: NixType }
  | { readonly t: "listOf"; readonly of: NixType }
  | { readonly t: "attrsOf"; readonly of: NixType }
  | {
      readonly t: "submodule";
      readonly options: Readonly<Record<string, NixType>>;
      readonly freeform?: NixType;
      /** The declared defaults of its options; `ATTR_NAME` stands for the submodule's own attribute name (`default = name;`). */
      readonly defaults?: Readonly<Record<string, unknown>>;
    };

export const str: NixType = { t: "str" };
export const bool: NixType = { t: "bool" };
export const int: NixType = { t: "int" };
export const port: NixType = { t: "port" };
export const path: NixType = { t: "path" };
export const pkg: NixType = { t: "package" };
export const lines: NixType = { t: "lines" };
export const attrs: NixType = { t: "attrs" };
export const anything: NixType = { t: "anything" };
export const unitOption: NixType = { t: "unitOption" };
export const enumOf = (...values: (string | number | boolean)[]): NixType => ({ t: "enum", values });
export const nullOr = (of: NixType): NixType => ({ t: "nullOr", of });
export const either = (a: NixType, b: NixType): NixType => ({ t: "either", a, b });
export const listOf = (of: NixType): NixType => ({ t: "listOf", of });
export const attrsOf = (of: NixType): NixType => ({ t: "attrsOf", of });
export const submodule = (options: Record<string, NixType>, freeform?: NixType, defaults?: Record<string, unknown>): NixType => ({
  t: "submodule",
  options,
  ...(freeform ? { freeform } : {}),
  ...(defaults ? { defaults } : {}),
});
/** In a submodule's defaults: the attribute name the submodule is defined under. */
export const ATTR_NAME = Object.freeze({ _default: "the attribute's name" });

/** Where a fact was read: a repository, a file in it, and the commit of the version read. */
export interface Source {
  readonly repo: string;
  readonly path: string;
  readonly commit: string;
  /** The line(s) or the expression the fact comes from, quoted or paraphrased. */
  readonly quote?: string;
}

/** `options.<option> = mkOption { type = …; default = …; }` in an upstream module. */
export interface Declaration {
  /** The full option path, dot-separated, e.g. `services.copyparty.user`. */
  readonly option: string;
  readonly type: NixType;
  /** The declared default, where a definition of ours or a condition depends on it. */
  readonly default?: unknown;
  readonly source: Source;
}

/** Module priorities (lib/modules.nix): mkForce 50, a plain definition 100, mkDefault 1000, an option default 1500. */
export const PRIORITY = { force: 50, plain: 100, default: 1000, optionDefault: 1500 } as const;

/** A definition an upstream module makes, at a path that may go inside attrsOf and submodule values. */
export interface Definition {
  /** e.g. `systemd.services.copyparty.serviceConfig.UMask`; attribute names with dots are quoted: `environment.etc."fuse.conf".text` */
  readonly option: string;
  readonly value: unknown;
  readonly priority?: number;
  readonly source: Source;
}

/** Reads the configuration our modules produce (merged with declared defaults), for upstream definitions that depend on it. */
export type ConfigView = (option: string) => unknown;

/** One upstream module: what it declares and what it defines, given our configuration. */
export interface UpstreamModule {
  /** A short name: `copyparty`, `nixpkgs/sonarr`, `sops-nix`. */
  readonly name: string;
  /** The file as nixos-rebuild names it in messages, e.g. `/nix/store/…-source/nixos/modules/services/misc/servarr/sonarr.nix`. */
  readonly file: string;
  readonly declarations: readonly Declaration[];
  /** The definitions it makes when enabled; conditions (`mkIf cfg.enable`, `mkIf (cfg.user == "sonarr")`) are evaluated here against `cfg`. */
  readonly definitions: (cfg: ConfigView) => readonly Definition[];
}
