/**
 * A real qbittorrent-nox for tests: on loopback, on free ports, with its profile in a temp folder.
 * Torrents are made with mktorrent from local data and added through the WebUI API; qBittorrent
 * checks the data and seeds it at once.
 *
 * Two versions run here: 4.5.2, Debian 12's package on the host, and 5.1, Debian 13's package in a
 * trixie root (`bash scripts/qbittorrent5-root.sh`) run with chroot. NixOS 26.05 ships 5.x. A
 * chroot shares the network namespace, so its WebUI answers on the host's loopback; every path it
 * is given (profile, save paths) must lie inside the root, and is passed as the path seen from inside.
 */
import { execa, execaSync, type ResultPromise } from "execa";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { freePort, requireTool } from "../helpers.ts";

export { freePort };

export type QbittorrentVersion = "4.5" | "5.1";
export const QBITTORRENT_VERSIONS: readonly QbittorrentVersion[] = ["4.5", "5.1"];

/** The trixie root that holds qBittorrent 5.1; scripts/qbittorrent5-root.sh builds it. */
export const QBT5_ROOT = process.env.QBT5_ROOT ?? "/var/cache/media-pipeline/qbittorrent5-root";

/** One installed qbittorrent-nox, and the file system it sees. */
export interface QbittorrentProgram {
  version: QbittorrentVersion;
  /** The root the program runs in: "/" for the host's 4.5.2, the trixie root for 5.1. */
  root: string;
  /** A new empty folder the program can see (a host path). */
  tempDir(prefix: string): string;
  /** The path the program sees for a host path; fails for a path outside its root. */
  inside(hostPath: string): string;
  /** Starts qbittorrent-nox with these arguments. */
  run(args: string[]): ResultPromise;
}

const programs = new Map<QbittorrentVersion, QbittorrentProgram>();

/**
 * Host folders bind-mounted at the same path inside the 5.1 root (see `sharedDir`): the program sees
 * them under their host path, so `inside` returns such a path unchanged.
 */
const sharedPaths = new Set<string>();
const within = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/**
 * The qbittorrent-nox of one version, or a failure that says how to install it. The version the
 * program reports is checked, so a host with another qBittorrent does not pass as 4.5.
 */
export function qbittorrentProgram(version: QbittorrentVersion = "4.5"): QbittorrentProgram {
  const known = programs.get(version);
  if (known) return known;
  let program: QbittorrentProgram;
  let reported: string;
  if (version === "4.5") {
    const binary = requireTool("qbittorrent-nox");
    reported = execaSync(binary, ["--version"], { reject: false }).stdout.trim();
    program = {
      version,
      root: "/",
      tempDir: (prefix) => mkdtempSync(join(tmpdir(), prefix)),
      inside: (hostPath) => resolve(hostPath),
      run: (args) => execa(binary, args, { reject: false, stdin: "ignore", all: true }),
    };
  } else {
    const root = QBT5_ROOT;
    if (!existsSync(join(root, "usr/bin/qbittorrent-nox"))) {
      throw new Error(
        `qBittorrent 5.1 runs from a Debian 13 (trixie) root at ${root}, which has no usr/bin/qbittorrent-nox. ` +
          "Build it with: bash scripts/qbittorrent5-root.sh (as root; QBT5_ROOT names another folder)",
      );
    }
    if (process.getuid?.() !== 0) throw new Error(`qBittorrent 5.1 runs under chroot ${root}, which needs root; run the tests as root`);
    const chroot = requireTool("chroot");
    reported = execaSync(chroot, [root, "qbittorrent-nox", "--version"], { reject: false }).stdout.trim();
    program = {
      version,
      root,
      tempDir: (prefix) => mkdtempSync(join(root, "tmp", prefix)),
      inside: (hostPath) => {
        const shared = [...sharedPaths].find((dir) => within(resolve(hostPath), dir));
        if (shared) return resolve(hostPath);
        const rel = relative(root, resolve(hostPath));
        if (rel.startsWith("..")) throw new Error(`${hostPath} is outside ${root}: qBittorrent 5.1 (under chroot) cannot see it`);
        return `/${rel}`;
      },
      run: (args) => execa(chroot, [root, "qbittorrent-nox", ...args], { reject: false, stdin: "ignore", all: true }),
    };
  }
  if (!reported.startsWith(`qBittorrent v${version}.`)) {
    throw new Error(`expected qBittorrent ${version}.x, but the program reports "${reported}"${version === "5.1" ? "; rebuild the root with bash scripts/qbittorrent5-root.sh" : ""}`);
  }
  programs.set(version, program);
  return program;
}

/** A folder that the host and a qBittorrent program name by the same path. */
export interface SharedDir {
  /** The folder's absolute path, on the host and as the program sees it. */
  path: string;
  /** Unmounts it from the program's root (lazily when busy) and removes it with its contents. */
  dispose(): void;
}

/**
 * A new empty folder under the host's temp folder that `program` sees at the same path, so paths
 * qBittorrent reports (save_path, content_path) name the host's files as they are. For 4.5 (root
 * "/") it is a plain temp folder; for 5.1 the folder is bind-mounted at the same path inside the
 * root (`mount --bind P root/P`, which needs root), and `program.inside` returns paths under it
 * unchanged. Give it to `startQbittorrent` as `defaultSavePath`, or as data and save paths.
 * With `tmpfsSize` ("1g") the folder is a tmpfs of its own (mounted before the bind mount), another
 * file system than the rest, so that moving a torrent there copies its data instead of renaming it.
 */
export function sharedDir(program: QbittorrentProgram | QbittorrentVersion, prefix = "mp-shared-", options: { tmpfsSize?: string } = {}): SharedDir {
  const target = typeof program === "string" ? qbittorrentProgram(program) : program;
  const path = mkdtempSync(join(tmpdir(), prefix));
  const mounts: string[] = [];
  const undo = () => {
    for (const mountPoint of mounts.splice(0).reverse()) unmount(mountPoint);
    sharedPaths.delete(path);
    if (target.root !== "/") rmSync(join(target.root, path), { recursive: true, force: true });
    rmSync(path, { recursive: true, force: true });
  };
  const mount = (args: string[], mountPoint: string) => {
    const mounted = execaSync("mount", [...args, mountPoint], { reject: false });
    if (mounted.exitCode !== 0) {
      undo();
      throw new Error(`mount ${[...args, mountPoint].join(" ")} failed (it needs root): ${mounted.stderr}`);
    }
    mounts.push(mountPoint);
    mountedPoints.add(mountPoint);
  };
  if (options.tmpfsSize) mount(["-t", "tmpfs", "-o", `size=${options.tmpfsSize}`, "tmpfs"], path);
  if (target.root !== "/") {
    const mountPoint = join(target.root, path);
    mkdirSync(mountPoint, { recursive: true });
    mount(["--bind", path], mountPoint);
    sharedPaths.add(path);
  }
  let disposed = false;
  return {
    path,
    dispose() {
      if (disposed) return;
      disposed = true;
      undo();
    },
  };
}

/** Mounts made by `sharedDir` and not undone yet; unmounted lazily when the process exits. */
const mountedPoints = new Set<string>();
function unmount(mountPoint: string): void {
  if (!mountedPoints.delete(mountPoint)) return;
  if (execaSync("umount", [mountPoint], { reject: false }).exitCode !== 0) {
    const lazy = execaSync("umount", ["--lazy", mountPoint], { reject: false });
    if (lazy.exitCode !== 0) throw new Error(`umount --lazy ${mountPoint} failed: ${lazy.stderr}`);
  }
}
process.once("exit", () => {
  for (const mountPoint of [...mountedPoints].reverse()) execaSync("umount", ["--lazy", mountPoint], { reject: false });
});

/** A running qbittorrent-nox, reached through its WebUI on loopback. */
export interface RunningQbittorrent {
  version: QbittorrentVersion;
  url: string;
  /** Calls the API: POST with a form, else GET; sends the session cookie once `login` succeeded. */
  api(path: string, form?: Record<string, string> | FormData): Promise<Response>;
  /** Logs in and keeps whatever cookie the answer sets (SID up to 5.1, QBT_SID_<port> from 5.2). */
  login(username: string, password: string): Promise<Response>;
  /** What the program printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the program with `args` and waits until its WebUI on 127.0.0.1:`webuiPort` answers. */
export async function launchQbittorrent(program: QbittorrentProgram, args: string[], webuiPort: number): Promise<RunningQbittorrent> {
  const child = program.run(args);
  let output = "";
  child.all?.on("data", (chunk: Buffer) => void (output += chunk.toString()));
  let exited = false;
  void child.then(() => void (exited = true));
  const url = `http://127.0.0.1:${webuiPort}`;
  let cookie = "";
  const api = async (path: string, form?: Record<string, string> | FormData) => {
    const body = form instanceof FormData ? form : form ? new URLSearchParams(form) : undefined;
    return fetch(`${url}${path}`, { method: form ? "POST" : "GET", body, headers: cookie ? { cookie } : {} });
  };
  const before = Date.now();
  for (;;) {
    try {
      await fetch(`${url}/api/v2/app/webapiVersion`);
      break;
    } catch {
      if (exited) throw new Error(`qbittorrent-nox ${program.version} exited before its WebUI answered on ${url}:\n${output}`);
      if (Date.now() - before > 20_000) {
        child.kill("SIGKILL");
        throw new Error(`qbittorrent-nox ${program.version} did not start on ${url}:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    version: program.version,
    url,
    api,
    async login(username, password) {
      const response = await api("/api/v2/auth/login", { username, password });
      const set = response.headers.getSetCookie()[0];
      if (set) cookie = set.split(";")[0]!;
      return response;
    },
    output: () => output,
    async stop() {
      child.kill("SIGTERM");
      await child;
    },
  };
}

/** qBittorrent's WebUI\Password_PBKDF2 value for a password (PBKDF2-HMAC-SHA512, 100000 rounds, 16-byte salt). */
export function passwordPbkdf2(password: string, salt = randomBytes(16)): string {
  return `@ByteArray(${salt.toString("base64")}:${pbkdf2Sync(password, salt, 100_000, 64, "sha512").toString("base64")})`;
}

export interface Qbittorrent {
  url: string;
  /** Credentials when the localhost bypass is off (written into the profile: 5.x has no default password). */
  username: string;
  password: string;
  api(path: string, form?: Record<string, string> | FormData): Promise<Response>;
  /**
   * Makes a torrent of `dataPath` and adds it; returns the new torrent's hash (a cross-seed may share
   * its name with another). `savePath` and `contentLayout` ("NoSubfolder") are passed to qBittorrent.
   */
  add(dataPath: string, options?: { category?: string; savePath?: string; contentLayout?: "Original" | "Subfolder" | "NoSubfolder" }): Promise<string>;
  /** Adds a magnet link (with DHT off, it stays fetching metadata); returns its hash. */
  addMagnet(hash: string, name: string, savePath: string): Promise<string>;
  torrents(): Promise<any[]>;
  waitSeeding(hash: string, minSeconds?: number): Promise<void>;
  /** Stops the program and starts it again on the same profile and ports (its session reloaded from the profile). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A qBittorrent for the runtime tests: 4.5.2 unless `version` says otherwise. With 5.1, every path
 * (defaultSavePath, data given to `add`) must lie inside its root.
 */
export async function startQbittorrent(options: { defaultSavePath: string; bypassLocalhostAuth: boolean; version?: QbittorrentVersion }): Promise<Qbittorrent> {
  const program = qbittorrentProgram(options.version ?? "4.5");
  const mktorrent = requireTool("mktorrent");
  const profile = program.tempDir("mp-qbt-");
  const port = await freePort();
  const peer = await freePort();
  const username = "admin";
  const password = "adminadmin";
  mkdirSync(join(profile, "qBittorrent/config"), { recursive: true });
  writeFileSync(
    join(profile, "qBittorrent/config/qBittorrent.conf"),
    [
      "[LegalNotice]",
      "Accepted=true",
      "",
      "[BitTorrent]",
      `Session\\DefaultSavePath=${program.inside(options.defaultSavePath)}`,
      "Session\\DisableAutoTMMByDefault=false",
      `Session\\Port=${peer}`,
      "Session\\DHTEnabled=false",
      "Session\\LSDEnabled=false",
      "Session\\PeXEnabled=false",
      "",
      "[Preferences]",
      "WebUI\\Address=127.0.0.1",
      `WebUI\\Port=${port}`,
      `WebUI\\LocalHostAuth=${options.bypassLocalhostAuth ? "false" : "true"}`,
      `WebUI\\Username=${username}`,
      `WebUI\\Password_PBKDF2="${passwordPbkdf2(password)}"`,
      "Connection\\UPnP=false",
      "",
    ].join("\n"),
  );
  const launch = async () => {
    const launched = await launchQbittorrent(program, [`--profile=${program.inside(profile)}`], port);
    if (!options.bypassLocalhostAuth) {
      const login = await launched.login(username, password);
      if (login.status >= 300) throw new Error(`login to qBittorrent ${program.version} failed: HTTP ${login.status}`);
    }
    return launched;
  };
  let running = await launch();
  const api = (path: string, form?: Record<string, string> | FormData) => running.api(path, form);
  const torrents = async () => (await (await api("/api/v2/torrents/info")).json()) as any[];
  return {
    url: running.url,
    username,
    password,
    api,
    torrents,
    async add(dataPath, addOptions = {}) {
      const file = join(mkdtempSync(join(tmpdir(), "mp-torrent-")), `${basename(dataPath)}.torrent`);
      await execa(mktorrent, ["-a", "http://127.0.0.1:1/announce", "-o", file, dataPath]);
      const form = new FormData();
      form.append("torrents", new Blob([readFileSync(file)]), basename(file));
      if (addOptions.category) {
        form.append("category", addOptions.category);
      } else {
        form.append("savepath", program.inside(addOptions.savePath ?? dirname(dataPath)));
        form.append("autoTMM", "false");
      }
      if (addOptions.contentLayout) form.append("contentLayout", addOptions.contentLayout);
      const known = new Set((await torrents()).map((t) => t.hash as string));
      const response = await api("/api/v2/torrents/add", form);
      if ((await response.text()) !== "Ok.") throw new Error(`adding ${file} failed`);
      const before = Date.now();
      for (;;) {
        const found = (await torrents()).find((t) => t.name === basename(dataPath) && !known.has(t.hash));
        if (found) return found.hash as string;
        if (Date.now() - before > 10_000) throw new Error(`torrent ${basename(dataPath)} did not appear`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async addMagnet(hash, name, savePath) {
      const response = await api("/api/v2/torrents/add", { urls: `magnet:?xt=urn:btih:${hash}&dn=${encodeURIComponent(name)}`, savepath: program.inside(savePath), autoTMM: "false" });
      if ((await response.text()) !== "Ok.") throw new Error(`adding the magnet ${hash} failed`);
      const before = Date.now();
      for (;;) {
        if ((await torrents()).some((t) => t.hash === hash)) return hash;
        if (Date.now() - before > 10_000) throw new Error(`magnet ${hash} did not appear`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async waitSeeding(hash, minSeconds = 0) {
      const before = Date.now();
      for (;;) {
        const t = (await torrents()).find((x) => x.hash === hash);
        if (t && t.progress === 1 && !/^checking/.test(t.state) && t.content_path.startsWith("/") && t.seeding_time >= minSeconds) return;
        if (Date.now() - before > 30_000) throw new Error(`torrent ${hash} is not seeding: ${JSON.stringify(t)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async restart() {
      await running.stop();
      running = await launch();
    },
    async stop() {
      await running.stop();
      if (program.root !== "/") rmSync(profile, { recursive: true, force: true });
    },
  };
}
