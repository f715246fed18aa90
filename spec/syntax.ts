/**
 * Checks for the small value syntaxes the spec uses: absolute paths, rclone sizes, durations,
 * remote prefixes and version numbers. Each returns `undefined` when the value is fine, or one
 * sentence saying what is wrong and what to write instead. The zod schemas and the cross-field
 * rules both call these, so every message about a given syntax is worded in exactly one place.
 */
import { posix } from "node:path";

/** An absolute, normalised POSIX path with no trailing slash: `/media/arr/tv`. */
export function checkAbsolutePath(value: string): string | undefined {
  if (value === "") return "the path is empty; write an absolute path such as /media/arr/tv";
  if (/[\n\r\0]/.test(value)) return `${JSON.stringify(value)} contains a control character; remove it`;
  if (!value.startsWith("/")) {
    return `${JSON.stringify(value)} is relative; write an absolute path such as /${value.replace(/^\.?\/*/, "")}`;
  }
  const normal = normalisePath(value);
  if (normal !== value) return `${JSON.stringify(value)} is not normalised; write ${normal}`;
  return undefined;
}

export function normalisePath(value: string): string {
  const normal = posix.normalize(value);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/** True when `child` is `parent` itself or lies below it. Both must be normalised. */
export function isWithin(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent === "/" ? "/" : `${parent}/`);
}

/** rclone's size syntax as the spec uses it: a whole number and a binary-unit letter, `150G`. */
const SIZE = /^[1-9][0-9]*[KMGTP]$/;
export function checkSize(value: string): string | undefined {
  if (SIZE.test(value)) return undefined;
  const hint = value.match(/^([1-9][0-9]*)\s*([KMGTP])i?B?$/i);
  const example = hint ? `${hint[1]}${hint[2]!.toUpperCase()}` : "150G";
  return `${JSON.stringify(value)} is not a size; write a whole number and one of K, M, G, T, P with nothing after it, such as ${example}`;
}

/** Multiplier of each size suffix, in bytes (rclone's suffixes are binary: 1K = 1024). */
export const SIZE_UNITS = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 } as const;

export function sizeToBytes(value: string): number {
  const unit = value.slice(-1) as keyof typeof SIZE_UNITS;
  return Number(value.slice(0, -1)) * SIZE_UNITS[unit];
}

/**
 * Durations are written the way rclone writes them and systemd accepts them: one or more
 * number-unit pairs with no spaces, largest unit first: `30s`, `2m`, `1h30m`, `7d`.
 */
const DURATION = /^(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$/;
export const DURATION_UNITS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;

export function checkDuration(value: string): string | undefined {
  if (value !== "" && DURATION.test(value) && durationToSeconds(value) > 0) return undefined;
  const words = value.match(/^\s*([0-9]+)\s*(day|hour|minute|min|second|sec)s?\s*$/i);
  const letter = words ? { day: "d", hour: "h", minute: "m", min: "m", second: "s", sec: "s" }[words[2]!.toLowerCase()] : undefined;
  const example = words && letter ? `${words[1]}${letter}` : "2m";
  return `${JSON.stringify(value)} is not a duration; write numbers with the units d, h, m, s and no spaces, such as ${example}`;
}

export function durationToSeconds(value: string): number {
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/([0-9]+)([dhms])/g)) {
    total += Number(amount) * DURATION_UNITS[unit as keyof typeof DURATION_UNITS];
  }
  return total;
}

/** A remote prefix: a relative folder in the bucket ending with `/`, such as `tv/`. */
const PREFIX_SEGMENT = /^[A-Za-z0-9._-]+$/;
export function checkPrefix(value: string): string | undefined {
  if (isPrefix(value)) return undefined;
  const cleaned = value.replace(/^\/+/, "").replace(/\/*$/, "/");
  const example = isPrefix(cleaned) ? cleaned : "tv/";
  return `${JSON.stringify(value)} is not a remote prefix; write folder names of letters, digits, '.', '_' or '-', each followed by '/', such as ${example}`;
}
function isPrefix(value: string): boolean {
  const segments = value.endsWith("/") ? value.slice(0, -1).split("/") : [];
  return segments.length > 0 && segments.every((s) => PREFIX_SEGMENT.test(s) && s !== "." && s !== "..");
}

/** A dotted version number, `1.68` or `1.68.0`. */
export function checkVersion(value: string): string | undefined {
  return /^[0-9]+\.[0-9]+(\.[0-9]+)?$/.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not a version; write it as MAJOR.MINOR or MAJOR.MINOR.PATCH, such as 1.68.0`;
}

/** Compares dotted versions numerically: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
