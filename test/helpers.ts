/** Shared test helpers: finding the real tools, evaluating Nix, generating from a modified spec. */
import { execa, execaSync } from "execa";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import builder from "../spec/builder.ts";
import type { SpecInput } from "../spec/schema.ts";
import { parseSpec } from "../spec/validate.ts";
import { generateConfigFiles, type GeneratedFile } from "../generators/index.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/**
 * A TCP port below 1024 free on loopback right now (the RC's port must be privileged): random ports
 * in 600–1000 are tried until a listen on 127.0.0.1 succeeds. Binding one needs root, as the tests run.
 */
/** The ports the Fetch standard blocks ("port blocking"), which Node's fetch refuses to connect to; those in 600–1000. */
const FETCH_BAD_PORTS = new Set([601, 636, 989, 990, 993, 995]);

export async function freePrivilegedPort(): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<boolean>((resolve, reject) => {
      const server = createServer();
      server.once("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "EADDRINUSE") resolve(false);
        else reject(new Error(`cannot listen on 127.0.0.1:${port} (${e.code ?? e.message}); binding a port below 1024 needs root`));
      });
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
  for (let i = 0; i < 200; i++) {
    const port = 600 + Math.floor(Math.random() * 401);
    // fetch() refuses the WHATWG "bad ports" (601, 636 ldaps, 989, 990, 993, 995 in this range) before connecting.
    if (FETCH_BAD_PORTS.has(port)) continue;
    if (await tryListen(port)) return port;
  }
  throw new Error("no free port in 600–1000 on 127.0.0.1");
}

/** Debian packages that provide each tool the suite runs; .ci/run installs them. */
const INSTALL: Record<string, string> = {
  "nix-instantiate": "apt-get install nix-bin",
  nginx: "apt-get install nginx-light",
  "systemd-analyze": "apt-get install systemd",
  chromium: "apt-get install chromium",
  diff: "apt-get install diffutils",
  rclone: "apt-get install rclone",
  unar: "apt-get install unar",
  lsar: "apt-get install unar",
  "qbittorrent-nox": "apt-get install qbittorrent-nox",
  mktorrent: "apt-get install mktorrent",
  "systemd-tmpfiles": "apt-get install systemd",
  fusermount3: "apt-get install fuse3",
  setpriv: "apt-get install util-linux",
  unshare: "apt-get install util-linux",
};

/** The absolute path of a tool, or a failure that says which tool is missing and how to install it. */
export function requireTool(name: string): string {
  const found = execaSync("sh", ["-c", `command -v ${name}`], { reject: false });
  if (found.exitCode !== 0 || !found.stdout.trim()) {
    throw new Error(`${name} is not installed; this test runs the real tool. Install it with: ${INSTALL[name] ?? `your package manager (${name})`}`);
  }
  return found.stdout.trim();
}

/** A deep copy of the default spec, changed by `edit`. */
export function specWith(edit: (spec: SpecInput) => void = () => {}): SpecInput {
  const spec = structuredClone(builder);
  edit(spec);
  return spec;
}

export function generateFrom(spec: SpecInput): GeneratedFile[] {
  return generateConfigFiles({ spec: parseSpec(spec), specFile: "spec/builder.ts" });
}

export function writeTree(files: readonly GeneratedFile[], dir = mkdtempSync(join(tmpdir(), "mp-out-"))): string {
  for (const file of files) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.contents);
  }
  return dir;
}

export function fileOf(files: readonly GeneratedFile[], path: string): string {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no generated file ${path}`);
  return file.contents;
}

/** Evaluates a generated module with test/nix/harness.nix; store paths resolve as the standalone units spell them. */
export async function evalModule(outDir: string, name: string, standalone = builder.standalone): Promise<any> {
  const nix = requireTool("nix-instantiate");
  const { stdout } = await execa(nix, [
    "--eval", "--strict", "--json", join(ROOT, "test/nix/harness.nix"),
    "--arg", "module", join(outDir, "nixos", `${name}.nix`),
    "--argstr", "binPrefix", dirname(standalone.binDir),
    "--argstr", "runtimeDir", standalone.runtimeDir,
    "--argstr", "secretsDir", standalone.secretsDir,
  ]);
  return JSON.parse(stdout);
}

/** `services.qbittorrent` of a generated qbittorrent.nix (the committed out/ by default), evaluated as `evalModule` does. */
export async function evalQbittorrentService(outDir = join(ROOT, "out"), standalone = builder.standalone): Promise<any> {
  return (await evalModule(outDir, "qbittorrent", standalone)).services.qbittorrent;
}

/** Evaluates a Nix expression given as text. */
export async function evalNix(expression: string): Promise<unknown> {
  const nix = requireTool("nix-instantiate");
  const { stdout } = await execa(nix, ["--eval", "--strict", "--json", "--expr", expression]);
  return JSON.parse(stdout);
}
