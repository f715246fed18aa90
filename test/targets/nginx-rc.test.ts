/**
 * The rclone RC behind the dashboard's nginx: the real nginx with the generated config, in front of
 * a real `rclone rcd` that stands in for the mount's RC. rcd listens where the mount's RC would
 * (rcListen: 127.0.0.1, the spec's RC port, --rc-baseurl from the dashboard path) and takes its
 * login the way the mount does, from RCLONE_RC_USER / RCLONE_RC_PASS in the mount's secrets file;
 * the B2 remote is a local folder standing in for the bucket. nginx's htpasswd file is exactly
 * secretsFileContent(spec, "nginx") with the same test password, so one login passes both.
 */
import { chromium } from "playwright-core";
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET_FILES, secretsFileContent } from "../../generators/secrets.ts";
import { rcListen } from "../../generators/model/units.ts";
import type { SpecModel } from "../../spec/schema.ts";
import { requireTool } from "../helpers.ts";
import { fillSecrets, rawRequest, rcSecrets, startDashboard, type DashboardServer, type RawResponse } from "../support/dashboard-server.ts";

const RC_PASSWORD = "test-rc-password-5f1c9a";

/** requireTool, naming the Debian package when the tool is missing. */
function requireDebianTool(name: string, debianPackage: string): string {
  try {
    return requireTool(name);
  } catch {
    throw new Error(`${name} is not installed; this test runs the real tool. Install it with: apt-get install ${debianPackage}`);
  }
}

/** The mount's secrets file as rclone's environment: the RC login as given, the B2 remote replaced by a local folder. */
function mountEnvironment(spec: SpecModel, password: string): Record<string, string> {
  const keys = spec.secrets.b2Keys.mount;
  const text = fillSecrets(secretsFileContent(spec, "mount"), {
    ...rcSecrets(spec, password),
    [keys.keyId.sopsKey]: "unused-key-id",
    [keys.applicationKey.sopsKey]: "unused-application-key",
  });
  const env = Object.fromEntries(
    text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const remote = `RCLONE_CONFIG_${spec.b2.remote.toUpperCase()}`;
  delete env[`${remote}_ACCOUNT`];
  delete env[`${remote}_KEY`];
  return { ...env, [`${remote}_TYPE`]: "local" };
}

describe("nginx in front of the rclone RC (rclone rcd standing in for the mount's RC, a local folder for the bucket)", () => {
  let server: DashboardServer;
  let spec: SpecModel;
  let rclone: ResultPromise | undefined;
  let rcloneLog = "";
  /** The folder holding the bucket folder; `${remote}:${bucketParent}` is the remote's root. */
  let bucketParent = "";
  let bucket = "";
  let fs = "";
  let login = { user: "", password: "" };
  /** `127.0.0.1:<port>`, the Host the test's requests carry, and its origin. */
  let host = "";
  let ownOrigin = "";
  let markers = 0;

  const rc = (method: string, options: Parameters<typeof rawRequest>[2] = {}) =>
    rawRequest(server.base, `${spec.endpoints.rcloneRc.path}${method}`, { method: "POST", body: "{}", ...options });

  /** An rc/noop call carrying a fresh marker that rclone logs (-vv) if and only if the call reaches it. */
  const noop = async (options: Parameters<typeof rawRequest>[2] = {}): Promise<{ marker: string; response: RawResponse }> => {
    const marker = `marker-${++markers}`;
    return { marker, response: await rc("rc/noop", { ...options, body: JSON.stringify({ marker }) }) };
  };

  /** Waits until rclone's log (read from a pipe, so a little behind its replies) holds `text`. */
  const rcloneLogged = async (text: string): Promise<void> => {
    for (let i = 0; i < 100 && !rcloneLog.includes(text); i++) await new Promise((r) => setTimeout(r, 20));
    expect(rcloneLog).toContain(text);
  };

  /** Once this returns, rclone's log holds every call that reached rclone before it. */
  const logBarrier = async (): Promise<void> => {
    const barrier = await noop({ auth: login });
    expect(barrier.response.status).toBe(200);
    await rcloneLogged(`marker:${barrier.marker}]`);
  };

  /** Whether a call with this marker reached rclone. */
  const rcloneSaw = async (marker: string): Promise<boolean> => {
    await logBarrier();
    return rcloneLog.includes(`marker:${marker}]`);
  };

  const nginxRealm = () => `Basic realm="${spec.dashboard.title}: rclone RC"`;

  beforeAll(async () => {
    const rcloneBinary = requireDebianTool("rclone", "rclone");
    server = await startDashboard({ rcPassword: RC_PASSWORD });
    spec = server.spec;
    login = { user: spec.secrets.rcloneRc.user, password: RC_PASSWORD };
    host = `127.0.0.1:${server.port}`;
    ownOrigin = `http://${host}`;

    const dir = mkdtempSync(join(tmpdir(), "mp-rc-"));
    bucketParent = join(dir, "remote");
    bucket = join(bucketParent, spec.b2.bucket);
    mkdirSync(join(bucket, "tv/Show"), { recursive: true });
    writeFileSync(join(bucket, "tv/Show/episode.mkv"), "episode");
    writeFileSync(join(bucket, "keep.txt"), "keep");
    mkdirSync(join(bucketParent, "scratch"));
    writeFileSync(join(bucketParent, "scratch/gone.txt"), "gone");
    fs = `${spec.b2.remote}:${bucketParent}`;

    const listen = rcListen(spec);
    expect(listen.port).toBe(server.rcPort);
    rclone = execa(rcloneBinary, ["rcd", "-vv", `--rc-addr=${listen.address}:${listen.port}`, `--rc-baseurl=${listen.baseUrl}`], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, RCLONE_CONFIG: join(dir, "rclone.conf"), ...mountEnvironment(spec, RC_PASSWORD) },
      extendEnv: false,
      reject: false,
    });
    rclone.stderr?.on("data", (chunk: Buffer) => (rcloneLog += chunk.toString("utf8")));
    const direct = `http://${listen.address}:${listen.port}`;
    for (let i = 0; i < 200; i++) {
      try {
        if ((await rawRequest(direct, `${listen.baseUrl}/rc/noop`, { method: "POST", body: "{}", auth: login })).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`rclone rcd did not answer on ${direct}${listen.baseUrl}/:\n${rcloneLog}`);
  }, 30_000);

  afterAll(async () => {
    rclone?.kill("SIGTERM");
    await rclone;
    await server?.stop();
  });

  it("runs rcd with the RC's address and base URL, and nginx with the htpasswd file secretsFileContent gives", () => {
    expect(rcListen(spec)).toEqual({ address: "127.0.0.1", port: server.rcPort, baseUrl: "/rclone" });
    expect(server.config).toContain(`proxy_pass http://127.0.0.1:${server.rcPort};`);
    expect(server.config).toContain(`auth_basic_user_file ${server.secretsDir}/${SECRET_FILES.nginx};`);
    expect(readFileSync(join(server.secretsDir, SECRET_FILES.nginx), "utf8")).toBe(`${login.user}:{PLAIN}${RC_PASSWORD}\n`);
    expect(rcloneLog).toContain(`Setting --rc-user "${login.user}" from environment variable RCLONE_RC_USER`);
  });

  it("answers POST /rclone/core/stats without a login with nginx's 401; rclone never sees it", async () => {
    const response = await rc("core/stats");
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toBe(nginxRealm());
    // rclone's own 401 names realm "rclone" and is plain text; this one is nginx's error page.
    expect(response.body).toContain("<center>nginx</center>");
    const listen = rcListen(spec);
    const direct = await rawRequest(`http://${listen.address}:${listen.port}`, `${listen.baseUrl}/core/stats`, { method: "POST", body: "{}" });
    expect(direct.status).toBe(401);
    expect(direct.headers["www-authenticate"]).toBe('Basic realm="rclone"');
    // The same holds for a call rclone would log.
    const { marker, response: noLogin } = await noop();
    expect(noLogin.status).toBe(401);
    expect(noLogin.headers["www-authenticate"]).toBe(nginxRealm());
    expect(await rcloneSaw(marker)).toBe(false);
  });

  it("passes POST /rclone/core/stats with the login through to rclone, which answers 200 JSON", async () => {
    const response = await rc("core/stats", { auth: login });
    expect(response.status).toBe(200);
    // rclone sets no Content-Type (Go sniffs text/plain); the body is JSON and the job id header is rclone's.
    expect(response.headers["x-rclone-jobid"]).toMatch(/^\d+$/);
    expect(response.headers.server).toBe("nginx");
    const stats = JSON.parse(response.body);
    expect(stats).toMatchObject({ bytes: expect.any(Number), transfers: expect.any(Number), errors: 0 });
    await rcloneLogged('rc: "core/stats": with parameters');
  });

  it("reaches rclone's vfs/* and operations/* calls through /rclone/ too", async () => {
    const list = await rc("vfs/list", { auth: login });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body)).toEqual({ vfses: [] });
    // rcd has no mount, so vfs/stats is rclone's own error, from rclone, about the path it was asked.
    const stats = await rc("vfs/stats", { auth: login });
    expect(stats.status).toBe(500);
    expect(JSON.parse(stats.body)).toMatchObject({ path: "vfs/stats", error: expect.stringContaining("no VFS active") });
    const files = await rc("operations/list", { auth: login, body: JSON.stringify({ fs, remote: spec.b2.bucket, opt: { recurse: true } }) });
    expect(files.status).toBe(200);
    expect((JSON.parse(files.body) as { list: { Path: string }[] }).list.map((f) => f.Path).sort()).toEqual(
      [`${spec.b2.bucket}/keep.txt`, `${spec.b2.bucket}/tv`, `${spec.b2.bucket}/tv/Show`, `${spec.b2.bucket}/tv/Show/episode.mkv`],
    );
  });

  it.each([
    ["a wrong password", () => ({ user: login.user, password: `${RC_PASSWORD}x` })],
    ["a wrong user", () => ({ user: `${login.user}x`, password: RC_PASSWORD })],
  ])("refuses %s with nginx's 401", async (_name, auth) => {
    const { marker, response } = await noop({ auth: auth() });
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toBe(nginxRealm());
    expect(await rcloneSaw(marker)).toBe(false);
  });

  it.each([
    ["another site", () => "http://evil.example"],
    ["another port on the same host", () => `http://127.0.0.1:${server.port + 1}`],
    ["another scheme", () => `https://${host}`],
    ["a longer origin that starts with this one", () => `${ownOrigin}0`],
    ["an opaque origin", () => "null"],
  ])("refuses a request with the login from %s (Origin) with 403; rclone never sees it", async (_name, origin) => {
    const { marker, response } = await noop({ auth: login, headers: { Origin: origin() } });
    expect(response.status).toBe(403);
    expect(response.body).toContain("<center>nginx</center>");
    expect(await rcloneSaw(marker)).toBe(false);
  });

  it("refuses a request that says Sec-Fetch-Site: cross-site with 403, with or without an Origin", async () => {
    const cases: Record<string, string>[] = [{ "Sec-Fetch-Site": "cross-site" }, { "Sec-Fetch-Site": "cross-site", Origin: ownOrigin }];
    for (const headers of cases) {
      const { marker, response } = await noop({ auth: login, headers });
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(await rcloneSaw(marker)).toBe(false);
    }
  });

  it("refuses a foreign Origin before asking for the login (403, not 401)", async () => {
    const response = await rc("core/stats", { headers: { Origin: "http://evil.example" } });
    expect(response.status).toBe(403);
    expect(response.headers["www-authenticate"]).toBeUndefined();
  });

  it("passes a request from its own origin through to rclone (200)", async () => {
    for (const [headers, name] of [
      [{ Origin: ownOrigin }, "127.0.0.1"],
      [{ Origin: ownOrigin, "Sec-Fetch-Site": "same-origin" }, "same-origin"],
      [{ Host: `${spec.host.name}:${server.port}`, Origin: `http://${spec.host.name}:${server.port}` }, "the configured host name"],
    ] as const) {
      const { marker, response } = await noop({ auth: login, headers });
      expect(response.status, name).toBe(200);
      expect(JSON.parse(response.body), name).toEqual({ marker });
      expect(await rcloneSaw(marker), name).toBe(true);
    }
  });

  it("refuses a cross-site operations/purge with the login: the bucket keeps its files", async () => {
    const before = readdirSync(bucket, { recursive: true }).sort();
    const purge = await rc("operations/purge", { auth: login, headers: { Origin: "http://evil.example" }, body: JSON.stringify({ fs, remote: spec.b2.bucket }) });
    expect(purge.status).toBe(403);
    const crossSite = await rc("operations/purge", { auth: login, headers: { "Sec-Fetch-Site": "cross-site" }, body: JSON.stringify({ fs, remote: spec.b2.bucket }) });
    expect(crossSite.status).toBe(403);
    expect(readdirSync(bucket, { recursive: true }).sort()).toEqual(before);
    expect(readFileSync(join(bucket, "tv/Show/episode.mkv"), "utf8")).toBe("episode");
    await logBarrier();
    expect(rcloneLog).not.toContain('rc: "operations/purge"');
    // The same call from the server's own origin does purge (a scratch folder beside the bucket).
    const own = await rc("operations/purge", { auth: login, headers: { Origin: ownOrigin }, body: JSON.stringify({ fs, remote: "scratch" }) });
    expect(own.status, own.body).toBe(200);
    expect(existsSync(join(bucketParent, "scratch"))).toBe(false);
    expect(existsSync(join(bucket, "keep.txt"))).toBe(true);
  });

  it.each([
    ["127.0.0.1", () => host],
    ["a forged Host", () => "evil.example"],
  ])("redirects GET /rclone (no slash) to the configured host name, whatever the request's Host (%s)", async (_name, requestHost) => {
    const path = spec.endpoints.rcloneRc.path!;
    const response = await rawRequest(server.base, path.replace(/\/$/, ""), { headers: { Host: requestHost() } });
    expect(response.status).toBe(301);
    expect(response.headers.location).toBe(`http://${spec.host.name}:${server.port}${path}`);
    expect(response.headers.server).toBe("nginx");
    expect(response.body).not.toMatch(/nginx\/\d/);
  });

  it("serves the RC page at the RC path itself behind the same login; in headless Chromium it shows the RC's stats read through the proxy", async () => {
    const path = spec.endpoints.rcloneRc.path!;
    expect((await rawRequest(server.base, path)).status).toBe(401);
    const page = await rawRequest(server.base, path, { auth: login });
    expect(page.status).toBe(200);
    expect(page.body).toContain("vfs/stats");
    const browser = await chromium.launch({
      executablePath: requireTool("chromium"),
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const context = await browser.newContext({ httpCredentials: { username: login.user, password: login.password } });
      const tab = await context.newPage();
      await tab.goto(`${server.base}${path}`);
      // core/stats comes back as JSON from rclone; rcd has no mount, so vfs/stats is rclone's own 500, shown as an error.
      await tab.waitForFunction(() => document.getElementById("core")?.textContent?.includes('"bytes"'), undefined, { timeout: 10_000 });
      await tab.waitForFunction(() => document.getElementById("vfs")?.textContent?.startsWith("500"), undefined, { timeout: 10_000 });
      await logBarrier();
      expect(rcloneLog).toContain('"core/stats"');
    } finally {
      await browser.close();
    }
  }, 60_000);
});
