/**
 * What one wire run did: each change it made (or, in a dry run, would make), each thing it found
 * that the spec does not own and left alone, and each change it could not make yet. One journald
 * line per entry, as it happens.
 */
import { log } from "../log.ts";

export class WireRun {
  changes = 0;
  reported = 0;
  pending = 0;
  failed: string[] = [];

  constructor(readonly dryRun: boolean) {}

  /** Makes a change the spec asks for; in a dry run only says it. */
  async change(app: string, description: string, apply: () => Promise<void>): Promise<void> {
    if (this.dryRun) {
      this.changes++;
      log.info(`${app}: would ${description}`);
      return;
    }
    await apply();
    // Counted once made: a change the app refused is a failure, not a change.
    this.changes++;
    log.info(`${app}: ${pastTense(description)}`);
  }

  /** Something the spec does not declare: said, left as it is. */
  report(app: string, message: string): void {
    this.reported++;
    log.warn(`${app}: ${message}; left as it is (not in the spec)`);
  }

  /** Something worth a look, not a change: said, counted with the reports. */
  warn(app: string, message: string): void {
    this.reported++;
    log.warn(`${app}: ${message}`);
  }

  /** A change that cannot be made yet and will be retried by a later run. */
  later(app: string, message: string): void {
    this.pending++;
    log.warn(`${app}: ${message}`);
  }

  fail(app: string, message: string): void {
    if (!this.failed.includes(app)) this.failed.push(app);
    log.error(`${app}: ${message}`);
  }

  ok(app: string, message: string): void {
    log.info(`${app}: ${message}`);
  }
}

/** "add root folder …" → "added root folder …": the log says what happened, the dry run what would. */
function pastTense(description: string): string {
  const [verb, ...rest] = description.split(" ");
  const past: Record<string, string> = { add: "added", set: "set", turn: "turned", complete: "completed", enable: "enabled", point: "pointed", create: "created", scan: "started a scan of", update: "updated" };
  return [past[verb!] ?? verb, ...rest].join(" ");
}
