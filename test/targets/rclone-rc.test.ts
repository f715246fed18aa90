/**
 * The B2 mount's remote control, measured with the real rclone and FUSE: the generated unit's
 * ExecStart flags, a local remote standing in for B2, run as an unprivileged account with only the
 * unit's capabilities, the way the unit runs it (User=, AmbientCapabilities=CAP_NET_BIND_SERVICE,
 * CapabilityBoundingSet=CAP_SYS_ADMIN CAP_NET_BIND_SERVICE): the RC listens on a port below 1024
 * (the spec's privilegedRcPort rule), which no account without that capability can take.
 *
 * Needs root (unshare --mount, mount --bind, setpriv --reuid). /etc/fuse.conf is never touched:
 * rclone runs in a private mount namespace where a temporary fuse.conf with user_allow_other is
 * bound over it, so the FUSE mount exists in that namespace only (reached with nsenter).
 */
import { execa, type ResultPromise } from "execa";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { b2RemotePath, rcListen, SECRET_FILES, UNITS } from "../../generators/model/units.ts";
import { mountSecretsEnvironment } from "../support/dashboard-server.ts";
import { parseSpec } from "../../spec/validate.ts";
import { fileOf, freePort, freePrivilegedPort, generateFrom, requireTool, specWith } from "../helpers.ts";

/** The Debian package of each tool this file runs. */
const DEBIAN: Record<string, string> = {
  rclone: "rclone",
  fusermount3: "fuse3",
  // rclone 1.60's FUSE library runs `fusermount`; fuse3 provides it as a link to fusermount3.
  fusermount: "fuse3",
  setpriv: "util-linux",
  unshare: "util-linux",
  nsenter: "util-linux",
  mount: "mount",
};
function tool(name: string): string {
  try {
    return requireTool(name);
  } catch {
    throw new Error(`${name} is not installed; this test runs the real tool. Install it with: apt-get install ${DEBIAN[name] ?? name}`);
  }
}

/** nobody stands in for the unit's account (rclone-b2); daemon (uid 1) for any other account on the host. */
const MOUNT_UID = 65534;
const OTHER_UID = 1;
const RC_PASSWORD = "test-rc-password-6f1c2a";
const FILES: Record<string, string> = { "a.mkv": "first file\n", "b.srt": "subtitles\n", "show/s01e01.mkv": "episode one\n" };

const spec = parseSpec(specWith());
const unitFile = fileOf(generateFrom(specWith()), `systemd/${UNITS.mount.service}`);
const remote = b2RemotePath(spec);
const rc = rcListen(spec);

/** A `Key=Value` line of the generated unit's [Service]. */
function unitSetting(key: string): string {
  const value = unitFile.match(new RegExp(`^${key}=(.*)$`, "m"))?.[1];
  if (value === undefined) throw new Error(`${UNITS.mount.service} has no ${key}=`);
  return value;
}

/** `rclone version`'s "v1.60.1-DEV" as [1, 60]. */
async function rcloneVersion(rclone: string): Promise<[number, number]> {
  const { stdout } = await execa(rclone, ["version"]);
  const match = stdout.match(/^rclone v(\d+)\.(\d+)/);
  if (!match) throw new Error(`cannot read rclone's version from: ${stdout}`);
  return [Number(match[1]), Number(match[2])];
}
const atLeast = (have: [number, number], want: [number, number]): boolean => have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]);

/**
 * The generated mount flags, for this rclone and these temp dirs. Every flag is kept except:
 * - `--vfs-read-chunk-streams` exists since rclone 1.68 (older ones refuse the unknown flag): dropped;
 * - `--vfs-cache-max-age=7d`: duration flags take the `d` suffix since 1.68 (the VFS options became
 *   fs.Duration then; 1.60 says `time: unknown unit "d"`): the same age is given in hours;
 * - `--rc-addr` keeps 127.0.0.1 but takes a free port (below 1024, as the unit's); `--cache-dir` becomes a temp dir.
 */
function mountFlags(flags: readonly string[], version: [number, number], port: number, cacheDir: string): string[] {
  const old = !atLeast(version, [1, 68]);
  return flags.flatMap((arg) => {
    const [flag, value] = arg.split(/=(.*)/s) as [string, string | undefined];
    if (old && flag === "--vfs-read-chunk-streams") return [];
    if (flag === "--rc-addr") {
      expect(value, "the unit's RC address").toBe(`${rc.address}:${rc.port}`);
      return [`--rc-addr=${rc.address}:${port}`];
    }
    if (flag === "--cache-dir") return [`--cache-dir=${cacheDir}`];
    const days = value?.match(/^(\d+)d$/);
    if (old && days) return [`${flag}=${Number(days[1]) * 24}h`];
    return [arg];
  });
}

/** The generated ExecStart: `<rclone> mount <remote> <mount point> <flags…>`. */
function execStart(): { remote: string; mountPoint: string; flags: string[] } {
  const line = unitSetting("ExecStart");
  // Split on spaces only: the default spec's line has no quoting for systemd to undo.
  expect(line).not.toMatch(/["'\\]/);
  const [, verb, remoteArg, mountPoint, ...flags] = line.split(" ");
  expect(verb).toBe("mount");
  return { remote: remoteArg!, mountPoint: mountPoint!, flags };
}

interface Tools {
  rclone: string;
  setpriv: string;
  unshare: string;
  nsenter: string;
  mount: string;
}
let tools: Tools;
let version: [number, number];
let root = "";
let remoteDir = "";
let fuseConf = "";
let base = "";
let rcPort = 0;
let rclone: Running | undefined;
const secrets = mountSecretsEnvironment(spec, RC_PASSWORD);

interface Running {
  child: ResultPromise;
  pid: number;
  output: () => string;
  exited: () => boolean;
  mountPoint: string;
}

/** A capability setting of the unit as setpriv's list: `CAP_SYS_ADMIN CAP_NET_BIND_SERVICE` → `-all,+sys_admin,+net_bind_service`. */
function setprivCaps(key: string): string {
  const caps = unitSetting(key)
    .split(/\s+/)
    .filter(Boolean)
    .map((cap) => `+${cap.replace(/^CAP_/, "").toLowerCase()}`);
  return ["-all", ...caps].join(",");
}

/**
 * setpriv options: the unit's account, no groups, the unit's bounding set, and the unit's ambient
 * capabilities (which must be inheritable too), which stay with the account across setuid and exec
 * as systemd's AmbientCapabilities= does.
 */
function asAccount(uid: number, extra: readonly string[] = []): string[] {
  const ambient = setprivCaps("AmbientCapabilities");
  return [tools.setpriv, `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", `--inh-caps=${ambient}`, `--ambient-caps=${ambient}`, `--bounding-set=${setprivCaps("CapabilityBoundingSet")}`, ...extra];
}

/** setpriv options: an account with no capabilities at all, as any other account on the host. */
function asPlainAccount(uid: number): string[] {
  return [tools.setpriv, `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all"];
}

/** Runs node as `account` (setpriv options) to listen on 127.0.0.1:`port`; the result is "listening" or the error code. */
async function listenAs(account: readonly string[], port: number): Promise<string> {
  const script = `const s = require("net").createServer(); s.on("error", (e) => { console.log(e.code); process.exit(0); }); s.listen(${port}, "127.0.0.1", () => { console.log("listening"); s.close(); });`;
  const [setpriv, ...options] = account;
  const result = await execa(setpriv!, [...options, process.execPath, "-e", script], { reject: false, all: true, timeout: 10_000 });
  expect(result.exitCode, result.all).toBe(0);
  return result.stdout.trim();
}

/** A folder owned by the mount's account, as systemd makes CacheDirectory= (the mount point is the account's too). */
function accountDir(name: string, mode: number): string {
  const dir = join(root, name);
  mkdirSync(dir);
  chownSync(dir, MOUNT_UID, MOUNT_UID);
  chmodSync(dir, mode);
  return dir;
}

/** Starts the generated rclone mount as the mount's account, in a private mount namespace. */
function startMount(name: string, port: number, setprivExtra: readonly string[] = []): Running {
  const unit = execStart();
  expect(unit.remote).toBe(remote);
  const mountPoint = accountDir(`${name}-mnt`, 0o755);
  const cacheDir = accountDir(`${name}-cache`, 0o700);
  const command = [...asAccount(MOUNT_UID, setprivExtra), tools.rclone, "mount", unit.remote, mountPoint, ...mountFlags(unit.flags, version, port, cacheDir)];
  const script = `${tools.mount} --bind "$1" /etc/fuse.conf || exit 97; shift; exec "$@"`;
  const child = execa(tools.unshare, ["--mount", "--propagation", "private", "sh", "-c", script, "rclone-mount", fuseConf, ...command], {
    // The local remote `b2:entertainment-netmount` is the folder entertainment-netmount of the working directory.
    cwd: root,
    // As systemd starts a User= unit: its own PATH and HOME, plus the EnvironmentFile, with B2 swapped for local.
    env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/nonexistent", ...secrets, [`RCLONE_CONFIG_${spec.b2.remote.toUpperCase()}_TYPE`]: "local" },
    extendEnv: false,
    buffer: false,
    reject: false,
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  void child.then(() => (exited = true));
  if (child.pid === undefined) throw new Error(`unshare did not start: ${output}`);
  return { child, pid: child.pid, output: () => output, exited: () => exited, mountPoint };
}

/** Runs `command` inside the mount namespace of the running rclone. */
function inMountNamespace(command: readonly string[]) {
  return execa(tools.nsenter, [`--mount=/proc/${rclone!.pid}/ns/mnt`, "--", ...command], { reject: false, all: true });
}

async function mountinfoLine(mountPoint: string): Promise<string | undefined> {
  const { stdout } = await inMountNamespace(["cat", "/proc/self/mountinfo"]);
  return stdout.split("\n").find((line) => line.split(" ")[4] === mountPoint);
}

/** Waits, bounded, until rclone's RC answers and its FUSE mount is in place. */
async function waitReady(running: Running): Promise<void> {
  // Generous: on a loaded machine (CI beside long property runs) mounting has taken longer than 20 s.
  const deadline = Date.now() + 60_000;
  const fail = (what: string) => new Error(`rclone ${what}; its output:\n${running.output()}`);
  let lastError = "";
  for (;;) {
    if (running.exited()) throw fail("exited before its RC answered");
    if (Date.now() > deadline) throw fail(`did not answer on ${base} within 60 s (last fetch error: ${lastError})`);
    const answered = await fetch(`${base}/core/stats`, { method: "POST" }).then(
      () => true,
      (e: Error) => ((lastError = String((e.cause as Error | undefined)?.message ?? e.message)), false),
    );
    if (answered) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (;;) {
    if (running.exited()) throw fail("exited before mounting");
    if (Date.now() > deadline) throw fail(`did not mount ${running.mountPoint} within 60 s`);
    if (await mountinfoLine(running.mountPoint)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running || running.exited()) return;
  running.child.kill("SIGTERM");
  const stopped = await Promise.race([running.child.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000))]);
  if (!stopped) {
    running.child.kill("SIGKILL");
    await running.child;
  }
}

const login = (): string => `Basic ${Buffer.from(`${secrets.RCLONE_RC_USER}:${secrets.RCLONE_RC_PASS}`).toString("base64")}`;

/** POSTs an RC call as JSON, with the login or without. */
async function rcCall(path: string, params: Record<string, unknown>, withLogin: boolean): Promise<{ status: number; body: string }> {
  const response = await fetch(`${base}/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(withLogin ? { Authorization: login() } : {}) },
    body: JSON.stringify(params),
  });
  return { status: response.status, body: await response.text() };
}

/** Every file of the stand-in bucket with its contents. */
function bucket(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(remoteDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[path.slice(remoteDir.length + 1)] = readFileSync(path, "utf8");
  }
  return files;
}

beforeAll(async () => {
  tools = { rclone: tool("rclone"), setpriv: tool("setpriv"), unshare: tool("unshare"), nsenter: tool("nsenter"), mount: tool("mount") };
  const fusermount3 = tool("fusermount3");
  tool("fusermount");
  if (!existsSync("/dev/fuse")) throw new Error("/dev/fuse is missing: this test mounts with the real FUSE (load the fuse module, or give the container the device)");
  const helper = statSync(fusermount3);
  if (helper.uid !== 0 || (helper.mode & 0o4000) === 0) throw new Error(`${fusermount3} is not setuid root: an unprivileged FUSE mount needs it (reinstall fuse3)`);
  if (process.getuid?.() !== 0) throw new Error("this test needs root: unshare --mount, mount --bind and setpriv --reuid");
  version = await rcloneVersion(tools.rclone);

  // The unit reads this login from the mount's secrets file; the test passes the same lines.
  expect(unitSetting("EnvironmentFile").endsWith(`/${SECRET_FILES.mount}`)).toBe(true);
  expect(unitSetting("User")).toBe(spec.accounts.mount);
  expect(secrets).toMatchObject({ [`RCLONE_CONFIG_${spec.b2.remote.toUpperCase()}_TYPE`]: "b2", RCLONE_RC_USER: spec.secrets.rcloneRc.user, RCLONE_RC_PASS: RC_PASSWORD });

  root = mkdtempSync(join(tmpdir(), "mp-rclone-rc-"));
  chmodSync(root, 0o755);
  remoteDir = join(root, remote.slice(remote.indexOf(":") + 1));
  for (const [path, contents] of Object.entries(FILES)) {
    mkdirSync(join(remoteDir, path, ".."), { recursive: true });
    writeFileSync(join(remoteDir, path), contents);
  }
  // The stand-in is the mount account's to change (as a bucket is to a key that may write): only the
  // RC login and --read-only keep the calls below from changing it, not file permissions.
  for (const path of [remoteDir, ...readdirSync(remoteDir, { recursive: true, encoding: "utf8" }).map((p) => join(remoteDir, p))]) chownSync(path, MOUNT_UID, MOUNT_UID);
  fuseConf = join(root, "fuse.conf");
  writeFileSync(fuseConf, "user_allow_other\n");

  rcPort = await freePrivilegedPort();
  base = `http://${rc.address}:${rcPort}${rc.baseUrl}`;
  rclone = startMount("main", rcPort);
  await waitReady(rclone);
}, 90_000);

afterAll(async () => {
  // rclone unmounts on SIGTERM; the private namespace, and any mount left in it, ends with its last process.
  await stop(rclone);
  if (root) rmSync(root, { recursive: true, force: true });
}, 20_000);

describe("the generated rclone mount with a local remote standing in for B2, as an unprivileged account", () => {
  it("refuses purge, core/command, copyfile and copyurl without the RC login (401), and the bucket keeps exactly its files", async () => {
    // A web server copyurl would fetch from: it must see no request.
    let fetched = 0;
    const server = createServer((_req, res) => {
      fetched++;
      res.end("payload\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    try {
      const before = bucket();
      expect(before).toEqual(FILES);
      const calls: [string, Record<string, unknown>][] = [
        ["operations/purge", { fs: remote, remote: "" }],
        ["core/command", { command: "env" }],
        ["operations/copyfile", { srcFs: "/", srcRemote: "etc/passwd", dstFs: remote, dstRemote: "x" }],
        ["operations/copyurl", { fs: remote, remote: "fetched", url: `http://127.0.0.1:${port}/`, autoFilename: false }],
      ];
      // Measured with rclone 1.60.1: with a login set, even --rc-no-auth keeps these at 401 (it only lifts
      // the 403 rclone gives calls like purge when no login is set); with no login and --rc-no-auth,
      // purge empties the stand-in.
      for (const [path, params] of calls) {
        const { status, body } = await rcCall(path, params, false);
        expect(status, `${path}: ${body}`).toBe(401);
      }
      expect(bucket()).toEqual(before);
      expect(fetched).toBe(0);
      // The same fs reaches the stand-in: with the login, operations/list lists its files.
      const listed = await rcCall("operations/list", { fs: remote, remote: "", opt: { recurse: true, filesOnly: true } }, true);
      expect(listed.status, listed.body).toBe(200);
      expect((JSON.parse(listed.body) as { list: { Path: string }[] }).list.map((e) => e.Path).sort()).toEqual(Object.keys(FILES).sort());
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("answers core/stats and vfs/stats with the login (200, JSON, vfs/stats names the mounted fs) and refuses both without it (401): once a login is set, rclone asks for it on every path", async () => {
    const stats = await rcCall("core/stats", {}, true);
    expect(stats.status, stats.body).toBe(200);
    expect(JSON.parse(stats.body)).toHaveProperty("bytes");
    const vfs = await rcCall("vfs/stats", {}, true);
    expect(vfs.status, vfs.body).toBe(200);
    const vfsStats = JSON.parse(vfs.body) as { fs: string; opt: { ReadOnly: boolean } };
    // The local backend names its fs by the absolute path: b2:/tmp/…/entertainment-netmount.
    expect(vfsStats.fs).toBe(`${spec.b2.remote}:${remoteDir}`);
    expect(vfsStats.opt.ReadOnly).toBe(true);

    for (const path of ["core/stats", "vfs/stats"]) {
      const { status, body } = await rcCall(path, {}, false);
      expect(status, `${path}: ${body}`).toBe(401);
    }
    // A wrong password is refused the same way.
    const wrong = await fetch(`${base}/core/stats`, { method: "POST", headers: { Authorization: `Basic ${Buffer.from(`${secrets.RCLONE_RC_USER}:wrong`).toString("base64")}` } });
    expect(wrong.status).toBe(401);
  });

  it("keeps the RC login off rclone's command line (it comes from the environment)", () => {
    const cmdline = readFileSync(`/proc/${rclone!.pid}/cmdline`, "utf8").split("\0");
    expect(cmdline).toContain("--rc");
    expect(cmdline.join(" ")).not.toContain(RC_PASSWORD);
  });

  it("does not listen on any non-loopback address: a TCP connect to this machine's IPv4 address on the RC port is refused", async (ctx) => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (!address) ctx.skip("this machine has no non-loopback IPv4 address to connect to");
    const tryConnect = (host: string) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host, port: rcPort, timeout: 3_000 });
        socket.on("connect", () => (socket.destroy(), resolve("connected")));
        socket.on("timeout", () => (socket.destroy(), resolve("timeout")));
        socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
    expect(await tryConnect(rc.address)).toBe("connected");
    expect(await tryConnect(address!)).toBe("ECONNREFUSED");
  });

  it(`listens on its RC port below 1024 as uid ${MOUNT_UID}, with only the unit's ambient CAP_NET_BIND_SERVICE in effect`, async () => {
    expect(unitSetting("AmbientCapabilities")).toBe("CAP_NET_BIND_SERVICE");
    expect(unitSetting("CapabilityBoundingSet").split(/\s+/)).toEqual(expect.arrayContaining(["CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE"]));
    expect(rc.port, "the unit's RC port").toBeLessThan(1024);
    expect(rcPort).toBeLessThan(1024);
    const unprivilegedStart = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
    expect(rcPort, `net.ipv4.ip_unprivileged_port_start is ${unprivilegedStart}: any account may listen on the RC's port`).toBeLessThan(unprivilegedStart);

    // The process is rclone itself (unshare, sh and setpriv exec into it), running as the account with the unit's capabilities.
    const status = readFileSync(`/proc/${rclone!.pid}/status`, "utf8");
    const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(.*)$`, "m"))?.[1]?.split(/\s+/);
    expect(readFileSync(`/proc/${rclone!.pid}/comm`, "utf8").trim()).toBe("rclone");
    expect(field("Uid")).toEqual(Array(4).fill(String(MOUNT_UID)));
    const CAP_NET_BIND_SERVICE = 1n << 10n;
    const CAP_SYS_ADMIN = 1n << 21n;
    const caps = (name: string) => BigInt(`0x${field(name)![0]}`);
    expect(caps("CapAmb")).toBe(CAP_NET_BIND_SERVICE);
    expect(caps("CapEff")).toBe(CAP_NET_BIND_SERVICE);
    expect(caps("CapBnd")).toBe(CAP_NET_BIND_SERVICE | CAP_SYS_ADMIN);

    // The kernel's socket table: 127.0.0.1:<RC port>, listening (0A), owned by the mount's account.
    const local = `0100007F:${rcPort.toString(16).toUpperCase().padStart(4, "0")}`;
    const listening = readFileSync("/proc/net/tcp", "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[1] === local && f[3] === "0A");
    expect(listening.map((f) => f[7])).toEqual([String(MOUNT_UID)]);
  });

  it(`leaves the RC's port to no account without the capability: uid ${OTHER_UID} (and uid ${MOUNT_UID} without it) cannot listen there (EACCES), held or free`, async () => {
    // On the RC's port while rclone holds it: the kernel checks the privilege before whether the port is taken.
    expect(await listenAs(asPlainAccount(OTHER_UID), rcPort)).toBe("EACCES");
    // On a port below 1024 nobody holds, as the RC's port is while the mount is down.
    const down = await freePrivilegedPort();
    expect(await listenAs(asPlainAccount(OTHER_UID), down)).toBe("EACCES");
    expect(await listenAs(asPlainAccount(MOUNT_UID), down)).toBe("EACCES");
    // The same account listens on a port above 1024, and the mount's account with the unit's capabilities on the free one below it.
    expect(await listenAs(asPlainAccount(OTHER_UID), await freePort())).toBe("listening");
    expect(await listenAs(asAccount(MOUNT_UID), down)).toBe("listening");
  });

  it(`is mounted by uid ${MOUNT_UID} (ro, allow_other): another account (uid ${OTHER_UID}) reads a file through it, and writing through it fails`, async () => {
    const mountPoint = rclone!.mountPoint;
    const line = await mountinfoLine(mountPoint);
    expect(line, "mountinfo of rclone's namespace").toBeDefined();
    // mountinfo: id parent dev root mountpoint options [optional…] - fstype source superoptions
    const [before, after] = line!.split(" - ") as [string, string];
    const [fstype, source, superOptions] = after.split(" ") as [string, string, string];
    expect(fstype).toBe("fuse.rclone");
    expect(source).toBe(`${spec.b2.remote}:${remoteDir}`);
    expect(before.split(" ")[5]!.split(",")).toContain("ro");
    expect(superOptions.split(",")).toEqual(expect.arrayContaining(["ro", `user_id=${MOUNT_UID}`, "allow_other"]));

    const read = await inMountNamespace([tools.setpriv, `--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, "--clear-groups", "cat", join(mountPoint, "show/s01e01.mkv")]);
    expect(read.all).toBe(FILES["show/s01e01.mkv"]!.trimEnd());
    expect(read.exitCode).toBe(0);

    for (const uid of [MOUNT_UID, OTHER_UID]) {
      const write = await inMountNamespace([...asAccount(uid), "sh", "-c", `echo new > "$0/new.txt" && echo changed >> "$0/a.mkv"`, mountPoint]);
      expect(write.exitCode, `uid ${uid}: ${write.all}`).not.toBe(0);
      expect(write.all).toMatch(/Read-only file system/);
    }
    expect(bucket()).toEqual(FILES);
  });

  it("fails to mount with no_new_privs set (what systemd's seccomp settings imply for a User= unit): fusermount cannot act as setuid root", async () => {
    const running = startMount("nnp", await freePrivilegedPort(), ["--no-new-privs"]);
    const timer = setTimeout(() => running.child.kill("SIGKILL"), 20_000);
    const result = await running.child;
    clearTimeout(timer);
    expect(result.signal, `rclone mounted anyway and was killed after 20 s:\n${running.output()}`).toBeUndefined();
    expect(result.exitCode, running.output()).not.toBe(0);
    expect(running.output()).toMatch(/fusermount/);
  }, 30_000);
});
