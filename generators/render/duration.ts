/**
 * The one place a spec duration (`2m`, `1h30m`, `7d`) is split into days, hours, minutes and
 * seconds, spelled for systemd (`1h 30min`) or for prose (`1 hour 30 minutes`).
 */
import { durationToSeconds } from "../../spec/syntax.ts";

const STEPS = [
  { seconds: 86_400, systemd: "d", word: "day" },
  { seconds: 3_600, systemd: "h", word: "hour" },
  { seconds: 60, systemd: "min", word: "minute" },
  { seconds: 1, systemd: "s", word: "second" },
] as const;

/** Each non-zero step of the duration, largest first, with how many of it. */
function durationParts(value: string): { n: number; step: (typeof STEPS)[number] }[] {
  let rest = durationToSeconds(value);
  const out: { n: number; step: (typeof STEPS)[number] }[] = [];
  for (const step of STEPS) {
    const n = Math.floor(rest / step.seconds);
    if (n > 0) out.push({ n, step });
    rest -= n * step.seconds;
  }
  return out;
}

/** Spec durations in systemd's spelling: `2m` as `2min`, `1h30m` as `1h 30min`. */
export function systemdDuration(value: string): string {
  return durationParts(value)
    .map(({ n, step }) => `${n}${step.systemd}`)
    .join(" ");
}

/** Spec durations for prose: `7d` as "7 days", `1h30m` as "1 hour 30 minutes". */
export function humanDuration(value: string): string {
  return durationParts(value)
    .map(({ n, step }) => `${n} ${step.word}${n === 1 ? "" : "s"}`)
    .join(" ");
}
