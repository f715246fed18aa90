/**
 * The one place Nix syntax is written. Generators build values with these helpers and `renderNix`
 * turns them into indented, deterministic Nix: strings are escaped here and nowhere else.
 */
import { hashComment } from "./comment.ts";

/** A Nix expression written verbatim, such as `pkgs.rclone` or `lib.mkForce "0002"`. */
export interface NixExpr {
  readonly kind: "expr";
  readonly code: string;
}
/** A string with `${...}` interpolations of Nix expressions between literal parts. */
export interface NixInterpolated {
  readonly kind: "interpolated";
  readonly parts: readonly (string | NixExpr)[];
}
/** A value with a comment above it, saying why it is there. */
export interface NixCommented {
  readonly kind: "commented";
  readonly comment: string;
  readonly value: NixValue;
}
/** A function applied to a value: `lib.mkOption { ... }`, rendered with the value's indentation. */
export interface NixCall {
  readonly kind: "call";
  readonly fn: string;
  readonly arg: NixValue;
}
export type NixValue =
  | NixCall
  | string
  | number
  | boolean
  | null
  | NixExpr
  | NixInterpolated
  | NixCommented
  | readonly NixValue[]
  | { readonly [key: string]: NixValue | undefined };

/** Brands the tagged values, so an attribute set that happens to have a `kind` key stays an attribute set. */
const TAG = Symbol("nix");
export const expr = (code: string): NixExpr => ({ [TAG]: true, kind: "expr", code }) as NixExpr;
export const interpolate = (...parts: (string | NixExpr)[]): NixInterpolated => ({ [TAG]: true, kind: "interpolated", parts }) as NixInterpolated;
export const commented = (comment: string, value: NixValue): NixCommented => ({ [TAG]: true, kind: "commented", comment, value }) as NixCommented;
export const call = (fn: string, arg: NixValue): NixCall => ({ [TAG]: true, kind: "call", fn, arg }) as NixCall;
export const mkForce = (value: NixValue): NixCall => call("lib.mkForce", value);

const isTagged = (v: unknown): v is NixExpr | NixInterpolated | NixCommented | NixCall =>
  typeof v === "object" && v !== null && TAG in v;

/** Escapes text for a double-quoted Nix string. `followedByInterpolation` guards a trailing `$`. */
export function escapeNixString(text: string, followedByInterpolation = false): string {
  let out = text
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\$\{/g, "\\${")
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t");
  // A literal `$` right before an interpolation would read as `$${`, which Nix takes as a literal `${`.
  if (followedByInterpolation && out.endsWith("$")) out = `${out.slice(0, -1)}\\$`;
  return out;
}

export function nixString(text: string): string {
  return `"${escapeNixString(text)}"`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_'-]*$/;
const KEYWORDS = new Set(["if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"]);
export function nixAttrName(name: string): string {
  return IDENT.test(name) && !KEYWORDS.has(name) ? name : nixString(name);
}

const isPlainAttrs = (v: NixValue): v is { readonly [key: string]: NixValue | undefined } =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !isTagged(v);

/**
 * Folds chains of one-attribute sets into a dotted path, as people write NixOS config by hand:
 * `{ services = { nginx = { enable = true; }; }; }` becomes `services.nginx.enable = true;`.
 */
function attrPath(key: string, value: NixValue): [string, NixValue] {
  let path = nixAttrName(key);
  let inner = value;
  while (isPlainAttrs(inner)) {
    const defined = Object.entries(inner).filter(([, v]) => v !== undefined) as [string, NixValue][];
    if (defined.length !== 1) break;
    const [k, v] = defined[0]!;
    if (isTagged(v) && v.kind === "commented") break;
    path += `.${nixAttrName(k)}`;
    inner = v;
  }
  return [path, inner];
}

/** Renders a value at the given indent level (two spaces per level). */
export function renderNix(value: NixValue, level = 0): string {
  const pad = "  ".repeat(level + 1);
  const close = "  ".repeat(level);
  if (value === null) return "null";
  if (typeof value === "string") return nixString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`Nix renderer: only whole numbers are supported, got ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return "[ ]";
    const items = value.map((v) => renderNix(v as NixValue, level + 1));
    const oneLine = `[ ${items.join(" ")} ]`;
    if (oneLine.length <= 80 && !oneLine.includes("\n") && items.every((i) => !i.startsWith("{"))) return oneLine;
    return `[\n${items.map((i) => `${pad}${i}`).join("\n")}\n${close}]`;
  }
  if (isTagged(value)) {
    if (value.kind === "expr") return value.code;
    if (value.kind === "call") return `${value.fn} ${renderNix(value.arg, level)}`;
    if (value.kind === "interpolated") {
      const parts = value.parts;
      return `"${parts
        .map((part, i) => (typeof part === "string" ? escapeNixString(part, typeof parts[i + 1] === "object") : `\${${part.code}}`))
        .join("")}"`;
    }
    return renderNix(value.value, level);
  }
  const entries = Object.entries(value as Record<string, NixValue | undefined>).filter(([, v]) => v !== undefined) as [string, NixValue][];
  if (entries.length === 0) return "{ }";
  const lines = entries.map(([key, v]) => {
    const [path, inner] = attrPath(key, v);
    const body = `${pad}${path} = ${renderNix(inner, level + 1)};`;
    return isTagged(v) && v.kind === "commented" ? `${hashComment(v.comment, pad)}\n${body}` : body;
  });
  return `{\n${lines.join("\n")}\n${close}}`;
}

/** A whole module file: header comment, function arguments, optional `let`, and the body. */
export function renderNixModule(options: {
  header: string;
  args: readonly string[];
  let?: Readonly<Record<string, NixValue>>;
  body: NixValue;
}): string {
  const lines = [hashComment(options.header), `{ ${[...options.args, "..."].join(", ")} }:`];
  const letEntries = Object.entries(options.let ?? {});
  if (letEntries.length > 0) {
    lines.push("let");
    for (const [name, value] of letEntries) lines.push(`  ${nixAttrName(name)} = ${renderNix(value, 1)};`);
    lines.push("in");
  }
  lines.push(renderNix(options.body, 0));
  return `${lines.join("\n")}\n`;
}
