/**
 * A real nginx serving the generated dashboard on a free loopback port: the page and the config
 * are generated from the default spec with only the port and web root moved into a temp folder.
 */
import { execa, type ResultPromise } from "execa";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileOf, freePort, generateFrom, requireTool, specWith } from "../helpers.ts";

export interface DashboardServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  stop(): Promise<void>;
}

export async function startDashboard(): Promise<DashboardServer> {
  const nginx = requireTool("nginx");
  const dir = mkdtempSync(join(tmpdir(), "mp-nginx-"));
  // nginx's workers drop to an unprivileged user, which must be able to read the page.
  chmodSync(dir, 0o755);
  const wwwRoot = join(dir, "www");
  const port = await freePort();
  const files = generateFrom(specWith((s) => {
    s.dashboard.port = port;
    s.standalone.wwwRoot = wwwRoot;
  }));
  mkdirSync(wwwRoot);
  writeFileSync(join(wwwRoot, "index.html"), fileOf(files, "www/index.html"));
  writeFileSync(join(dir, "nginx.conf"), fileOf(files, "nginx/nginx.conf"));
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
      return { base, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await stop();
  throw new Error(`nginx did not answer on ${base}: ${String((await server).stderr)}`);
}
