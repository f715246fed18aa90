/**
 * Bytes read, by process and by where the file is, from an `strace -f -y` log of read-like calls.
 * Used by the benchmark to measure what cleanup reads of the media: every read(2)-family call's
 * return value is added to the file its descriptor names (strace -y prints the path beside the fd).
 *
 * Threads are folded into their process by following clone/clone3 (CLONE_THREAD means same process),
 * and a process is named by the program it exec'd, so the rclone child cleanup starts is counted
 * apart from the Node process itself.
 */

/**
 * The syscalls traced. Reads that make no read-like syscall escape this count: a mapped file (mmap)
 * and io_uring, which libuv 1.45+ (Node 20) uses for asynchronous file operations, with a kernel
 * thread polling the ring (SQPOLL). io_uring_setup and io_uring_enter are traced so a log says
 * whether a ring was used at all; the benchmark also checks the page cache, which sees every reader.
 */
export const TRACED = ["read", "pread64", "readv", "preadv", "preadv2", "sendfile", "sendfile64", "copy_file_range", "splice", "clone", "clone3", "fork", "vfork", "execve", "io_uring_setup", "io_uring_enter"];

/** strace arguments, before the command: follow children, print fd paths, no data, no signals. */
export const straceArgs = (out: string) => ["-f", "-qq", "-y", "-s", "0", "-e", `trace=${TRACED.join(",")}`, "-e", "signal=none", "-o", out];

const READS = new Set(["read", "pread64", "readv", "preadv", "preadv2", "sendfile", "sendfile64", "copy_file_range", "splice"]);
/** Which argument is the descriptor read from. */
const SOURCE_ARG: Record<string, number> = { sendfile: 1, sendfile64: 1 };

export interface ProcessReads {
  /** The program the process exec'd last (`node`, `rclone`). */
  program: string;
  /** Bytes by category of the file read (as `classify` names it). */
  bytes: Map<string, number>;
  /** Read calls by category. */
  calls: Map<string, number>;
  /** io_uring_setup and io_uring_enter calls: reads submitted through a ring are not in `bytes`. */
  uring: number;
}

/** Splits `a, b, c` at top-level commas (not inside <...>, [...], {...} or quotes). */
function args(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      current += c;
      if (c === "\\") current += text[++i] ?? "";
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if ("<[{(".includes(c)) depth++;
    else if (">]})".includes(c)) depth--;
    if (c === "," && depth === 0) {
      out.push(current.trim());
      current = "";
    } else current += c;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** Undoes strace's escaping of a path printed with -y (`\x20`-style and octal escapes). */
function unescape(path: string): string {
  return path.replace(/\\x([0-9a-f]{2})|\\([0-7]{1,3})|\\(.)/gi, (_, hex, oct, other) => (hex ? String.fromCharCode(parseInt(hex, 16)) : oct ? String.fromCharCode(parseInt(oct, 8)) : other));
}

/**
 * Parses the log. `classify(path)` names where a file is (`media`, `remote`, `other`); descriptors
 * that are not files (pipes, sockets) are `pipe/socket`. The first pid in the log is the traced
 * command's.
 */
export function parseStrace(log: string, classify: (path: string) => string): { root: number; processes: Map<number, ProcessReads> } {
  const tgid = new Map<number, number>();
  const processes = new Map<number, ProcessReads>();
  const pending = new Map<number, { name: string; text: string }>();
  let root = -1;
  const proc = (pid: number) => {
    const id = tgid.get(pid) ?? pid;
    let p = processes.get(id);
    if (!p) processes.set(id, (p = { program: "?", bytes: new Map(), calls: new Map(), uring: 0 }));
    return p;
  };
  const complete = (pid: number, name: string, argText: string, ret: string) => {
    const value = Number.parseInt(ret, 10);
    if (READS.has(name)) {
      if (!(value > 0)) return;
      const fd = args(argText)[SOURCE_ARG[name] ?? 0] ?? "";
      const m = /^\d+<(.*)>$/s.exec(fd);
      const target = m ? m[1]! : "";
      const category = /^(pipe|socket|anon_inode|TCP|UDP|UNIX|TCPv6|UDPv6|NETLINK):/.test(target) || target === "" ? "pipe/socket" : classify(unescape(target));
      const p = proc(pid);
      p.bytes.set(category, (p.bytes.get(category) ?? 0) + value);
      p.calls.set(category, (p.calls.get(category) ?? 0) + 1);
    } else if (name === "clone" || name === "clone3" || name === "fork" || name === "vfork") {
      if (!(value > 0)) return;
      const thread = /CLONE_THREAD/.test(argText);
      tgid.set(value, thread ? (tgid.get(pid) ?? pid) : value);
    } else if (name === "io_uring_setup" || name === "io_uring_enter") {
      proc(pid).uring++;
    } else if (name === "execve" && value === 0) {
      const m = /^"((?:[^"\\]|\\.)*)"/.exec(argText);
      if (m) proc(pid).program = unescape(m[1]!).split("/").pop()!;
    }
  };
  for (const line of log.split("\n")) {
    const head = /^(\d+)\s+(.*)$/.exec(line);
    if (!head) continue;
    const pid = Number(head[1]);
    let rest = head[2]!;
    if (root < 0) {
      root = pid;
      tgid.set(pid, pid);
    }
    if (rest.startsWith("+++") || rest.startsWith("---")) continue;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/s.exec(rest);
    let name: string;
    let text: string;
    if (resumed) {
      const before = pending.get(pid);
      pending.delete(pid);
      if (!before || before.name !== resumed[1]) continue;
      name = before.name;
      text = before.text + resumed[2]!;
    } else {
      const call = /^(\w+)\((.*)$/s.exec(rest);
      if (!call) continue;
      name = call[1]!;
      text = call[2]!;
    }
    if (/<unfinished \.\.\.>$/.test(text)) {
      pending.set(pid, { name, text: text.replace(/\s*<unfinished \.\.\.>$/, "") });
      continue;
    }
    const end = /\)\s+=\s+(-?\d+|\?)(?:<[^>]*>)?(?:\s.*)?$/s.exec(text);
    if (!end) continue;
    complete(pid, name, text.slice(0, end.index), end[1]!);
    rest = "";
  }
  return { root, processes };
}
