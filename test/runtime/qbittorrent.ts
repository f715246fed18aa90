/**
 * A real qbittorrent-nox for tests: on loopback, on free ports, with its profile in a temp folder.
 * Torrents are made with mktorrent from local data and added through the WebUI API; qBittorrent
 * checks the data and seeds it at once.
 */
import { execa, type ResultPromise } from "execa";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { freePort, requireTool } from "../helpers.ts";

export { freePort };

export interface Qbittorrent {
  url: string;
  /** Credentials when the localhost bypass is off (qBittorrent 4.5's defaults). */
  username: string;
  password: string;
  api(path: string, form?: Record<string, string> | FormData): Promise<Response>;
  add(dataPath: string, options?: { category?: string }): Promise<string>;
  torrents(): Promise<any[]>;
  waitSeeding(hash: string, minSeconds?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startQbittorrent(options: { defaultSavePath: string; bypassLocalhostAuth: boolean }): Promise<Qbittorrent> {
  const binary = requireTool("qbittorrent-nox");
  const mktorrent = requireTool("mktorrent");
  const profile = mkdtempSync(join(tmpdir(), "mp-qbt-"));
  const port = await freePort();
  const peer = await freePort();
  mkdirSync(join(profile, "qBittorrent/config"), { recursive: true });
  writeFileSync(
    join(profile, "qBittorrent/config/qBittorrent.conf"),
    [
      "[LegalNotice]",
      "Accepted=true",
      "",
      "[BitTorrent]",
      `Session\\DefaultSavePath=${options.defaultSavePath}`,
      "Session\\DisableAutoTMMByDefault=false",
      `Session\\Port=${peer}`,
      "Session\\DHTEnabled=false",
      "Session\\LSDEnabled=false",
      "Session\\PeXEnabled=false",
      "",
      "[Preferences]",
      "WebUI\\Address=127.0.0.1",
      `WebUI\\Port=${port}`,
      `WebUI\\LocalHostAuth=${options.bypassLocalhostAuth ? "false" : "true"}`,
      "Connection\\UPnP=false",
      "",
    ].join("\n"),
  );
  const child: ResultPromise = execa(binary, [`--profile=${profile}`], { reject: false, stdin: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  let cookie = "";
  const username = "admin";
  const password = "adminadmin";
  const api = async (path: string, form?: Record<string, string> | FormData) => {
    const body = form instanceof FormData ? form : form ? new URLSearchParams(form) : undefined;
    return fetch(`${url}${path}`, { method: form ? "POST" : "GET", body, headers: cookie ? { cookie } : {} });
  };
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/api/v2/app/webapiVersion`);
      break;
    } catch {
      if (i > 200) throw new Error(`qbittorrent-nox did not start on ${url}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (!options.bypassLocalhostAuth) {
    const login = await api("/api/v2/auth/login", { username, password });
    cookie = (login.headers.getSetCookie()[0] ?? "").split(";")[0]!;
  }
  const torrents = async () => (await (await api("/api/v2/torrents/info")).json()) as any[];
  return {
    url,
    username,
    password,
    api,
    torrents,
    async add(dataPath, addOptions = {}) {
      const file = join(mkdtempSync(join(tmpdir(), "mp-torrent-")), `${basename(dataPath)}.torrent`);
      await execa(mktorrent, ["-a", "http://127.0.0.1:1/announce", "-o", file, dataPath]);
      const form = new FormData();
      form.append("torrents", new Blob([readFileSync(file)]), basename(file));
      if (addOptions.category) {
        form.append("category", addOptions.category);
      } else {
        form.append("savepath", dirname(dataPath));
        form.append("autoTMM", "false");
      }
      const response = await api("/api/v2/torrents/add", form);
      if ((await response.text()) !== "Ok.") throw new Error(`adding ${file} failed`);
      const before = Date.now();
      for (;;) {
        const found = (await torrents()).find((t) => t.name === basename(dataPath));
        if (found) return found.hash as string;
        if (Date.now() - before > 10_000) throw new Error(`torrent ${basename(dataPath)} did not appear`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async waitSeeding(hash, minSeconds = 0) {
      const before = Date.now();
      for (;;) {
        const t = (await torrents()).find((x) => x.hash === hash);
        if (t && t.progress === 1 && !/^checking/.test(t.state) && t.content_path.startsWith("/") && t.seeding_time >= minSeconds) return;
        if (Date.now() - before > 30_000) throw new Error(`torrent ${hash} is not seeding: ${JSON.stringify(t)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      child.kill("SIGTERM");
      await child;
    },
  };
}
