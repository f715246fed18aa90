/**
 * A small client for qBittorrent's WebUI API v2, for the 4.x and 5.x lines alike: login answers
 * 200 "Ok." (≤ 5.1) or 204 (≥ 5.2), the session cookie is `SID` or `QBT_SID_<port>` (whatever is
 * set is sent back), and "Bypass authentication for clients on localhost" needs no login at all.
 * Every answer is validated; anything unexpected throws, so callers never act on nonsense.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

export class QbittorrentError extends Error {}

const Hash = z.string().regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/);

export const TorrentInfo = z.object({
  hash: Hash,
  name: z.string(),
  category: z.string(),
  state: z.string(),
  save_path: z.string(),
  /** The temp folder of an incomplete torrent (WebUI API 2.8+, qBittorrent 4.4+); "" when none. */
  download_path: z.string().optional(),
  /** "" while a magnet is still fetching its metadata: its files are not known yet. */
  content_path: z.string(),
  progress: z.number(),
  seeding_time: z.number().int().min(0),
  completion_on: z.number().int(),
});
export type Torrent = z.infer<typeof TorrentInfo>;

export const TorrentFile = z.object({ name: z.string().min(1), size: z.number().int().min(0), priority: z.number().int().optional() });
export type TorrentFileInfo = z.infer<typeof TorrentFile>;

const Categories = z.record(z.string(), z.object({ name: z.string(), savePath: z.string() }));

export interface Credentials {
  username: string;
  password: string;
}

/** Reads `username:password` (first line) from a file; the values never reach a log line. */
export function readCredentials(file: string): Credentials {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new QbittorrentError(`cannot read the credentials file ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const line = text.split(/\r?\n/)[0] ?? "";
  const colon = line.indexOf(":");
  if (colon <= 0) throw new QbittorrentError(`the credentials file ${file} must hold one line: username:password`);
  return { username: line.slice(0, colon), password: line.slice(colon + 1) };
}

export class QbittorrentClient {
  private cookie: string | undefined;

  constructor(
    readonly url: string,
    private readonly credentials?: Credentials,
    private readonly timeoutMs = 15_000,
  ) {}

  private async request(method: "GET" | "POST", path: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    let body: string | undefined;
    if (form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    }
    try {
      return await fetch(`${this.url}${path}`, { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new QbittorrentError(`cannot reach qBittorrent at ${this.url} (${cause})`);
    }
  }

  /** Logs in when credentials are configured; with the localhost bypass there is nothing to do. */
  async login(): Promise<void> {
    if (!this.credentials) return;
    const response = await this.request("POST", "/api/v2/auth/login", this.credentials as unknown as Record<string, string>);
    const text = await response.text();
    const ok = response.status === 204 || (response.status === 200 && text.trim() === "Ok.");
    if (!ok) {
      const why = response.status === 403 ? "this client is banned after too many failed logins" : "the username or password was refused";
      throw new QbittorrentError(`login to qBittorrent failed (HTTP ${response.status}): ${why}`);
    }
    const cookies = response.headers.getSetCookie().map((c) => c.split(";")[0]!).filter((c) => c.includes("="));
    if (cookies.length === 0) throw new QbittorrentError("qBittorrent accepted the login but set no session cookie");
    this.cookie = cookies.join("; ");
  }

  private async json<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const response = await this.request("GET", path);
    if (response.status === 403) {
      throw new QbittorrentError(
        `qBittorrent answered 403 Forbidden to ${path}: it requires a login${this.credentials ? " and refused this session" : "; configure qbittorrent.credentialsFile or enable the localhost bypass"}`,
      );
    }
    if (!response.ok) throw new QbittorrentError(`qBittorrent answered HTTP ${response.status} to ${path}`);
    let data: unknown;
    try {
      data = await response.json();
    } catch {
      throw new QbittorrentError(`qBittorrent's answer to ${path} is not JSON`);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new QbittorrentError(`qBittorrent's answer to ${path} is not what this tool understands (${issue.path.join(".") || "the answer"}: ${issue.message})`);
    }
    return parsed.data;
  }

  private async post(path: string, form: Record<string, string>): Promise<Response> {
    const response = await this.request("POST", path, form);
    if (response.status === 403) throw new QbittorrentError(`qBittorrent answered 403 Forbidden to ${path}: it requires a login`);
    return response;
  }

  async version(): Promise<string> {
    const response = await this.request("GET", "/api/v2/app/webapiVersion");
    if (response.status === 403) return "unknown (login required)";
    if (!response.ok) throw new QbittorrentError(`qBittorrent answered HTTP ${response.status} to /api/v2/app/webapiVersion`);
    return (await response.text()).trim();
  }

  torrents(): Promise<Torrent[]> {
    return this.json("/api/v2/torrents/info", z.array(TorrentInfo));
  }

  files(hash: string): Promise<TorrentFileInfo[]> {
    return this.json(`/api/v2/torrents/files?hash=${hash}`, z.array(TorrentFile));
  }

  categories(): Promise<z.infer<typeof Categories>> {
    return this.json("/api/v2/torrents/categories", Categories);
  }

  async createCategory(name: string, savePath: string): Promise<"created" | "exists"> {
    const response = await this.post("/api/v2/torrents/createCategory", { category: name, savePath });
    if (response.status === 409) return "exists";
    if (!response.ok) throw new QbittorrentError(`createCategory ${name} failed: HTTP ${response.status} ${await response.text()}`);
    return "created";
  }

  async editCategory(name: string, savePath: string): Promise<void> {
    const response = await this.post("/api/v2/torrents/editCategory", { category: name, savePath });
    if (!response.ok) throw new QbittorrentError(`editCategory ${name} failed: HTTP ${response.status} ${await response.text()}`);
  }

  /** Removes a torrent; with `deleteFiles` false its files stay on disk (cleanup deletes the ones it checked itself). */
  async deleteTorrent(hash: string, deleteFiles: boolean): Promise<void> {
    const response = await this.post("/api/v2/torrents/delete", { hashes: hash, deleteFiles: String(deleteFiles) });
    if (!response.ok) throw new QbittorrentError(`deleting torrent ${hash} failed: HTTP ${response.status}`);
  }
}
