/**
 * A real nginx serving the generated dashboard on a free loopback port. The page and the config are
 * generated from the default spec with only the test's values changed through the spec: the
 * dashboard port, the web root and the secrets folder (temp folders), and the RC's port (a free
 * one below 1024, as the spec's privilegedRcPort rule requires, where a test may start a real
 * rclone RC). The htpasswd file nginx reads is exactly what secretsFileContent(spec, "nginx")
 * says, with a test password in place of the sops value.
 */
import { execa, type ResultPromise } from "execa";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SECRET_FILES, secretsFileContent, type SecretPart } from "../../generators/secrets.ts";
import type { SpecInput, SpecModel } from "../../spec/schema.ts";
import { parseSpec } from "../../spec/validate.ts";
import { fileOf, freePort, freePrivilegedPort, generateFrom, requireTool, specWith } from "../helpers.ts";

export interface DashboardServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** The dashboard's port on loopback. */
  port: number;
  /** The spec the config was generated from. */
  spec: SpecModel;
  /** Where nginx reads the RC's htpasswd file from (spec.standalone.secretsDir). */
  secretsDir: string;
  /** The port (below 1024) nginx proxies the RC's stats to (spec.endpoints.rcloneRc.port); nothing listens there unless the test starts it. */
  rcPort: number;
  /** The RC password in the htpasswd file. */
  rcPassword: string;
  /** The generated nginx.conf nginx runs. */
  config: string;
  stop(): Promise<void>;
}

export interface DashboardOptions {
  /** The RC password written into the htpasswd file in place of the sops value. */
  rcPassword?: string;
}

/** A secrets file's text with each sops key replaced by `values[key]`, as sops-nix (or the operator) would write it. */
export function fillSecrets(parts: readonly SecretPart[], values: Readonly<Record<string, string>>): string {
  return parts
    .map((part) => {
      if (typeof part === "string") return part;
      const value = values[part.sopsKey];
      if (value === undefined) throw new Error(`no test value for the sops key ${part.sopsKey}`);
      return value;
    })
    .join("");
}

/** The test's value for the RC password's sops key. */
export const rcSecrets = (spec: SpecModel, password: string): Record<string, string> => ({ [spec.secrets.rcloneRc.password.sopsKey]: password });

/**
 * The mount's secrets file as systemd would hand it to rclone (EnvironmentFile): the RC password
 * given, every other sops key a test value `test-<key>`.
 */
export function mountSecretsEnvironment(spec: SpecModel, rcPassword: string): Record<string, string> {
  const parts = secretsFileContent(spec, "mount");
  const values: Record<string, string> = {};
  for (const part of parts) if (typeof part !== "string") values[part.sopsKey] = `test-${part.sopsKey.replace(/\W/g, "-")}`;
  const text = fillSecrets(parts, { ...values, ...rcSecrets(spec, rcPassword) });
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

export async function startDashboard(options: DashboardOptions = {}): Promise<DashboardServer> {
  const nginx = requireTool("nginx");
  const dir = mkdtempSync(join(tmpdir(), "mp-nginx-"));
  // nginx's workers drop to an unprivileged user, which must be able to read the page and the htpasswd file.
  chmodSync(dir, 0o755);
  const wwwRoot = join(dir, "www");
  const secretsDir = join(dir, "secrets");
  const port = await freePort();
  const rcPort = await freePrivilegedPort();
  const input: SpecInput = specWith((s) => {
    s.dashboard.port = port;
    s.standalone.wwwRoot = wwwRoot;
    s.standalone.secretsDir = secretsDir;
    s.endpoints.rcloneRc.port = rcPort;
  });
  const spec = parseSpec(input);
  const files = generateFrom(input);
  mkdirSync(wwwRoot);
  for (const file of files.filter((f) => f.path.startsWith("www/"))) {
    const target = join(wwwRoot, file.path.slice("www/".length));
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    writeFileSync(target, file.contents);
  }
  const rcPassword = options.rcPassword ?? "test-rc-password";
  mkdirSync(secretsDir, { mode: 0o755 });
  writeFileSync(join(secretsDir, SECRET_FILES.nginx), fillSecrets(secretsFileContent(spec, "nginx"), rcSecrets(spec, rcPassword)), { mode: 0o644 });
  const config = fileOf(files, "nginx/nginx.conf");
  writeFileSync(join(dir, "nginx.conf"), config);
  mkdirSync(join(dir, "logs"));
  const server: ResultPromise = execa(nginx, ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", `daemon off; pid ${dir}/nginx.pid; error_log stderr;`], { reject: false });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    server.kill("SIGQUIT");
    await server;
  };
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${base}/`);
      return { base, port, spec, secretsDir, rcPort, rcPassword, config, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await stop();
  throw new Error(`nginx did not answer on ${base}: ${String((await server).stderr)}`);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request with exactly the headers given (fetch sets Host itself and may add Origin or
 * Sec-Fetch-* headers on its own); redirects are not followed. The path is sent byte for byte (URL
 * would resolve `..` and decode nothing, fetch would do the same): only host and port come from `base`.
 */
export function rawRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; auth?: { user: string; password: string }; body?: string } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers.Authorization = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString("base64")}`;
  if (options.body !== undefined) headers["Content-Type"] ??= "application/json";
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: options.method ?? "GET", headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
