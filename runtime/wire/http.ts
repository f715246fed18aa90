/**
 * The wire job's HTTP client: one per app, every call bounded by a timeout, every unexpected answer
 * one sentence naming the app, the call and what came back.
 */
import { attemptsIn, waitForAnswer } from "../wait.ts";

export class WireError extends Error {}
/** The app did not answer, or answered that it is still starting (503): worth asking again while it starts. */
export class NotUpYet extends WireError {}

export interface CallOptions {
  query?: Record<string, string | boolean | number | undefined>;
  /** A JSON body. */
  json?: unknown;
  /** A form body, sent as multipart/form-data: the one media type the apps' OpenAPI documents list for /login. */
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Statuses that are answers, not failures; default 2xx. */
  accept?: (status: number) => boolean;
}

export interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** Seconds each request may take before it counts as unanswered. */
const REQUEST_TIMEOUT_MS = 30_000;

export class AppClient {
  constructor(
    /** Shown in every message: `Sonarr`. */
    readonly app: string,
    readonly baseUrl: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  url(path: string, query?: CallOptions["query"]): string {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.append(key, String(value));
    return url.toString();
  }

  async call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = { Accept: "application/json", ...this.headers, ...options.headers };
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form) {
      const form = new FormData();
      for (const [key, value] of Object.entries(options.form)) form.append(key, value);
      body = form; // fetch writes the multipart Content-Type with its boundary
    }
    const what = `${method} ${path}`;
    let response: Response;
    try {
      response = await fetch(this.url(path, options.query), { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new NotUpYet(`${this.app} did not answer ${what} at ${this.baseUrl} (${cause})`);
    }
    const text = await response.text();
    const accept = options.accept ?? ((s: number) => s >= 200 && s < 300);
    if (!accept(response.status)) {
      const message = `${this.app} answered ${what} with ${response.status} ${response.statusText}${describeBody(text)}`;
      throw response.status === 502 || response.status === 503 || response.status === 504 ? new NotUpYet(message) : new WireError(message);
    }
    let parsed: unknown = text;
    if ((response.headers.get("content-type") ?? "").includes("json") && text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new WireError(`${this.app} answered ${what} with JSON it could not parse: ${excerpt(text)}`);
      }
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  async get<T>(path: string, options?: CallOptions): Promise<T> {
    return (await this.call<T>("GET", path, options)).body;
  }
}

const excerpt = (text: string) => JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);

/** The apps answer a refused write with a list of validation failures; say them, not the raw JSON. */
function describeBody(text: string): string {
  if (!text) return "";
  try {
    const body = JSON.parse(text) as unknown;
    if (Array.isArray(body)) {
      const failures = body
        .map((f) => (f && typeof f === "object" && "errorMessage" in f ? `${String((f as { propertyName?: unknown }).propertyName ?? "")}: ${String((f as { errorMessage: unknown }).errorMessage)}` : undefined))
        .filter(Boolean);
      if (failures.length > 0) return `: ${failures.join("; ")}`;
    }
    if (body && typeof body === "object" && "message" in body) return `: ${String((body as { message: unknown }).message)}`;
  } catch {
    // not JSON: show the text
  }
  return `: ${excerpt(text)}`;
}

/** The app is up but refuses us (a wrong API key): waiting will not help. */
export class RefusedError extends WireError {}

/** Asks `probe` until the app answers, waiting out only NotUpYet; a refusal or an unexpected answer ends it at once. */
export function waitUntilUp(app: string, waitSeconds: number, probe: () => Promise<void>, onWait: () => void, intervalMs = 2000): Promise<void> {
  return waitForAnswer(probe, {
    waitSeconds,
    intervalMs,
    retryable: (error) => error instanceof NotUpYet,
    onFirstWait: onWait,
    gaveUp: (error, attempts) => (error instanceof NotUpYet ? new WireError(`${error.message}; gave up waiting for ${app} after ${attemptsIn(attempts, waitSeconds)}`) : error),
  });
}
