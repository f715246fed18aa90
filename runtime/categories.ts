/**
 * `categories`: brings qBittorrent's download categories to the spec: creates the missing ones and
 * moves an existing one back to the spec's save path (`editCategory`). Run at boot, so it first waits
 * for qBittorrent to answer, for a bounded time.
 */
import type { RuntimeConfigModel } from "./config.ts";
import { log, q } from "./log.ts";
import { QbittorrentClient, QbittorrentError, readCredentials } from "./qbittorrent.ts";
import { attemptsIn, waitForAnswer } from "./wait.ts";

export function clientFor(config: RuntimeConfigModel): QbittorrentClient {
  const credentials = config.qbittorrent.credentialsFile ? readCredentials(config.qbittorrent.credentialsFile) : undefined;
  return new QbittorrentClient(config.qbittorrent.url, credentials);
}

/** Polls until qBittorrent answers, every `intervalMs`, for at most `waitSeconds`. */
export function waitForQbittorrent(client: QbittorrentClient, waitSeconds: number, intervalMs = 2000): Promise<string> {
  return waitForAnswer(() => client.version(), {
    waitSeconds,
    intervalMs,
    retryable: (error) => error instanceof QbittorrentError,
    onFirstWait: () => log.info(`categories: waiting for qBittorrent at ${client.url}`),
    gaveUp: (error, attempts) => new QbittorrentError(`${(error as Error).message}; gave up after ${attemptsIn(attempts, waitSeconds)}`),
  });
}

export async function categories(config: RuntimeConfigModel, options: { dryRun: boolean }): Promise<number> {
  const client = clientFor(config);
  const version = await waitForQbittorrent(client, config.qbittorrent.waitSeconds);
  await client.login();
  const existing = await client.categories();
  let changed = 0;
  for (const [name, savePath] of Object.entries(config.qbittorrent.categories).sort(([a], [b]) => a.localeCompare(b))) {
    const current = existing[name];
    if (current && current.savePath.replace(/\/+$/, "") === savePath) {
      log.info(`category ${q(name)} already saves to ${q(savePath)}`);
      continue;
    }
    changed++;
    if (options.dryRun) {
      log.info(current ? `would move category ${q(name)} from ${q(current.savePath)} to ${q(savePath)}` : `would create category ${q(name)} saving to ${q(savePath)}`);
      continue;
    }
    if (!current && (await client.createCategory(name, savePath)) === "created") {
      log.info(`created category ${q(name)} saving to ${q(savePath)}`);
    } else {
      await client.editCategory(name, savePath);
      log.info(`moved category ${q(name)} from ${q(current?.savePath ?? "")} to ${q(savePath)}`);
    }
  }
  log.info(`categories ${options.dryRun ? "(dry run) " : ""}done: ${changed} changed, ${Object.keys(config.qbittorrent.categories).length - changed} already right (WebUI API ${version})`);
  return 0;
}
