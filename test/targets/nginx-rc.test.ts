/**
 * The rclone RC behind the dashboard's nginx: the real nginx with the generated config, in front of
 * a real `rclone rcd` that stands in for the mount's RC. rcd listens where the mount's RC would
 * (rcListen: 127.0.0.1, the spec's RC port, --rc-baseurl from the dashboard path) and takes its
 * login the way the mount does, from RCLONE_RC_USER / RCLONE_RC_PASS in the mount's secrets file;
 * the B2 remote is a local folder standing in for the bucket. nginx's htpasswd file is exactly
 * secretsFileContent(spec, "nginx") with the same test password, so one login passes both.
 *
 * nginx passes on only the methods in RC_METHODS_VIA_NGINX (core/stats, vfs/stats) and the RC page;
 * every other path under the RC path is nginx's 404 and never reaches rclone: on the RC itself the
 * login also opens core/command, which reads the B2 key from the mount's environment. Whether a call
 * reached rclone is read from rclone's -vv log, which names each call and its parameters: a call
 * carries a fresh marker parameter, and a direct call to rclone (bypassing nginx) is the barrier
 * after which the log holds everything that reached rclone before it.
 */
import { chromium } from "playwright-core";
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET_FILES } from "../../generators/secrets.ts";
import { rcListen } from "../../generators/model/units.ts";
import { RC_METHODS_VIA_NGINX } from "../../generators/web.ts";
import type { SpecModel } from "../../spec/schema.ts";
import { requireTool } from "../helpers.ts";
import { mountSecretsEnvironment, rawRequest, startDashboard, type DashboardServer, type RawResponse } from "../support/dashboard-server.ts";

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
  const env = mountSecretsEnvironment(spec, password);
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
  /** rclone's RC itself, `http://127.0.0.1:<rc port>`, bypassing nginx. */
  let direct = "";
  let markers = 0;

  /** A POST of an RC method through nginx. */
  const rc = (method: string, options: Parameters<typeof rawRequest>[2] = {}) =>
    rawRequest(server.base, `${spec.endpoints.rcloneRc.path}${method}`, { method: "POST", body: "{}", ...options });

  /** A POST of an RC method straight to rclone, with the login. */
  const rcDirect = (method: string, params: Record<string, unknown> = {}) =>
    rawRequest(direct, `${rcListen(spec).baseUrl}/${method}`, { method: "POST", body: JSON.stringify(params), auth: login });

  /**
   * A call of `method` (core/stats unless given) through nginx carrying a fresh marker parameter,
   * which rclone logs (-vv: `rc: "<method>": with parameters map[marker:…]`) if and only if the call reaches it.
   */
  const marked = async (options: Parameters<typeof rawRequest>[2] = {}, method = "core/stats", params: Record<string, unknown> = {}): Promise<{ marker: string; response: RawResponse }> => {
    const marker = `marker-${++markers}`;
    return { marker, response: await rc(method, { ...options, body: JSON.stringify({ ...params, marker }) }) };
  };

  /** Waits until rclone's log (read from a pipe, so a little behind its replies) holds `text`. */
  const rcloneLogged = async (text: string): Promise<void> => {
    for (let i = 0; i < 100 && !rcloneLog.includes(text); i++) await new Promise((r) => setTimeout(r, 20));
    expect(rcloneLog).toContain(text);
  };

  /** Once this returns, rclone's log holds every call that reached rclone before it: an rc/noop straight to rclone, logged. */
  const logBarrier = async (): Promise<void> => {
    const marker = `barrier-${++markers}`;
    const response = await rcDirect("rc/noop", { marker });
    expect(response.status).toBe(200);
    await rcloneLogged(`marker:${marker}]`);
  };

  /** Whether a call with this marker reached rclone. */
  const rcloneSaw = async (marker: string): Promise<boolean> => {
    await logBarrier();
    return rcloneLog.includes(`marker:${marker}]`);
  };

  /** nginx's own 404 page (rclone's 404 is JSON naming the path). */
  const expectNginx404 = (response: RawResponse, name: string) => {
    expect(response.status, `${name}: ${response.body}`).toBe(404);
    expect(response.body, name).toContain("<center>nginx</center>");
    expect(response.body, name).toContain("404 Not Found");
    expect(response.headers["x-rclone-jobid"], name).toBeUndefined();
  };

  const nginxRealm = () => `Basic realm="rclone RC"`;

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
    // The RC's port is below 1024 (the spec's privilegedRcPort rule); the test runs as root, so rcd may listen there.
    rclone = execa(rcloneBinary, ["rcd", "-vv", `--rc-addr=${listen.address}:${listen.port}`, `--rc-baseurl=${listen.baseUrl}`], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, RCLONE_CONFIG: join(dir, "rclone.conf"), ...mountEnvironment(spec, RC_PASSWORD) },
      extendEnv: false,
      reject: false,
    });
    rclone.stderr?.on("data", (chunk: Buffer) => (rcloneLog += chunk.toString("utf8")));
    direct = `http://${listen.address}:${listen.port}`;
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

  it("runs rcd with the RC's address (a port below 1024) and base URL, and nginx with the htpasswd file secretsFileContent gives", () => {
    expect(rcListen(spec)).toEqual({ address: "127.0.0.1", port: server.rcPort, baseUrl: "/rclone" });
    expect(server.rcPort).toBeLessThan(1024);
    expect(server.config).toContain(`proxy_pass http://127.0.0.1:${server.rcPort};`);
    expect(server.config).toContain(`auth_basic_user_file ${server.secretsDir}/${SECRET_FILES.nginx};`);
    expect(readFileSync(join(server.secretsDir, SECRET_FILES.nginx), "utf8")).toBe(`${login.user}:{PLAIN}${RC_PASSWORD}\n`);
    expect(rcloneLog).toContain(`Setting --rc-user "${login.user}" from environment variable RCLONE_RC_USER`);
  });

  it("proxies exactly core/stats and vfs/stats to rclone, each at an exact location", () => {
    expect([...RC_METHODS_VIA_NGINX].sort()).toEqual(["core/stats", "vfs/stats"]);
    // Locations do not nest here: each piece after "location " runs to the next location.
    const proxied = server.config
      .split(/^\s*location /m)
      .slice(1)
      .filter((block) => block.includes("proxy_pass "))
      .map((block) => block.slice(0, block.indexOf(" {")));
    expect(proxied).toEqual(RC_METHODS_VIA_NGINX.map((m) => `= ${spec.endpoints.rcloneRc.path}${m}`));
    expect(server.config.match(/proxy_pass /g)).toHaveLength(RC_METHODS_VIA_NGINX.length);
  });

  it("answers POST /rclone/core/stats without a login with nginx's 401; rclone never sees it", async () => {
    const response = await rc("core/stats");
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toBe(nginxRealm());
    // rclone's own 401 names realm "rclone" and is plain text; this one is nginx's error page.
    expect(response.body).toContain("<center>nginx</center>");
    const listen = rcListen(spec);
    const directNoLogin = await rawRequest(direct, `${listen.baseUrl}/core/stats`, { method: "POST", body: "{}" });
    expect(directNoLogin.status).toBe(401);
    expect(directNoLogin.headers["www-authenticate"]).toBe('Basic realm="rclone"');
    // The same holds for vfs/stats, and rclone's log shows neither reached it.
    for (const method of RC_METHODS_VIA_NGINX) {
      const { marker, response: noLogin } = await marked({}, method);
      expect(noLogin.status, method).toBe(401);
      expect(noLogin.headers["www-authenticate"], method).toBe(nginxRealm());
      expect(await rcloneSaw(marker), method).toBe(false);
    }
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

  it("passes POST /rclone/vfs/stats with the login through to rclone (rcd has no mount: rclone's own 500 about vfs/stats)", async () => {
    const { marker, response } = await marked({ auth: login }, "vfs/stats");
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body)).toMatchObject({ path: "vfs/stats", error: expect.stringContaining("no VFS active") });
    expect(await rcloneSaw(marker)).toBe(true);
  });

  it.each([
    ["operations/list", () => ({ fs, remote: spec.b2.bucket, opt: { recurse: true } })],
    ["operations/purge", () => ({ fs, remote: "scratch" })],
    ["vfs/list", () => ({})],
    ["core/command", () => ({ command: "version" })],
    ["rc/noop", () => ({})],
    ["core/stats/", () => ({})],
    ["core/statsx", () => ({})],
    ["vfs/stats/extra", () => ({})],
  ])("answers POST /rclone/%s with the login and its own origin with nginx's 404; rclone never sees it", async (method, params) => {
    const { marker, response } = await marked({ auth: login, headers: { Origin: ownOrigin, "Sec-Fetch-Site": "same-origin" } }, method, params());
    expectNginx404(response, method);
    expect(await rcloneSaw(marker)).toBe(false);
    // Without a login it is the same 404 (nothing under the RC path but the two stats and the page asks for it).
    expectNginx404(await rc(method), `${method} without a login`);
  });

  it("answers a POST to the RC path itself from nginx (the page is a static file: 405), not from rclone", async () => {
    const { marker, response } = await marked({ auth: login, headers: { Origin: ownOrigin } }, "");
    expect(response.status).toBe(405);
    expect(response.body).toContain("<center>nginx</center>");
    expect(await rcloneSaw(marker)).toBe(false);
  });

  it("answers POST /rclone/core/command with the login and its own origin with nginx's 404: rclone never runs it, the B2 key stays in its environment", async () => {
    const before = rcloneLog.length;
    const { marker, response } = await marked({ auth: login, headers: { Origin: ownOrigin } }, "core/command", { command: "version" });
    expectNginx404(response, "core/command");
    expect(await rcloneSaw(marker)).toBe(false);
    expect(rcloneLog.slice(before)).not.toContain('rc: "core/command"');
    // Straight to rclone, the same login does open core/command: that is what nginx keeps off the LAN.
    const opened = await rcDirect("core/command", { command: "version" });
    expect(opened.status, opened.body).toBe(200);
    expect(JSON.parse(opened.body)).toMatchObject({ error: false, result: expect.stringContaining("rclone v") });
  });

  it.each([
    "core/command/../stats",
    "core/command/%2e%2e/stats",
    "core/command%2f..%2fstats",
    "core/command;/../stats",
    "vfs/%2e%2e/core/command/../../core/stats",
    "core/%73tats",
  ])("sends the raw path /rclone/%s, which nginx normalizes to a stats location, on to rclone without running anything but core/stats", async (path) => {
    const before = rcloneLog.length;
    // Sent byte for byte (fetch and URL would resolve the dots first), with the login and the command's parameters.
    const response = await rawRequest(server.base, `${spec.endpoints.rcloneRc.path}${path}`, { method: "POST", auth: login, body: JSON.stringify({ command: "version" }) });
    if (response.status === 200) {
      expect(JSON.parse(response.body)).toMatchObject({ bytes: expect.any(Number), errors: 0 });
    } else {
      // Go cleans the path itself and redirects to the clean one: the stats location again.
      expect(response.status, response.body).toBe(301);
      expect(new URL(response.headers.location as string, server.base).pathname).toBe(`${spec.endpoints.rcloneRc.path}core/stats`);
    }
    await logBarrier();
    const logged = [...rcloneLog.slice(before).matchAll(/rc: "([^"]+)": with parameters/g)].map((m) => m[1]);
    expect(logged.filter((method) => method !== "rc/noop" && method !== "core/stats")).toEqual([]);
    expect(response.body).not.toContain("rclone v");
  });

  it("lists the bucket straight from rclone with the login, but not through nginx (404)", async () => {
    const params = { fs, remote: spec.b2.bucket, opt: { recurse: true } };
    const files = await rcDirect("operations/list", params);
    expect(files.status).toBe(200);
    expect((JSON.parse(files.body) as { list: { Path: string }[] }).list.map((f) => f.Path).sort()).toEqual(
      [`${spec.b2.bucket}/keep.txt`, `${spec.b2.bucket}/tv`, `${spec.b2.bucket}/tv/Show`, `${spec.b2.bucket}/tv/Show/episode.mkv`],
    );
    const { marker, response } = await marked({ auth: login }, "operations/list", params);
    expectNginx404(response, "operations/list");
    expect(response.body).not.toContain("episode.mkv");
    expect(await rcloneSaw(marker)).toBe(false);
  });

  it.each([
    ["a wrong password", () => ({ user: login.user, password: `${RC_PASSWORD}x` })],
    ["a wrong user", () => ({ user: `${login.user}x`, password: RC_PASSWORD })],
  ])("refuses %s with nginx's 401", async (_name, auth) => {
    const { marker, response } = await marked({ auth: auth() });
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
    for (const method of RC_METHODS_VIA_NGINX) {
      const { marker, response } = await marked({ auth: login, headers: { Origin: origin() } }, method);
      expect(response.status, method).toBe(403);
      expect(response.body, method).toContain("<center>nginx</center>");
      expect(await rcloneSaw(marker), method).toBe(false);
    }
  });

  it("refuses a request that says Sec-Fetch-Site: cross-site with 403, with or without an Origin", async () => {
    const cases: Record<string, string>[] = [{ "Sec-Fetch-Site": "cross-site" }, { "Sec-Fetch-Site": "cross-site", Origin: ownOrigin }];
    for (const headers of cases) {
      const { marker, response } = await marked({ auth: login, headers });
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
      const { marker, response } = await marked({ auth: login, headers });
      expect(response.status, name).toBe(200);
      expect(JSON.parse(response.body), name).toMatchObject({ bytes: expect.any(Number), errors: 0 });
      expect(await rcloneSaw(marker), name).toBe(true);
    }
  });

  it("refuses a cross-site operations/purge with the login (404 or 403): the bucket keeps its files and rclone never sees it", async () => {
    const before = readdirSync(bucket, { recursive: true }).sort();
    const body = JSON.stringify({ fs, remote: spec.b2.bucket });
    const purge = await rc("operations/purge", { auth: login, headers: { Origin: "http://evil.example" }, body });
    expect([403, 404]).toContain(purge.status);
    const crossSite = await rc("operations/purge", { auth: login, headers: { "Sec-Fetch-Site": "cross-site" }, body });
    expect([403, 404]).toContain(crossSite.status);
    // From the server's own origin it is nginx's 404 as well: purge is not among the methods nginx passes on.
    const own = await rc("operations/purge", { auth: login, headers: { Origin: ownOrigin }, body: JSON.stringify({ fs, remote: "scratch" }) });
    expectNginx404(own, "operations/purge from its own origin");
    expect(readdirSync(bucket, { recursive: true }).sort()).toEqual(before);
    expect(readFileSync(join(bucket, "tv/Show/episode.mkv"), "utf8")).toBe("episode");
    expect(existsSync(join(bucketParent, "scratch/gone.txt"))).toBe(true);
    await logBarrier();
    expect(rcloneLog).not.toContain('rc: "operations/purge"');
    // Straight to rclone the same call does purge (a scratch folder beside the bucket): only nginx stood in the way.
    const directPurge = await rcDirect("operations/purge", { fs, remote: "scratch" });
    expect(directPurge.status, directPurge.body).toBe(200);
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
