/**
 * A MODEL of what the NixOS qBittorrent module does with `services.qbittorrent`: a TypeScript port
 * of its INI rendering and of how its unit passes the ports, so a test can hand a real
 * qbittorrent-nox the same file and flags a NixOS host would (nixpkgs itself is not available here).
 *
 * Ported from NixOS/nixpkgs, nixos/modules/services/torrent/qbittorrent.nix at commit
 * 05f24c7ff0db485da11c04ba070805e2aed69735 (the newest version readable here; the older 8c546dad
 * had no legacy seed and linked the file with tmpfiles instead of copying it). What it follows:
 * - `gendeepINI` (the `let` block): `lib.generators.toINI` with a `mkKeyValue` that, for a value
 *   that is an attribute set, emits one line per leaf, the key being the section-relative path
 *   joined with `\`, `=` in the key escaped, newlines in the value written as `\n`; any other value
 *   goes through `mkKeyValueDefault` (no newline replacement there).
 * - `legacyDefaultsSeed` (`BitTorrent.Session.QueueingSystemEnabled = false`) under
 *   `recursiveUpdate legacyDefaultsSeed cfg.serverConfig`, so the user's value wins.
 * - `ExecStartPre` (only when `serverConfig != { }`): `install -Dm600` of the file to
 *   `${profileDir}/qBittorrent/config/qBittorrent.conf`; tmpfiles makes `qBittorrent/` and
 *   `qBittorrent/config/` mode 755.
 * - `ExecStart`: `--profile=${profileDir}`, then `--webui-port=` when webuiPort is not null, then
 *   `--torrenting-port=` when torrentingPort is not null, then `extraArgs`. The ports are flags,
 *   not INI keys.
 * And from nixpkgs lib: `generators.toINI` (sections in attribute order, names with `[`/`]`
 * escaped, `[name]` then one line per key, sections joined by a blank line), `toKeyValue`,
 * `mkKeyValueDefault` (`escape [sep] k`), `mkValueStringDefault` (ints and strings as they are,
 * booleans `true`/`false`, null `null`, floats with Nix's `toString`, lists and functions refused),
 * `collect`/`mapAttrsRecursive` (leaves in attribute order, depth first) and `recursiveUpdate`.
 *
 * The input is the module evaluated to JSON, so Nix's attribute order (byte order of the names) is
 * restored by sorting, and a float with no fractional part cannot be told from an int.
 */

export type NixValue = string | number | boolean | null | NixValue[] | { [key: string]: NixValue };
type Attrs = { [key: string]: NixValue };

const isAttrs = (v: NixValue): v is Attrs => typeof v === "object" && v !== null && !Array.isArray(v);

/** Nix orders attribute names by their bytes. */
function names(attrs: Attrs): string[] {
  return Object.keys(attrs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** lib.strings.escape: a backslash before each listed character. */
function escape(chars: string[], s: string): string {
  return [...s].map((c) => (chars.includes(c) ? `\\${c}` : c)).join("");
}

/** lib.generators.mkValueStringDefault {}. */
export function mkValueStringDefault(v: NixValue): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(6); // toString of a float is printf %f
  if (typeof v === "string") return v;
  if (v === true) return "true";
  if (v === false) return "false";
  if (v === null) return "null";
  if (Array.isArray(v)) throw new Error(`generators.mkValueStringDefault: lists not supported: ${JSON.stringify(v)}`);
  if ("_type" in v) throw new Error(`an unmerged module value (_type ${JSON.stringify(v._type)}) reached the INI renderer: evaluate through the module system first`);
  throw new Error(`generators.mkValueStringDefault: attrsets not supported: ${JSON.stringify(v)}`);
}

/** gendeepINI's mkKeyValue for one key of a section. */
function mkKeyValue(k: string, v: NixValue): string {
  const sep = "=";
  if (!isAttrs(v)) return `${escape([sep], k)}${sep}${mkValueStringDefault(v)}`; // mkKeyValueDefault {} sep
  const lines: string[] = [];
  const walk = (path: string[], value: NixValue) => {
    if (isAttrs(value)) {
      if ("_type" in value) mkValueStringDefault(value);
      for (const name of names(value)) walk([...path, name], value[name]!);
    } else {
      lines.push(`${escape([sep], [k, ...path].join("\\"))}${sep}${mkValueStringDefault(value).replaceAll("\n", "\\n")}`);
    }
  };
  walk([], v);
  return lines.join("\n");
}

/** lib.generators.toINI { mkKeyValue = gendeepINI's; }. */
export function gendeepINI(sections: Attrs): string {
  return names(sections)
    .map((name) => {
      const values = sections[name]!;
      if (!isAttrs(values)) throw new Error(`INI section ${name} is not an attribute set: ${JSON.stringify(values)}`);
      return `[${escape(["[", "]"], name)}]\n` + names(values).map((k) => `${mkKeyValue(k, values[k]!)}\n`).join("");
    })
    .join("\n");
}

/** lib.recursiveUpdate: merges while both sides are attribute sets; otherwise the right side wins. */
export function recursiveUpdate(lhs: Attrs, rhs: Attrs): Attrs {
  const out: Attrs = { ...lhs };
  for (const [k, r] of Object.entries(rhs)) {
    const l = out[k];
    out[k] = l !== undefined && isAttrs(l) && isAttrs(r) ? recursiveUpdate(l, r) : r;
  }
  return out;
}

/** The module's legacyDefaultsSeed: the current defaults of qBittorrent's changedDefaults[] table. */
export const LEGACY_DEFAULTS_SEED: Attrs = { BitTorrent: { Session: { QueueingSystemEnabled: false } } };

/** The qBittorrent.conf the module installs, or undefined when serverConfig is empty (no ExecStartPre then). */
export function qbittorrentConf(serverConfig: Attrs): string | undefined {
  if (Object.keys(serverConfig).length === 0) return undefined;
  return gendeepINI(recursiveUpdate(LEGACY_DEFAULTS_SEED, serverConfig));
}

/** The parts of `services.qbittorrent` the unit's ExecStartPre and ExecStart read. */
export interface QbittorrentOptions {
  profileDir: string;
  webuiPort: number | null;
  torrentingPort: number | null;
  serverConfig: Attrs;
  extraArgs?: string[];
}

/** Where ExecStartPre installs the file (mode 0600). */
export const confPath = (profileDir: string) => `${profileDir}/qBittorrent/config/qBittorrent.conf`;

/** ExecStart's arguments after the program. */
export function execArgs(o: QbittorrentOptions): string[] {
  return [
    `--profile=${o.profileDir}`,
    ...(o.webuiPort !== null ? [`--webui-port=${o.webuiPort}`] : []),
    ...(o.torrentingPort !== null ? [`--torrenting-port=${o.torrentingPort}`] : []),
    ...(o.extraArgs ?? []),
  ];
}
