/** The dashboard: accepted by the real nginx, served by it, and opened in headless Chromium. */
import { execa } from "execa";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import builder from "../../spec/builder.ts";
import { dashboardLinks, rcProxyPath } from "../../generators/web.ts";
import { parseSpec } from "../../spec/validate.ts";
import { fileOf, generateFrom, requireTool, ROOT } from "../helpers.ts";
import { rawRequest, startDashboard, type DashboardServer } from "../support/dashboard-server.ts";

const links = dashboardLinks(parseSpec(builder));
const rcPath = rcProxyPath(parseSpec(builder));
/** Every dashboard path but the RC's, which nginx proxies (test/targets/nginx-rc.test.ts). */
const redirects = links.filter((l) => l.path !== rcPath);

describe("the standalone nginx config", () => {
  it("is accepted by nginx -t", async () => {
    const nginx = requireTool("nginx");
    const dir = mkdtempSync(join(tmpdir(), "mp-nginx-t-"));
    writeFileSync(join(dir, "nginx.conf"), fileOf(generateFrom(builder), "nginx/nginx.conf"));
    const result = await execa(nginx, ["-t", "-p", dir, "-c", join(dir, "nginx.conf"), "-g", `pid ${dir}/nginx.pid; error_log stderr;`], { reject: false });
    expect(result.stderr).toMatch(/syntax is ok/);
    expect(result.stderr).toMatch(/test is successful/);
    expect(result.exitCode).toBe(0);
  });
});

describe("a real nginx serving the generated config on loopback", () => {
  let base = "";
  let server: DashboardServer | undefined;

  beforeAll(async () => {
    server = await startDashboard();
    base = server.base;
  });

  afterAll(async () => server?.stop());

  it("serves the dashboard page at /", async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const body = await response.text();
    for (const endpoint of Object.values(builder.endpoints)) expect(body).toContain(endpoint.name);
  });

  it("has a dashboard path that nginx proxies rather than redirects: the RC's", () => {
    expect(rcPath).toBe(builder.endpoints.rcloneRc.path);
    expect(redirects.length).toBe(links.length - 1);
  });

  it.each(redirects)("redirects $path to port $port on the configured host name", async ({ path, port }) => {
    const response = await rawRequest(base, path);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`http://${builder.host.name}:${port}/`);
  });

  it.each(redirects)("redirects $path to the configured host name even when the request's Host is forged", async ({ path, port }) => {
    const response = await rawRequest(base, path, { headers: { Host: "evil.example" } });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`http://${builder.host.name}:${port}/`);
    expect(JSON.stringify(response.headers)).not.toContain("evil.example");
    expect(response.body).not.toContain("evil.example");
  });

  it("does not redirect the RC's path: it asks for the RC login", async () => {
    const response = await rawRequest(base, rcPath!);
    expect(response.status).toBe(401);
    expect(response.headers.location).toBeUndefined();
    expect(response.headers["www-authenticate"]).toBe(`Basic realm="rclone RC"`);
  });

  it("names no nginx version in any response, error pages included", async () => {
    const responses = {
      page: await rawRequest(base, "/"),
      redirect: await rawRequest(base, redirects[0]!.path),
      forgedHost: await rawRequest(base, redirects[0]!.path, { headers: { Host: "evil.example" } }),
      notFound: await rawRequest(base, "/no-such-page"),
      rcLogin: await rawRequest(base, rcPath!),
      rcSlash: await rawRequest(base, rcPath!.replace(/\/$/, "")),
    };
    expect(Object.fromEntries(Object.entries(responses).map(([k, r]) => [k, r.status]))).toEqual({ page: 200, redirect: 302, forgedHost: 302, notFound: 404, rcLogin: 401, rcSlash: 301 });
    for (const [name, response] of Object.entries(responses)) {
      expect(response.headers.server, name).toBe("nginx");
      expect(JSON.stringify(response.headers), name).not.toMatch(/nginx\/\d/);
      expect(response.body, name).not.toMatch(/nginx\/\d/);
    }
    // The error page still says nginx, without the version.
    expect(responses.notFound.body).toContain("<center>nginx</center>");
    expect(responses.notFound.body).toContain("404 Not Found");
  });

  it("opens in headless Chromium with every link present; the screenshot is kept in test-artifacts/", async () => {
    const executablePath = requireTool("chromium");
    const browser = await chromium.launch({
      executablePath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 560 } });
      await page.goto(`${base}/`);
      expect(await page.title()).toBe(`${builder.dashboard.title}: media pipeline`);
      const anchors = await page.locator("a").evaluateAll((as) => as.map((a) => ({ href: a.getAttribute("href"), port: a.getAttribute("data-port"), text: a.textContent })));
      // The page is generated from the server's spec, whose RC port is the test's free port.
      expect(anchors).toEqual(dashboardLinks(server!.spec).map((l) => ({ href: l.path, port: String(l.port), text: l.path })));
      expect(anchors.map((a) => a.href)).toEqual(links.map((l) => l.path));
      const rows = await page.locator("tbody tr").count();
      expect(rows).toBe(Object.keys(builder.endpoints).length);
      mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
      await page.screenshot({ path: join(ROOT, "test-artifacts/dashboard.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
