/**
 * Log lines for journald: one event per line on stdout. Under systemd (JOURNAL_STREAM is set) each
 * line carries a syslog priority prefix, so `journalctl -p warning` finds failures; in a terminal
 * the prefixes are left out.
 */
const underJournal = () => Boolean(process.env.JOURNAL_STREAM);
const PRIORITY = { error: 3, warning: 4, info: 6 } as const;
type Level = keyof typeof PRIORITY;

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

type Sink = (level: Level, line: string) => void;
const stdio: Sink = (level, line) => (level === "info" ? process.stdout : process.stderr).write(`${line}\n`);
let sink: Sink = stdio;

/** Sends log lines elsewhere (tests that run the jobs in-process); `undefined` restores stdout/stderr. */
export function setLogSink(next: Sink | undefined): void {
  sink = next ?? stdio;
}

function write(level: Level, message: string): void {
  const text = message.replace(/\r?\n/g, "⏎");
  sink(level, underJournal() ? `<${PRIORITY[level]}>${text}` : level === "info" ? text : `${level}: ${text}`);
}

export const log: Logger = {
  info: (m) => write("info", m),
  warn: (m) => write("warning", m),
  error: (m) => write("error", m),
};

/** `1.2 GiB`, `350 KiB`, `12 B`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Quotes a path for a log line so spaces, quotes and newlines stay readable and unambiguous. */
export function q(path: string): string {
  return JSON.stringify(path);
}
