/**
 * Rules that relate several fields of a spec. Each rule is a function from the spec to a list of
 * problems, and every rule runs even when the spec's shape has errors elsewhere, so a user sees all
 * problems in one go. Rules therefore read the spec defensively: a field that is missing or
 * malformed is skipped here, because the schema already reports it.
 */
import { RCLONE_FLAGS, isKnownRcloneFlag } from "./rclone-flags.ts";
import type { SpecInput } from "./schema.ts";
import { checkAbsolutePath, checkDuration, checkKeyCapability, checkMountFlag, checkSize, checkUploadFlag, compareVersions, checkVersion, isWithin, KEY_ROLES } from "./syntax.ts";

export type SpecPath = readonly (string | number)[];
export interface Problem {
  path: SpecPath;
  message: string;
}

type Loose<T> = T extends object ? { [K in keyof T]?: Loose<T[K]> } : T | undefined;
type LooseSpec = Loose<SpecInput>;

const isPort = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0 && (value as number) < 65536;
const isPath = (value: unknown): value is string => typeof value === "string" && checkAbsolutePath(value) === undefined;
const entries = <T>(record: Record<string, T> | undefined): [string, T][] =>
  record && typeof record === "object" ? Object.entries(record) : [];
const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);

export function formatPath(path: SpecPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out || "(spec)";
}

/** Two endpoints, or an endpoint and the dashboard, on one port. */
function uniquePorts(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<number, SpecPath>();
  const claim = (port: unknown, path: SpecPath) => {
    if (!isPort(port)) return;
    const first = seen.get(port);
    if (first) {
      problems.push({ path, message: `${port} is already used by ${formatPath(first)}; give each endpoint a port of its own` });
    } else seen.set(port, path);
  };
  claim(spec.dashboard?.port, ["dashboard", "port"]);
  for (const [id, endpoint] of entries(spec.endpoints)) claim(endpoint?.port, ["endpoints", id, "port"]);
  return problems;
}

function uniqueDashboardPaths(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, SpecPath>();
  for (const [id, endpoint] of entries(spec.endpoints)) {
    const path = endpoint?.path;
    if (typeof path !== "string") continue;
    const first = seen.get(path);
    const here: SpecPath = ["endpoints", id, "path"];
    if (first) problems.push({ path: here, message: `${path} is already the dashboard path of ${formatPath(first)}; give each endpoint a path of its own` });
    else seen.set(path, here);
  }
  return problems;
}

/** Every path the spec uses must be a declared directory, so its filesystem is known. */
function directoryIndex(spec: LooseSpec): Map<string, { index: number; filesystem: unknown }> {
  const index = new Map<string, { index: number; filesystem: unknown }>();
  list(spec.directories).forEach((dir, i) => {
    if (isPath(dir?.path) && !index.has(dir.path)) index.set(dir.path, { index: i, filesystem: dir.filesystem });
  });
  return index;
}

function directories(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const filesystems = spec.filesystems ?? {};
  const seen = new Map<string, number>();
  list(spec.directories).forEach((dir, i) => {
    if (isPath(dir?.path)) {
      const first = seen.get(dir.path);
      if (first !== undefined) problems.push({ path: ["directories", i, "path"], message: `${dir.path} is already declared at directories[${first}]; declare each directory once` });
      else seen.set(dir.path, i);
    }
    if (typeof dir?.filesystem === "string" && !Object.prototype.hasOwnProperty.call(filesystems, dir.filesystem)) {
      const known = Object.keys(filesystems).join(", ") || "none";
      problems.push({ path: ["directories", i, "filesystem"], message: `"${dir.filesystem}" is not declared in filesystems (declared: ${known}); name one of them` });
    }
  });
  return problems;
}

/** The paths that must be declared directories, and the role each plays. */
function referencedPaths(spec: LooseSpec): { path: SpecPath; value: unknown; role: "download" | "library" | "mount" | "other" }[] {
  const q = spec.qbittorrent;
  return [
    { path: ["qbittorrent", "tempPath"], value: q?.tempPath, role: "download" as const },
    { path: ["qbittorrent", "defaultSavePath"], value: q?.defaultSavePath, role: "download" as const },
    ...entries(q?.categories).map(([name, c]) => ({ path: ["qbittorrent", "categories", name, "savePath"], value: c?.savePath, role: "download" as const })),
    ...list(spec.upload?.sources).map((s, i) => ({
      path: ["upload", "sources", i, "path"],
      value: s?.path,
      role: s?.kind === "library" ? ("library" as const) : ("download" as const),
    })),
    { path: ["upload", "extractDir"], value: spec.upload?.extractDir, role: "other" as const },
    { path: ["b2", "mountPoint"], value: spec.b2?.mountPoint, role: "mount" as const },
  ];
}

function declaredPaths(spec: LooseSpec): Problem[] {
  const index = directoryIndex(spec);
  return referencedPaths(spec)
    .filter((ref) => isPath(ref.value) && !index.has(ref.value))
    .map((ref) => ({ path: ref.path, message: `${ref.value as string} is not in directories; declare it there with its filesystem` }));
}

/**
 * The hard-link rule. Sonarr and Radarr import by hard link, and a hard link cannot cross
 * filesystems: across two, the *arrs silently copy instead, doubling disk use.
 */
function hardLinkFilesystem(spec: LooseSpec): Problem[] {
  const index = directoryIndex(spec);
  const filesystems = spec.filesystems ?? {};
  const problems: Problem[] = [];
  const refs = referencedPaths(spec).filter((r) => (r.role === "download" || r.role === "library") && isPath(r.value) && index.has(r.value));
  const fsOf = (r: (typeof refs)[number]) => index.get(r.value as string)!.filesystem;
  const anchor = refs.find((r) => r.role === "download");
  if (!anchor) return problems;
  const linkFs = fsOf(anchor);
  if (typeof linkFs === "string" && filesystems[linkFs]?.kind === "rclone-mount") {
    const dir = index.get(anchor.value as string)!;
    problems.push({ path: ["directories", dir.index, "filesystem"], message: `${anchor.value as string} is on "${linkFs}", an rclone mount; downloads need a local filesystem that supports hard links` });
  }
  const reported = new Set<number>();
  for (const ref of refs) {
    const fs = fsOf(ref);
    const dir = index.get(ref.value as string)!;
    if (typeof fs !== "string" || typeof linkFs !== "string" || fs === linkFs || reported.has(dir.index)) continue;
    reported.add(dir.index);
    problems.push({
      path: ["directories", dir.index, "filesystem"],
      message: `${ref.value as string} is on "${fs}" but ${anchor.value as string} is on "${linkFs}"; hard links cannot cross filesystems, so imports would silently become copies. Put the library and the download folders on one filesystem`,
    });
  }
  return problems;
}

/** The B2 mount is its own (FUSE) filesystem, and everything below it lives on it. */
function mountFilesystem(spec: LooseSpec): Problem[] {
  const index = directoryIndex(spec);
  const filesystems = spec.filesystems ?? {};
  const mount = spec.b2?.mountPoint;
  if (!isPath(mount) || !index.has(mount)) return [];
  const problems: Problem[] = [];
  const dir = index.get(mount)!;
  const fs = dir.filesystem;
  if (typeof fs === "string" && filesystems[fs] && filesystems[fs]!.kind !== "rclone-mount") {
    problems.push({
      path: ["directories", dir.index, "filesystem"],
      message: `the B2 mount ${mount} is on "${fs}", the hard-link filesystem; the rclone mount is a filesystem of its own. Declare a filesystem of kind "rclone-mount" for it`,
    });
    return problems;
  }
  list(spec.directories).forEach((d, i) => {
    if (isPath(d?.path) && d.path !== mount && isWithin(d.path, mount) && d.filesystem !== fs) {
      problems.push({ path: ["directories", i, "filesystem"], message: `${d.path} is inside the B2 mount ${mount}, so it is on "${String(fs)}"; set filesystem to "${String(fs)}"` });
    }
  });
  for (const ref of referencedPaths(spec)) {
    if (ref.role !== "mount" && isPath(ref.value) && isWithin(ref.value, mount)) {
      problems.push({ path: ref.path, message: `${ref.value} is inside the B2 mount ${mount}; local working folders cannot live on the mount` });
    }
  }
  return problems;
}

function categoriesUnderCompleted(spec: LooseSpec): Problem[] {
  const completed = spec.qbittorrent?.defaultSavePath;
  if (!isPath(completed)) return [];
  const problems: Problem[] = [];
  for (const [name, c] of entries(spec.qbittorrent?.categories)) {
    const savePath = c?.savePath;
    if (!isPath(savePath) || (isWithin(savePath, completed) && savePath !== completed)) continue;
    const where =
      savePath === completed
        ? `${savePath} is the completed folder itself (qbittorrent.defaultSavePath); give the category a folder of its own inside it`
        : `${savePath} is outside the completed folder ${completed}; put category folders inside it`;
    problems.push({
      path: ["qbittorrent", "categories", name, "savePath"],
      message: `${where}, such as ${completed}/${name}, so the fallback upload can tell categorized items apart`,
    });
  }
  return problems;
}

/** qBittorrent keeps `radarr` and `Radarr` apart, and Sonarr and Radarr name their category by hand. */
function categoryNamesDistinct(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  for (const [name] of entries(spec.qbittorrent?.categories)) {
    const first = seen.get(name.toLowerCase());
    if (first === undefined) {
      seen.set(name.toLowerCase(), name);
      continue;
    }
    problems.push({
      path: ["qbittorrent", "categories", name],
      message: `"${name}" differs from the category "${first}" only in case; qBittorrent keeps them apart, so a category typed with the wrong case in Sonarr or Radarr would file its downloads in the other's folder. Rename one so they differ in more than case`,
    });
  }
  return problems;
}

function tempPathOutsideCompleted(spec: LooseSpec): Problem[] {
  const { tempPath, defaultSavePath } = spec.qbittorrent ?? {};
  if (!isPath(tempPath) || !isPath(defaultSavePath) || !isWithin(tempPath, defaultSavePath)) return [];
  return [{ path: ["qbittorrent", "tempPath"], message: `${tempPath} is inside the completed folder ${defaultSavePath}; unfinished downloads would be uploaded. Put it beside the completed folder` }];
}

function prefixes(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const declared = new Map<string, SpecPath>();
  for (const [name, prefix] of entries(spec.b2?.prefixes)) {
    if (typeof prefix !== "string") continue;
    const first = declared.get(prefix);
    if (first) problems.push({ path: ["b2", "prefixes", name], message: `"${prefix}" is already the prefix ${formatPath(first)}; give each prefix its own folder` });
    else declared.set(prefix, ["b2", "prefixes", name]);
  }
  const used = new Map<string, number>();
  list(spec.upload?.sources).forEach((source, i) => {
    const prefix = source?.prefix;
    if (typeof prefix !== "string") return;
    const first = used.get(prefix);
    const nested = [...used.entries()].find(([p]) => p !== prefix && (p.startsWith(prefix) || prefix.startsWith(p)));
    if (first !== undefined) {
      problems.push({ path: ["upload", "sources", i, "prefix"], message: `"${prefix}" is already the prefix of upload.sources[${first}]; give each source a prefix of its own, or their items would overwrite each other on B2` });
    } else if (nested) {
      problems.push({ path: ["upload", "sources", i, "prefix"], message: `"${prefix}" and "${nested[0]}" (upload.sources[${nested[1]}]) nest, one inside the other; give each source a folder of its own on B2, or a file of one could overwrite a file of the other` });
      used.set(prefix, i);
    } else used.set(prefix, i);
    if (spec.b2?.prefixes && !declared.has(prefix)) {
      problems.push({ path: ["upload", "sources", i, "prefix"], message: `"${prefix}" is not one of b2.prefixes (${[...declared.keys()].join(", ")}); declare it there first` });
    }
  });
  const extracted = spec.upload?.extractedPrefix;
  if (typeof extracted === "string") {
    const source = used.get(extracted);
    const nestedIn = [...used.entries()].find(([p]) => p !== extracted && (p.startsWith(extracted) || extracted.startsWith(p)));
    if (source !== undefined) {
      problems.push({ path: ["upload", "extractedPrefix"], message: `"${extracted}" is also the prefix of upload.sources[${source}]; what comes out of archives needs a folder of its own on B2, or it could collide with a download's own files` });
    } else if (nestedIn) {
      problems.push({ path: ["upload", "extractedPrefix"], message: `"${extracted}" and "${nestedIn[0]}" (upload.sources[${nestedIn[1]}]) nest, one inside the other; what comes out of archives needs a folder of its own on B2` });
    } else if (spec.b2?.prefixes && !declared.has(extracted)) {
      problems.push({ path: ["upload", "extractedPrefix"], message: `"${extracted}" is not one of b2.prefixes (${[...declared.keys()].join(", ")}); declare it there first` });
    }
  }
  return problems;
}

function rcloneFlags(spec: LooseSpec): Problem[] {
  const version = spec.rclone?.version;
  const haveVersion = typeof version === "string" && checkVersion(version) === undefined;
  const problems: Problem[] = [];
  const check = (flags: unknown, base: SpecPath) => {
    const seen = new Set<string>();
    list(flags as { flag?: string; value?: unknown }[] | undefined).forEach((entry, i) => {
      const name = entry?.flag;
      if (typeof name !== "string") return;
      const at: SpecPath = [...base, i];
      if (seen.has(name)) problems.push({ path: [...at, "flag"], message: `${name} is given twice; keep one` });
      seen.add(name);
      if (base[0] === "upload" && checkUploadFlag(name)) return; // refused below, with the reason
      if (base[0] === "rclone" && checkMountFlag(name)) return; // refused below, with the reason
      if (!isKnownRcloneFlag(name)) {
        problems.push({ path: [...at, "flag"], message: `${name} is not a flag media-pipeline knows; add it to spec/rclone-flags.ts with its type and the rclone version that introduced it` });
        return;
      }
      const info = RCLONE_FLAGS[name];
      if (haveVersion && compareVersions(version, info.since) < 0) {
        problems.push({ path: [...at, "flag"], message: `${name} needs rclone ${info.since} or newer, but rclone.version is ${version}; raise rclone.version or remove the flag` });
      }
      const value = entry.value;
      const valueAt: SpecPath = [...at, "value"];
      const type = info.type;
      if (type.kind === "bool") {
        if (value !== true) problems.push({ path: valueAt, message: `${name} is a switch; write value: true, or remove the flag to leave it off` });
      } else if (type.kind === "int") {
        if (!Number.isInteger(value) || (value as number) < 0) problems.push({ path: valueAt, message: `${name} takes a whole number, such as 4` });
      } else if (type.kind === "enum") {
        if (typeof value !== "string" || !(type.values as readonly string[]).includes(value)) problems.push({ path: valueAt, message: `${name} takes one of ${type.values.join(", ")}` });
      } else {
        const text = typeof value === "string" ? value : String(value);
        const message = type.kind === "size" ? checkSize(text) : checkDuration(text);
        if (message) problems.push({ path: valueAt, message });
      }
    });
  };
  check(spec.rclone?.mount?.flags, ["rclone", "mount", "flags"]);
  check(spec.upload?.flags, ["upload", "flags"]);
  list(spec.upload?.flags as { flag?: string }[] | undefined).forEach((entry, i) => {
    const message = typeof entry?.flag === "string" ? checkUploadFlag(entry.flag) : undefined;
    if (message) problems.push({ path: ["upload", "flags", i, "flag"], message });
  });
  list(spec.rclone?.mount?.flags as { flag?: string }[] | undefined).forEach((entry, i) => {
    const message = typeof entry?.flag === "string" ? checkMountFlag(entry.flag) : undefined;
    if (message) problems.push({ path: ["rclone", "mount", "flags", i, "flag"], message });
  });
  return problems;
}

/** The RC's port is privileged, so no unprivileged account can take it while the mount is down. */
function privilegedRcPort(spec: LooseSpec): Problem[] {
  const port = spec.endpoints?.rcloneRc?.port;
  const rc = list(spec.rclone?.mount?.flags as { flag?: string }[] | undefined).some((f) => f?.flag === "--rc");
  return rc && isPort(port) && port >= 1024
    ? [{ path: ["endpoints", "rcloneRc", "port"], message: `${port} is a port any account on the host may listen on: while the mount is down, one could take it and collect the RC login nginx forwards. Choose a port below 1024 (the mount gets CAP_NET_BIND_SERVICE for it), such as 572` }]
    : [];
}

/** Each role's B2 key carries what the role needs and nothing that lets it delete or manage keys. */
function keyRoles(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const keys = spec.secrets?.b2Keys as Record<string, { capabilities?: unknown; keyId?: { sopsKey?: unknown } }> | undefined;
  if (!keys || typeof keys !== "object") return problems;
  for (const role of Object.keys(KEY_ROLES) as (keyof typeof KEY_ROLES)[]) {
    const caps = keys[role]?.capabilities;
    if (!Array.isArray(caps)) continue;
    caps.forEach((cap, i) => {
      const message = typeof cap === "string" ? checkKeyCapability(role, cap) : undefined;
      if (message) problems.push({ path: ["secrets", "b2Keys", role, "capabilities", i], message });
    });
    const missing = KEY_ROLES[role].needs.filter((n) => !caps.includes(n));
    if (missing.length > 0) problems.push({ path: ["secrets", "b2Keys", role, "capabilities"], message: `the ${role} key needs ${missing.join(" and ")}: the ${role} ${KEY_ROLES[role].does}` });
  }
  return problems;
}

/** Every secret has its own sops key: one key shared by two roles would give each the other's rights. */
function distinctSecrets(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  const refs: [SpecPath, unknown][] = [];
  const keys = (spec.secrets?.b2Keys ?? {}) as Record<string, Record<string, { sopsKey?: unknown }> | undefined>;
  for (const role of Object.keys(KEY_ROLES)) {
    refs.push([["secrets", "b2Keys", role, "keyId", "sopsKey"], keys[role]?.keyId?.sopsKey]);
    refs.push([["secrets", "b2Keys", role, "applicationKey", "sopsKey"], keys[role]?.applicationKey?.sopsKey]);
  }
  refs.push([["secrets", "rcloneRc", "password", "sopsKey"], (spec.secrets?.rcloneRc as { password?: { sopsKey?: unknown } } | undefined)?.password?.sopsKey]);
  const apps = (spec.apps ?? {}) as Record<string, { apiKey?: { sopsKey?: unknown }; login?: { password?: { sopsKey?: unknown } } } | undefined>;
  for (const app of ["sonarr", "radarr", "prowlarr", "jellyfin"]) {
    refs.push([["apps", app, "apiKey", "sopsKey"], apps[app]?.apiKey?.sopsKey]);
    refs.push([["apps", app, "login", "password", "sopsKey"], apps[app]?.login?.password?.sopsKey]);
  }
  for (const [name, account] of Object.entries((spec.copyparty?.accounts ?? {}) as Record<string, { password?: { sopsKey?: unknown } }>)) {
    refs.push([["copyparty", "accounts", name, "password", "sopsKey"], account?.password?.sopsKey]);
  }
  for (const [path, key] of refs) {
    if (typeof key !== "string") continue;
    const first = seen.get(key);
    if (first !== undefined) problems.push({ path, message: `the sops key ${key} is also used by ${first}; give each secret its own key, so each role holds only its own` });
    else seen.set(key, formatPath(path));
  }
  return problems;
}

/** Accounts NixOS or the upstream modules already define; a role's account must not be one of them. */
const TAKEN_ACCOUNTS: Readonly<Record<string, string>> = {
  root: "the superuser",
  nobody: "the account of unmapped users",
  nginx: "nginx's account",
  jellyfin: "the jellyfin module's default account",
  sonarr: "the sonarr module's default account",
  radarr: "the radarr module's default account",
  prowlarr: "the prowlarr module's account",
  qbittorrent: "the qbittorrent module's default account",
  copyparty: "the copyparty module's default account",
};
/** Groups that give their members more than a role needs. */
const PRIVILEGED_GROUPS = ["wheel", "adm", "systemd-journal", "keys", "docker", "disk", "users"];

/** The accounts that hold secrets are distinct from each other and from the shared media account. */
function distinctAccounts(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const accounts = (spec.accounts ?? {}) as Record<string, unknown>;
  const seen = new Map<string, string>();
  if (typeof spec.user?.name === "string") seen.set(spec.user.name, "user.name");
  for (const role of ["mount", "upload", "cleanup", "wire"]) {
    const name = accounts[role];
    if (typeof name !== "string") continue;
    const first = seen.get(name);
    if (first !== undefined) problems.push({ path: ["accounts", role], message: `"${name}" is also ${first}; each role needs an account of its own, so that only it can read its secrets file` });
    else seen.set(name, `accounts.${role}`);
  }
  for (const role of ["mount", "upload", "cleanup", "wire"]) {
    const name = accounts[role];
    if (typeof name === "string" && Object.hasOwn(TAKEN_ACCOUNTS, name)) {
      problems.push({ path: ["accounts", role], message: `"${name}" is ${TAKEN_ACCOUNTS[name]}; give the ${role} an account of its own` });
    }
  }
  const group = accounts.stateGroup;
  if (typeof group === "string") {
    if (group === spec.user?.group) {
      problems.push({ path: ["accounts", "stateGroup"], message: `"${group}" is the media group, which every media service is in; the runtime's state needs a group of its own, or any of them could forge upload records` });
    } else if (group === accounts.mount) {
      problems.push({ path: ["accounts", "stateGroup"], message: `"${group}" is the mount's own group; the rclone process, which the RC reaches, could then forge upload records. Give the runtime's state a group of its own` });
    } else if (Object.hasOwn(TAKEN_ACCOUNTS, group) || PRIVILEGED_GROUPS.includes(group)) {
      problems.push({ path: ["accounts", "stateGroup"], message: `"${group}" is a group other accounts already hold; the runtime's state needs a group of its own, or its members could forge upload records` });
    }
  }
  return problems;
}

/** Copyparty's volumes are declared folders, readable only by declared accounts unless "*" is written out. */
function copypartyVolumes(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const accounts = new Set(Object.keys((spec.copyparty?.accounts ?? {}) as object));
  const declared = new Set(list(spec.directories).map((d) => d?.path).filter((p): p is string => typeof p === "string"));
  for (const [name, volume] of Object.entries((spec.copyparty?.volumes ?? {}) as Record<string, { path?: unknown; read?: unknown }>)) {
    if (typeof volume?.path === "string" && declared.size > 0 && !declared.has(volume.path)) {
      problems.push({ path: ["copyparty", "volumes", name, "path"], message: `${volume.path} is not one of the declared directories; copyparty's sandbox only sees declared folders` });
    }
    if (!Array.isArray(volume?.read)) continue;
    volume.read.forEach((who, i) => {
      if (typeof who === "string" && who !== "*" && !accounts.has(who)) {
        problems.push({ path: ["copyparty", "volumes", name, "read", i], message: `"${who}" is not one of copyparty.accounts (${[...accounts].join(", ") || "none declared"})` });
      }
    });
  }
  return problems;
}

function uploadSources(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const sources = list(spec.upload?.sources);
  const uncategorized = sources.map((s, i) => [s, i] as const).filter(([s]) => s?.kind === "uncategorized");
  for (const [s, i] of uncategorized.slice(1)) {
    problems.push({ path: ["upload", "sources", i, "kind"], message: `only one source can be "uncategorized" (upload.sources[${uncategorized[0]![1]}] already is); ${String(s?.path)} should be a library` });
  }
  const completed = spec.qbittorrent?.defaultSavePath;
  for (const [s, i] of uncategorized) {
    if (isPath(s?.path) && isPath(completed) && s.path !== completed) {
      problems.push({ path: ["upload", "sources", i, "path"], message: `the uncategorized source must be qBittorrent's completed folder ${completed}, not ${s.path}` });
    }
  }
  const temp = spec.qbittorrent?.tempPath;
  sources.forEach((s, i) => {
    // The completed folder holding the temp folder is reported once, by tempPathOutsideCompleted.
    const reportedElsewhere = s?.path === completed;
    if (isPath(s?.path) && isPath(temp) && !reportedElsewhere && (isWithin(s.path, temp) || isWithin(temp, s.path))) {
      problems.push({ path: ["upload", "sources", i, "path"], message: `${s.path} overlaps qBittorrent's temp folder ${temp}; unfinished downloads are never uploaded` });
    }
  });
  return problems;
}

/**
 * Without qBittorrent's localhost bypass every local client needs its login: the runtime's jobs and
 * the download clients the wire job gives Sonarr and Radarr. This version declares no such login, so
 * the pipeline would stop at the first call.
 */
function qbittorrentLogin(spec: LooseSpec): Problem[] {
  return spec.qbittorrent?.bypassLocalhostAuth === false
    ? [
        {
          path: ["qbittorrent", "bypassLocalhostAuth"],
          message:
            "false needs a qBittorrent login for the runtime's jobs and for Sonarr's and Radarr's download clients, which this version does not declare yet; keep true (the WebUI still asks every other address for its login)",
        },
      ]
    : [];
}

/** Jellyfin's port lives in its own network.xml; the NixOS module cannot change it. */
function fixedPorts(spec: LooseSpec): Problem[] {
  const port = spec.endpoints?.jellyfin?.port;
  return isPort(port) && port !== 8096
    ? [{ path: ["endpoints", "jellyfin", "port"], message: `Jellyfin listens on 8096 unless changed in its own network.xml, which the NixOS module does not manage; keep 8096` }]
    : [];
}

/** nginx expands `$name` everywhere in its config and has no escape for a literal `$`. */
function nginxRepresentable(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  for (const field of ["wwwRoot", "secretsDir"] as const) {
    const value = spec.standalone?.[field];
    if (typeof value === "string" && value.includes("$")) {
      problems.push({ path: ["standalone", field], message: `${JSON.stringify(value)} contains '$', which nginx would read as a variable; choose a folder without '$'` });
    }
  }
  return problems;
}

const ARR_NAMES = { sonarr: "Sonarr", radarr: "Radarr" } as const;
/** The content each *arr imports, as a Jellyfin library type. */
const ARR_LIBRARY_TYPE = { sonarr: "tvshows", radarr: "movies" } as const;

/**
 * The pieces the wire job sets describe one pipeline: each *arr sends one category, imports into
 * root folders that upload scans, and Jellyfin shows each root folder together with its B2 copy.
 * Each message names both sides of a disagreement.
 */
function wiredPipeline(spec: LooseSpec): Problem[] {
  const problems: Problem[] = [];
  const sources = list(spec.upload?.sources);
  const libraries = sources.map((s, i) => ({ s, i })).filter(({ s }) => s?.kind === "library" && isPath(s.path));
  // A malformed source or mount is reported by its own rule; comparing with it here would only echo that.
  const prefixList = sources.map((s) => s?.prefix);
  const sourcesWellFormed =
    sources.every((s) => isPath(s?.path) && typeof s?.prefix === "string" && s.prefix.endsWith("/")) &&
    isPath(spec.b2?.mountPoint) &&
    prefixList.every((p, i) => prefixList.every((o, j) => i === j || !(p!.startsWith(o!) || o!.startsWith(p!))));
  const completed = spec.qbittorrent?.defaultSavePath;
  const rootOwner = new Map<string, { app: "sonarr" | "radarr"; path: SpecPath }>();

  for (const app of ["sonarr", "radarr"] as const) {
    const name = ARR_NAMES[app];
    // Names differing only in case are reported by categoryNamesDistinct.
    const used = [...new Map(entries(spec.qbittorrent?.categories).filter(([, c]) => c?.usedBy === app).map(([n, c]) => [n.toLowerCase(), [n, c] as const])).values()];
    if (spec.qbittorrent?.categories && used.length !== 1) {
      problems.push({
        path: ["qbittorrent", "categories"],
        message:
          used.length === 0
            ? `no category has usedBy "${app}", so ${name}'s download client (apps.${app}) would have none; declare one, such as ${app === "sonarr" ? "tv-sonarr" : "radarr"}`
            : `${used.map(([n]) => `"${n}"`).join(" and ")} all have usedBy "${app}"; ${name}'s download client sets one category, so keep one`,
      });
    }
    list(spec.apps?.[app]?.rootFolders).forEach((root, i) => {
      const here: SpecPath = ["apps", app, "rootFolders", i];
      if (!isPath(root)) return;
      const other = rootOwner.get(root);
      if (other) {
        problems.push({ path: here, message: `${root} is also ${ARR_NAMES[other.app]}'s root folder (${formatPath(other.path)}); each app needs folders of its own, or one's imports would show up in the other's library` });
        return;
      }
      rootOwner.set(root, { app, path: here });
      if (sourcesWellFormed && !libraries.some(({ s }) => s!.path === root)) {
        problems.push({ path: here, message: `${root} is ${name}'s root folder, but no upload source of kind "library" scans it (upload.sources); what ${name} imports there would never reach B2` });
      }
      if (isPath(completed) && (isWithin(root, completed) || isWithin(completed, root))) {
        problems.push({ path: here, message: `${root} overlaps qBittorrent's completed folder ${completed} (qbittorrent.defaultSavePath); ${name} hard-links imports into a library of its own beside it` });
      }
    });
  }
  for (const { s, i } of libraries) {
    if (spec.apps && sourcesWellFormed && !rootOwner.has(s!.path!)) {
      problems.push({ path: ["upload", "sources", i, "path"], message: `${s!.path!} is a library upload source but no app's root folder (apps.sonarr.rootFolders, apps.radarr.rootFolders); nothing would import into it` });
    }
  }

  // Jellyfin: each library path is a root folder or the B2 copy of one, and the two go together.
  if (!sourcesWellFormed) return problems;
  const mount = spec.b2?.mountPoint;
  const b2CopyOf = new Map<string, string>();
  const localOf = new Map<string, string>();
  for (const { s } of libraries) {
    if (isPath(mount) && typeof s?.prefix === "string" && s.prefix.endsWith("/")) {
      const copy = `${mount}/${s.prefix.slice(0, -1)}`;
      b2CopyOf.set(s.path!, copy);
      localOf.set(copy, s.path!);
    }
  }
  const shownIn = new Map<string, SpecPath>();
  for (const [libName, library] of entries(spec.apps?.jellyfin?.libraries)) {
    const paths = list(library?.paths).filter(isPath);
    list(library?.paths).forEach((path, i) => {
      const here: SpecPath = ["apps", "jellyfin", "libraries", libName, "paths", i];
      if (!isPath(path)) return;
      const owner = rootOwner.get(path) ?? (localOf.has(path) ? rootOwner.get(localOf.get(path)!) : undefined);
      const local = rootOwner.has(path) ? path : localOf.get(path);
      if (!owner || !local) {
        problems.push({ path: here, message: `${path} is neither an app's root folder (apps.sonarr.rootFolders, apps.radarr.rootFolders) nor the B2 copy of one (${[...b2CopyOf.values()].join(", ") || "none"}); Jellyfin would show what the pipeline never fills` });
        return;
      }
      if (library?.type && library.type !== ARR_LIBRARY_TYPE[owner.app]) {
        problems.push({ path: here, message: `${path} holds ${ARR_NAMES[owner.app]}'s imports (${formatPath(owner.path)}), but the library "${libName}" is of type "${library.type}"; use "${ARR_LIBRARY_TYPE[owner.app]}"` });
      }
      const twin = path === local ? b2CopyOf.get(local) : local;
      if (twin && !paths.includes(twin)) {
        problems.push({
          path: here,
          message:
            path === local
              ? `the library "${libName}" reads ${path} but not its B2 copy ${twin} (upload sends it there); after cleanup its items would vanish from Jellyfin. Add ${twin}`
              : `the library "${libName}" reads the B2 copy ${path} but not ${twin}, where ${ARR_NAMES[owner.app]} imports; new items would appear only after upload. Add ${twin} before it`,
        });
      }
      if (path === local) {
        const first = shownIn.get(path);
        if (first) problems.push({ path: here, message: `${path} is also in ${formatPath(first)}; Jellyfin would show its items twice` });
        else shownIn.set(path, here);
      }
    });
  }
  if (spec.apps?.jellyfin?.libraries) {
    for (const [root, { app, path }] of rootOwner) {
      if (!shownIn.has(root)) problems.push({ path, message: `${root} is ${ARR_NAMES[app]}'s root folder but in no Jellyfin library (apps.jellyfin.libraries); what ${ARR_NAMES[app]} imports would never be shown` });
    }
  }
  return problems;
}

export const RULES: readonly ((spec: LooseSpec) => Problem[])[] = [
  uniquePorts,
  uniqueDashboardPaths,
  fixedPorts,
  directories,
  declaredPaths,
  hardLinkFilesystem,
  mountFilesystem,
  categoriesUnderCompleted,
  categoryNamesDistinct,
  tempPathOutsideCompleted,
  prefixes,
  uploadSources,
  rcloneFlags,
  nginxRepresentable,
  keyRoles,
  privilegedRcPort,
  distinctSecrets,
  distinctAccounts,
  copypartyVolumes,
  wiredPipeline,
  qbittorrentLogin,
];

export function checkRules(spec: unknown): Problem[] {
  if (!spec || typeof spec !== "object") return [];
  return RULES.flatMap((rule) => rule(spec as LooseSpec));
}
