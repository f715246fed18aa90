/**
 * The one place systemd unit syntax is written: sections of `Key=value` lines, and the quoting of
 * command lines. NixOS renders `serviceConfig` the same way (lists become repeated keys, booleans
 * become true/false), which is what lets the standalone units and the NixOS module agree.
 */
import { hashComment } from "./comment.ts";

export type UnitScalar = string | number | boolean;
export type UnitValue = UnitScalar | readonly UnitScalar[];
export type UnitSection = Readonly<Record<string, UnitValue | undefined>>;

/** How systemd (and NixOS's systemd-lib) writes one value. */
export function unitScalar(value: UnitScalar): string {
  if (typeof value === "boolean") return value ? "true" : "false";
  return String(value);
}

/** A value as the list of lines systemd sees: one per list item. */
export function unitLines(value: UnitValue): string[] {
  return Array.isArray(value) ? value.map(unitScalar) : [unitScalar(value as UnitScalar)];
}

export function renderSection(name: string, section: UnitSection): string {
  const lines = [`[${name}]`];
  for (const [key, value] of Object.entries(section)) {
    if (value === undefined) continue;
    for (const line of unitLines(value)) {
      if (/[\n\r]/.test(line)) throw new Error(`systemd renderer: ${key} contains a line break`);
      lines.push(`${key}=${line}`);
    }
  }
  return lines.join("\n");
}

export function renderUnitFile(header: string, sections: readonly (readonly [string, UnitSection])[]): string {
  return `${hashComment(header)}\n${sections.map(([name, body]) => renderSection(name, body)).join("\n\n")}\n`;
}

const SAFE_ARG = /^[A-Za-z0-9_@+=:,./-]+$/;
/**
 * Quotes one argument of an Exec line so systemd passes it through unchanged: specifiers (`%`) and
 * variable expansion (`$`) are doubled, and anything else unusual goes inside double quotes.
 */
export function quoteExecArg(arg: string): string {
  if (SAFE_ARG.test(arg)) return arg;
  const escaped = arg
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/\t/g, "\\t")
    .replace(/%/g, "%%")
    .replace(/\$/g, "$$$$");
  return `"${escaped}"`;
}

/**
 * Quotes one word of a space-separated list setting such as ReadWritePaths=, where systemd splits
 * on whitespace, removes quotes and expands `%` specifiers.
 */
export function quoteUnitWord(word: string): string {
  const escaped = word.replace(/%/g, "%%");
  if (/^[A-Za-z0-9_@+=:,./%-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
