/**
 * One run at a time: a lock file holding the owner's pid, created with O_EXCL. A lock left by a
 * process that no longer exists (killed with SIGKILL) is taken over.
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync, linkSync } from "node:fs";
import { log } from "./log.ts";

export interface Lock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock, or returns the pid of the live process that holds it. */
export function acquireLock(path: string): Lock | { heldBy: number } {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => (readPid(path) === process.pid ? rmSync(path, { force: true }) : undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readPid(path);
    if (holder !== undefined && alive(holder)) return { heldBy: holder };
    // Stale: move it aside atomically, and put it back if another run replaced it meanwhile.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    const moved = readPid(aside);
    if (moved !== holder && moved !== undefined && alive(moved)) {
      try {
        linkSync(aside, path);
      } catch {
        /* the other run's lock is gone already */
      }
      rmSync(aside, { force: true });
      return { heldBy: moved };
    }
    rmSync(aside, { force: true });
  }
  throw new Error(`cannot take the lock ${path}`);
}

/**
 * Runs a job holding its lock. When another run holds it, says so and returns false without running.
 * A dry run changes nothing, so it takes no lock.
 */
export async function withLock(path: string, job: string, dryRun: boolean, fn: () => Promise<void>): Promise<boolean> {
  if (dryRun) {
    await fn();
    return true;
  }
  const lock = acquireLock(path);
  if ("heldBy" in lock) {
    log.info(`${job}: another ${job} run (pid ${lock.heldBy}) is in progress; exiting`);
    return false;
  }
  try {
    await fn();
  } finally {
    lock.release();
  }
  return true;
}
