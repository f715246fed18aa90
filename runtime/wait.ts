/**
 * The bounded wait of the jobs that run at boot (categories for qBittorrent, wire for the apps): ask,
 * and while the answer is one worth waiting out, ask again every `intervalMs` for at most
 * `waitSeconds`. Each caller says which errors are worth waiting out and how giving up reads.
 */
export interface WaitOptions {
  waitSeconds: number;
  intervalMs: number;
  /** An error worth asking again for (the service is still starting). */
  retryable: (error: unknown) => boolean;
  /** Called once, before the first pause. */
  onFirstWait: () => void;
  /** The error to throw when the wait ends without an answer, or on an error not worth waiting out. */
  gaveUp: (error: unknown, attempts: number) => unknown;
}

export async function waitForAnswer<T>(probe: () => Promise<T>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.waitSeconds * 1000;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      return await probe();
    } catch (error) {
      if (!options.retryable(error) || Date.now() + options.intervalMs > deadline) throw options.gaveUp(error, attempts);
      if (attempts === 1) options.onFirstWait();
      await new Promise((r) => setTimeout(r, options.intervalMs));
    }
  }
}

export const attemptsIn = (attempts: number, waitSeconds: number) => `${attempts} attempt${attempts === 1 ? "" : "s"} in ${waitSeconds}s`;
