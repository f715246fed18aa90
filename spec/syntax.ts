/**
 * Checks for the small value syntaxes the spec uses: absolute paths, rclone sizes, durations,
 * remote prefixes, version numbers, archive types (with the one list of media extensions) and the
 * removed upload marker; and the sentence for a field that was removed. The runtime config's schema uses them too. Each returns `undefined` when the value is fine, or one
 * sentence saying what is wrong and what to write instead. The zod schemas and the cross-field
 * rules both call these, so every message about a given syntax is worded in exactly one place.
 */
import { posix } from "node:path";

/**
 * An absolute, normalised POSIX path with no trailing slash: `/media/arr/tv`. A `..` segment is
 * refused outright rather than resolved: `/media/arr/../../precious` names another folder than it
 * seems to, and the runtime deletes inside the folders it is given.
 */
export function checkAbsolutePath(value: string): string | undefined {
  if (value === "") return "the path is empty; write an absolute path such as /media/arr/tv";
  if (/[\n\r\0]/.test(value)) return `${JSON.stringify(value)} contains a control character; remove it`;
  if (value.split("/").includes("..")) {
    return `${JSON.stringify(value)} contains a '..' segment, which leads out of the folder it seems to name; write the folder's own absolute path, without '..'`;
  }
  if (!value.startsWith("/")) {
    return `${JSON.stringify(value)} is relative; write an absolute path such as /${value.replace(/^\.?\/*/, "")}`;
  }
  const normal = normalisePath(value);
  if (normal !== value) return `${JSON.stringify(value)} is not normalised; write ${normal}`;
  return undefined;
}

/**
 * What checkAbsolutePath accepts, as one regular expression, for the runtime config's JSON Schema:
 * `/`, or `/`-separated segments that are neither empty, `.` nor `..`, with no control character.
 */
export const NORMALISED_ABSOLUTE_PATH = /^(?:\/|(?:\/(?!\.\.?(?:\/|$))[^/\n\r\0]+)+)$/;

export function normalisePath(value: string): string {
  const normal = posix.normalize(value);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/** True when `child` is `parent` itself or lies below it. Both must be normalised. */
export function isWithin(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent === "/" ? "/" : `${parent}/`);
}

/** rclone's size syntax as the spec uses it: a whole number and a binary-unit letter, `150G`. */
const SIZE = /^[1-9][0-9]*[KMGTP]$/;
export function checkSize(value: string): string | undefined {
  if (SIZE.test(value)) return undefined;
  const hint = value.match(/^([1-9][0-9]*)\s*([KMGTP])i?B?$/i);
  const example = hint ? `${hint[1]}${hint[2]!.toUpperCase()}` : "150G";
  return `${JSON.stringify(value)} is not a size; write a whole number and one of K, M, G, T, P with nothing after it, such as ${example}`;
}

/** Multiplier of each size suffix, in bytes (rclone's suffixes are binary: 1K = 1024). */
export const SIZE_UNITS = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 } as const;

export function sizeToBytes(value: string): number {
  const unit = value.slice(-1) as keyof typeof SIZE_UNITS;
  return Number(value.slice(0, -1)) * SIZE_UNITS[unit];
}

/**
 * Durations are written the way rclone writes them and systemd accepts them: one or more
 * number-unit pairs with no spaces, largest unit first: `30s`, `2m`, `1h30m`, `7d`.
 */
const DURATION = /^(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$/;
export const DURATION_UNITS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;

export function checkDuration(value: string): string | undefined {
  if (value !== "" && DURATION.test(value)) {
    return durationToSeconds(value) > 0 ? undefined : `${JSON.stringify(value)} is zero; write a duration longer than zero, such as 2m`;
  }
  const words = value.match(/^\s*([0-9]+)\s*(day|hour|minute|min|second|sec)s?\s*$/i);
  const letter = words ? { day: "d", hour: "h", minute: "m", min: "m", second: "s", sec: "s" }[words[2]!.toLowerCase()] : undefined;
  const example = words && letter ? `${words[1]}${letter}` : "2m";
  return `${JSON.stringify(value)} is not a duration; write numbers with the units d, h, m, s and no spaces, such as ${example}`;
}

/** The seeding period: a duration, and a zero one is refused with the reason. */
export function checkSeedingPeriod(value: string): string | undefined {
  const message = checkDuration(value);
  if (message && value !== "" && DURATION.test(value)) {
    return `${JSON.stringify(value)} is zero; the seeding period must be longer than zero, or cleanup would remove torrents before they have seeded. Write a period such as 7d`;
  }
  return message;
}

export function durationToSeconds(value: string): number {
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/([0-9]+)([dhms])/g)) {
    total += Number(amount) * DURATION_UNITS[unit as keyof typeof DURATION_UNITS];
  }
  return total;
}

/** A remote prefix: a relative folder in the bucket ending with `/`, such as `tv/`. */
export const REMOTE_PREFIX = /^(?:[A-Za-z0-9._-]+\/)+$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9._-]+$/;
export function checkPrefix(value: string): string | undefined {
  if (isPrefix(value)) return undefined;
  const cleaned = value.replace(/^\/+/, "").replace(/\/*$/, "/");
  const example = isPrefix(cleaned) ? cleaned : "tv/";
  return `${JSON.stringify(value)} is not a remote prefix; write folder names of letters, digits, '.', '_' or '-', each followed by '/', such as ${example}`;
}
function isPrefix(value: string): boolean {
  const segments = value.endsWith("/") ? value.slice(0, -1).split("/") : [];
  return segments.length > 0 && segments.every((s) => PREFIX_SEGMENT.test(s) && s !== "." && s !== "..");
}

/** A dotted version number, `1.68` or `1.68.0`. */
export function checkVersion(value: string): string | undefined {
  return /^[0-9]+\.[0-9]+(\.[0-9]+)?$/.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not a version; write it as MAJOR.MINOR or MAJOR.MINOR.PATCH, such as 1.68.0`;
}

/** Compares dotted versions numerically: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Extensions of media files: video, audio, subtitles, and disc images. The one list the spec and the
 * runtime config use to keep media out of upload.archiveTypes; lower case, without the dot.
 */
export const MEDIA_EXTENSIONS: readonly string[] = [
  // video
  "mkv", "mp4", "m4v", "avi", "mov", "wmv", "ts", "m2ts", "mts", "webm", "mpg", "mpeg", "m2v", "vob", "flv", "ogv", "ogm", "3gp", "divx", "rm", "rmvb", "asf", "evo",
  // audio
  "flac", "mp3", "m4a", "m4b", "aac", "ac3", "eac3", "dts", "ogg", "oga", "opus", "wav", "wma", "alac", "ape", "wv", "mka", "aif", "aiff", "dsf", "dff",
  // subtitles
  "srt", "ass", "ssa", "sub", "idx", "sup", "vtt",
  // disc images
  "iso",
];

/** An archive type as upload.archiveTypes lists it: a lower-case extension with its dot, `.rar`. */
export const ARCHIVE_TYPE = /^\.[a-z0-9]+$/;
export function checkArchiveType(value: string): string | undefined {
  if (!ARCHIVE_TYPE.test(value)) return "write the extension with its dot, such as .rar";
  if (MEDIA_EXTENSIONS.includes(value.slice(1))) {
    return `${JSON.stringify(value)} is a media extension, not an archive; files of an archive type are extracted with unar and only what comes out is uploaded. Remove it`;
  }
  return undefined;
}

/**
 * Fields that were removed, each with the sentence a spec or runtime config that still has one is
 * refused with (rather than a bare "Unrecognized key"). `cleanup.ignorable` named files that needed
 * no copy on B2 before cleanup deleted them; cleanup now deletes only files it verified on B2.
 */
export const REMOVED_UPLOAD_FIELDS: Readonly<Record<string, string>> = {
  marker:
    'the field "marker" was removed: upload no longer writes marker files beside items; it records what it uploaded, by each file\'s inode, size and time, in the state folder (/var/lib/media-pipeline/uploads.json), so an old marker can never vouch for a new file with the same name. Delete the field',
};

export const REMOVED_CLEANUP_FIELDS: Readonly<Record<string, string>> = {
  ignorable:
    'the field "ignorable" was removed: nothing is exempt from the upload-before-delete rule by name, so a due torrent with a file that is not on B2 (an .nfo, a sample, an episode Sonarr did not import) is kept and cleanup logs why. Delete the field',
};

/**
 * The message for a strict object's unknown keys when some of them are in `removed`, or undefined
 * (zod's own "Unrecognized key") when none is. For a zod `error` option on z.strictObject.
 */
export function removedFields(removed: Readonly<Record<string, string>>) {
  return (issue: { code?: string; keys?: readonly string[] }): string | undefined => {
    if (issue.code !== "unrecognized_keys" || !issue.keys?.some((key) => Object.hasOwn(removed, key))) return undefined;
    const gone = issue.keys.filter((key) => Object.hasOwn(removed, key)).map((key) => removed[key]!);
    const unknown = issue.keys.filter((key) => !Object.hasOwn(removed, key)).map((key) => JSON.stringify(key));
    if (unknown.length > 0) gone.push(`Unrecognized key${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`);
    return gone.join("; ");
  };
}

/**
 * Flags that let rclone skip a file whose content differs from the remote copy, or not compare at
 * all; with one of them "Unchanged skipping" no longer means "same hash". Refused in the spec and the
 * runtime config.
 */
export const UNSAFE_RCLONE_FLAGS: Readonly<Record<string, string>> = {
  "--size-only": "compares sizes only, so a different file of the same size counts as uploaded",
  "--ignore-size": "ignores sizes, so a different file counts as uploaded",
  "--ignore-checksum": "skips the hash check after a transfer",
  "--ignore-existing": "skips every file already on the remote, whatever its content",
  "--ignore-times": "uploads every file again every run, which upload's --checksum already avoids",
  "--no-check-dest": "does not look at the remote, so rclone cannot say a file is unchanged",
  "--update": "skips files newer on the remote, whatever their content",
  "-u": "skips files newer on the remote, whatever their content",
  "--dry-run": "uploads nothing but still logs files as copied; use the runtime's own --dry-run",
  "-n": "uploads nothing but still logs files as copied; use the runtime's own --dry-run",
};

/** Why an upload flag is refused, or undefined. */
export function checkUploadFlag(flag: string): string | undefined {
  const name = flag.split("=")[0]!;
  if (name === "--rc" || name.startsWith("--rc-")) return `${name} is refused for uploads: the RC belongs to the mount, on its own port with its login; an upload run would open a second one without a login. Remove it`;
  const why = Object.hasOwn(UNSAFE_RCLONE_FLAGS, name) ? UNSAFE_RCLONE_FLAGS[name] : undefined;
  return why ? `${name} is refused for uploads: it ${why}, and upload would then record a file as on the remote when it is not. Remove it` : undefined;
}

export const REMOVED_SECRETS_FIELDS: Readonly<Record<string, string>> = {
  b2AccountId:
    'the field "b2AccountId" was removed: one B2 key no longer serves the mount, upload and cleanup alike; declare a key per role in secrets.b2Keys.{mount,upload,cleanup}, each with its keyId, applicationKey and capabilities',
  b2ApplicationKey:
    'the field "b2ApplicationKey" was removed: one B2 key no longer serves the mount, upload and cleanup alike; declare a key per role in secrets.b2Keys.{mount,upload,cleanup}, each with its keyId, applicationKey and capabilities',
};

export const REMOVED_STANDALONE_FIELDS: Readonly<Record<string, string>> = {
  environmentFile:
    'the field "environmentFile" was removed: each unit now reads its own secrets file, readable by its own account only; write standalone.secretsDir, the folder that holds them',
};

/** Every capability a B2 application key can carry (Backblaze B2 docs, "Application Keys"). */
export const B2_CAPABILITIES = [
  "listKeys", "writeKeys", "deleteKeys",
  "listBuckets", "listAllBucketNames", "readBuckets", "writeBuckets", "deleteBuckets",
  "readBucketRetentions", "writeBucketRetentions", "readBucketEncryption", "writeBucketEncryption",
  "readBucketReplications", "writeBucketReplications", "readBucketNotifications", "writeBucketNotifications",
  "readBucketLogging", "writeBucketLogging",
  "listFiles", "readFiles", "shareFiles", "writeFiles", "deleteFiles",
  "readFileLegalHolds", "writeFileLegalHolds", "readFileRetentions", "writeFileRetentions", "bypassGovernance",
] as const;
export type B2Capability = (typeof B2_CAPABILITIES)[number];

/**
 * What each role's key must and may carry. The runtime never deletes on the remote and the mount
 * only reads, so no role gets deleteFiles, and only upload gets writeFiles. Anything else (key
 * management, bucket settings, retention) is refused for every role.
 */
export const KEY_ROLES: Readonly<Record<"mount" | "upload" | "cleanup", { needs: readonly B2Capability[]; may: readonly B2Capability[]; does: string }>> = {
  mount: { needs: ["listFiles", "readFiles"], may: ["listBuckets", "listAllBucketNames", "readBuckets"], does: "reads the bucket through the FUSE mount" },
  upload: { needs: ["listFiles", "writeFiles"], may: ["listBuckets", "listAllBucketNames", "readBuckets", "readFiles"], does: "uploads and lists; the runtime never deletes on the remote" },
  cleanup: { needs: ["listFiles"], may: ["listBuckets", "listAllBucketNames", "readBuckets"], does: "only lists the remote to confirm copies" },
};

/** Why a capability is refused for a role, or undefined. */
export function checkKeyCapability(role: keyof typeof KEY_ROLES, capability: string): string | undefined {
  const r = KEY_ROLES[role];
  if ((r.needs as readonly string[]).includes(capability) || (r.may as readonly string[]).includes(capability)) return undefined;
  if (capability === "deleteFiles") return `the ${role} key must not carry deleteFiles: media-pipeline never deletes on B2, and a leaked key that can delete can empty the bucket`;
  if (capability === "writeFiles") return `the ${role} key must not carry writeFiles: the ${role} ${r.does}`;
  return `the ${role} key must not carry ${capability}: the ${role} ${r.does}; a key for it needs only ${[...r.needs, ...r.may].join(", ")}`;
}

/**
 * Mount flags that would open the RC, or put its credentials where others can read them. The RC's
 * address and login are generated (loopback, credentials from sops); these are refused in the spec.
 */
export const UNSAFE_MOUNT_FLAGS: Readonly<Record<string, string>> = {
  "--rc-no-auth": "lets anyone who reaches the RC run every method without credentials: operations/purge empties the bucket, core/command reads the B2 key from the environment",
  "--rc-addr": "is generated: the RC listens on 127.0.0.1 only, and the dashboard reaches it through nginx, which asks for the RC login",
  "--rc-user": "would put the RC login on the command line and in the Nix store; it comes from secrets.rcloneRc",
  "--rc-pass": "would put the RC password on the command line and in the Nix store; it comes from secrets.rcloneRc",
  "--rc-htpasswd": "is not needed: the RC login comes from secrets.rcloneRc",
  "--rc-baseurl": "is generated from endpoints.rcloneRc.path, where nginx serves the RC",
  "--rc-allow-origin": "lets web pages on other sites call the RC from a browser that holds the login",
  "--rc-serve": "serves the bucket's files over the RC's HTTP: every read is B2 egress",
  "--rc-web-gui":
    "downloads the web GUI from GitHub when the mount starts (unpinned code that runs with the RC login; an offline host gets only '404 page not found'), and writes the RC login into the journal; use `rclone rc --url` or the dashboard's RC path",
  "--rc-web-gui-update": "belongs to --rc-web-gui, which is refused",
  "--rc-web-gui-force-update": "belongs to --rc-web-gui, which is refused",
  "--rc-web-gui-fetch-url": "belongs to --rc-web-gui, which is refused",
  "--rc-web-gui-no-open-browser": "belongs to --rc-web-gui, which is refused",
};

/** Why a mount flag is refused, or undefined. */
export function checkMountFlag(flag: string): string | undefined {
  const name = flag.split("=")[0]!;
  const why = Object.hasOwn(UNSAFE_MOUNT_FLAGS, name) ? UNSAFE_MOUNT_FLAGS[name] : undefined;
  return why ? `${name} is refused for the mount: it ${why}. Remove it` : undefined;
}
