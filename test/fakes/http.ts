/** The HTTP part every fake shares: a loopback server, the request log, the start-up window. */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface WriteRecord { app: string; method: string; path: string; body?: unknown }

export interface FakeBase {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Every request that changed state (not GETs, not login checks, not /test). */
  writes: WriteRecord[];
  /** Every request or response that broke the contract or a source fact, one sentence each. */
  violations: string[];
  /** Everything seen. */
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

export interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  contentType: string;
  raw: Buffer;
  /** The parsed JSON body; undefined when the body is empty; a SyntaxError when it is not JSON. */
  json: unknown;
}

export interface Reply { status: number; body?: unknown; text?: string; headers?: Record<string, string> }

export const json = (status: number, body?: unknown, headers?: Record<string, string>): Reply => ({ status, body, headers });

/**
 * Starts a server on 127.0.0.1 and a free port. For `unavailableForMs` after the start every
 * request gets `starting()` (the apps answer 503 while they start). `check` sees each request and
 * its reply (the contract checks); `handle` may be async.
 */
export async function serve(
  options: { unavailableForMs?: number; starting: (req: Req) => Reply; check?: (req: Req, reply: Reply) => void },
  handle: (req: Req) => Reply | Promise<Reply>,
): Promise<Omit<FakeBase, "writes" | "violations"> & { requests: FakeBase["requests"] }> {
  const requests: FakeBase["requests"] = [];
  const startedAt = Date.now();
  const server = createServer((incoming, res) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (c: Buffer) => chunks.push(c));
    incoming.on("end", async () => {
      const url = new URL(incoming.url ?? "/", "http://fake");
      const raw = Buffer.concat(chunks);
      const contentType = String(incoming.headers["content-type"] ?? "");
      let parsed: unknown;
      if (raw.length > 0 && contentType.includes("json")) {
        try { parsed = JSON.parse(raw.toString("utf8")); } catch (e) { parsed = e as SyntaxError; }
      }
      const req: Req = { method: incoming.method ?? "GET", path: url.pathname, query: url.searchParams, headers: incoming.headers, contentType, raw, json: parsed };
      let reply: Reply;
      try {
        reply = Date.now() - startedAt < (options.unavailableForMs ?? 0) ? options.starting(req) : await handle(req);
      } catch (e) {
        reply = { status: 500, text: `fake failed: ${(e as Error).stack ?? e}` };
      }
      if (reply.status !== 503) options.check?.(req, reply);
      requests.push({ method: req.method, path: req.path, status: reply.status });
      const headers: Record<string, string> = { ...reply.headers };
      let payload = "";
      if (reply.body !== undefined) {
        payload = JSON.stringify(reply.body);
        headers["content-type"] ??= "application/json; charset=utf-8";
      } else if (reply.text !== undefined) {
        payload = reply.text;
        headers["content-type"] ??= "text/plain; charset=utf-8";
      }
      res.writeHead(reply.status, headers).end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Parses an application/x-www-form-urlencoded or multipart/form-data body (ASP.NET's [FromForm] takes both). */
export async function formFields(req: Req): Promise<Record<string, string> | undefined> {
  if (!/x-www-form-urlencoded|multipart\/form-data/.test(req.contentType)) return undefined;
  const form = await new Response(new Uint8Array(req.raw), { headers: { "content-type": req.contentType } }).formData();
  const out: Record<string, string> = {};
  form.forEach((v, k) => { if (typeof v === "string") out[k] = v; });
  return out;
}
