/** The dashboard: accepted by the real nginx, served by it, and opened in headless Chromium. */
import { execa } from "execa";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import builder from "../../spec/builder.ts";
import { dashboardLinks } from "../../generators/web.ts";
import { parseSpec } from "../../spec/validate.ts";
import { fileOf, generateFrom, requireTool, ROOT } from "../helpers.ts";
import { startDashboard, type DashboardServer } from "../support/dashboard-server.ts";

const links = dashboardLinks(parseSpec(builder));

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

  it.each(links)("redirects $path to port $port on the same host", async ({ path, port }) => {
    const response = await fetch(`${base}${path}`, { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`http://127.0.0.1:${port}/`);
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
      expect(anchors).toEqual(links.map((l) => ({ href: l.path, port: String(l.port), text: l.path })));
      const rows = await page.locator("tbody tr").count();
      expect(rows).toBe(Object.keys(builder.endpoints).length);
      mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
      await page.screenshot({ path: join(ROOT, "test-artifacts/dashboard.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
