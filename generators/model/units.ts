/**
 * The systemd units of the pipeline as one model, rendered twice: as NixOS `systemd.services` in
 * out/nixos and as unit files in out/systemd. The only difference between the two renderings is
 * how a `Ref` (a program or file whose location depends on the host) is spelled.
 */
import type { SpecModel } from "../../spec/schema.ts";
import { durationToSeconds } from "../../spec/syntax.ts";
import { quoteExecArg, quoteUnitWord } from "../render/systemd.ts";

/** Something whose path differs between a NixOS host and a standalone one. */
export type RefName = "node" | "rclone" | "unar" | "runtime" | "environmentFile";
export interface Ref {
  readonly ref: RefName;
}
/** Text with references in it: `{ template: [{ ref: "node" }, " upload"] }`. */
export interface Template {
  readonly template: readonly (string | Ref)[];
}
export type ModelScalar = string | number | boolean | Template;
export type ModelValue = ModelScalar | readonly ModelScalar[];

export interface ServiceModel {
  readonly name: string;
  readonly description: string;
  /** [Unit] dependencies. */
  readonly after: readonly string[];
  readonly wants: readonly string[];
  /** [Install] WantedBy; empty for units started by a timer. */
  readonly wantedBy: readonly string[];
  readonly serviceConfig: Readonly<Record<string, ModelValue>>;
  /** A comment for reviewers: why the unit exists. */
  readonly why: string;
}

export interface TimerModel {
  readonly name: string;
  readonly description: string;
  readonly timerConfig: Readonly<Record<string, string>>;
}

export interface UnitsModel {
  readonly services: readonly ServiceModel[];
  readonly timers: readonly TimerModel[];
}

/** Where the generated runtime config is installed on the host, by both renderings. */
export const RUNTIME_CONFIG_PATH = "/etc/media-pipeline/config.json";
/** The runtime's lock files live here; kept between runs so two runs see the same lock. */
export const RUNTIME_DIRECTORY = "media-pipeline";
export const RCLONE_CACHE_DIRECTORY = "rclone-b2";
export const SOPS_TEMPLATE_NAME = "rclone-b2.env";

const ref = (name: RefName): Ref => ({ ref: name });
const template = (parts: readonly (string | Ref)[]): Template => ({ template: joinLiterals(parts) });

/** Spec durations (`2m`, `1h30m`) in systemd's spelling (`2min`, `1h 30min`). */
export function systemdDuration(value: string): string {
  let rest = durationToSeconds(value);
  const out: string[] = [];
  for (const [unit, seconds] of [["d", 86_400], ["h", 3_600], ["min", 60], ["s", 1]] as const) {
    const n = Math.floor(rest / seconds);
    if (n > 0) out.push(`${n}${unit}`);
    rest -= n * seconds;
  }
  return out.join(" ");
}

/** An Exec line: each argument quoted for systemd; references are plain paths and never need quotes. */
export function execLine(args: readonly (string | Ref)[]): Template {
  const parts: (string | Ref)[] = [];
  args.forEach((arg, i) => {
    if (i > 0) parts.push(" ");
    parts.push(typeof arg === "string" ? quoteExecArg(arg) : arg);
  });
  return template(parts);
}

/** Adjacent literal parts are merged, so unit files and Nix stay readable. */
function joinLiterals<T>(parts: readonly (string | T)[]): (string | T)[] {
  const out: (string | T)[] = [];
  for (const part of parts) {
    const last = out[out.length - 1];
    if (typeof part === "string" && typeof last === "string") out[out.length - 1] = last + part;
    else out.push(part);
  }
  return out;
}

export function flagArgs(flags: SpecModel["upload"]["flags"]): string[] {
  return flags.map(({ flag, value }) => (value === true ? flag : `${flag}=${String(value)}`));
}

/** Hardening shared by the runtime jobs; each line keeps `systemd-analyze security` low. */
function hardening(spec: SpecModel, options: { writes: readonly string[]; network: "any" | "localhost" }): Record<string, ModelValue> {
  return {
    User: spec.user.name,
    Group: spec.user.group,
    UMask: spec.user.umask,
    NoNewPrivileges: true,
    PrivateTmp: true,
    PrivateDevices: true,
    PrivateUsers: true,
    ProtectSystem: "strict",
    ...(options.writes.length > 0 ? { ReadWritePaths: options.writes.map(quoteUnitWord) } : {}),
    ProtectHome: true,
    ProtectProc: "invisible",
    ProcSubset: "pid",
    ProtectClock: true,
    ProtectHostname: true,
    ProtectKernelLogs: true,
    ProtectKernelModules: true,
    ProtectKernelTunables: true,
    ProtectControlGroups: true,
    RestrictAddressFamilies: ["AF_INET", "AF_INET6", "AF_UNIX"],
    ...(options.network === "localhost" ? { IPAddressAllow: "localhost", IPAddressDeny: "any" } : {}),
    RestrictNamespaces: true,
    RestrictRealtime: true,
    RestrictSUIDSGID: true,
    LockPersonality: true,
    RemoveIPC: true,
    DevicePolicy: "closed",
    KeyringMode: "private",
    CapabilityBoundingSet: "",
    SystemCallArchitectures: "native",
    SystemCallFilter: ["@system-service", "~@privileged @resources"],
  };
}

function runtimeJob(command: "upload" | "cleanup" | "categories"): Template {
  return execLine([ref("node"), ref("runtime"), command, "--config", RUNTIME_CONFIG_PATH]);
}

const toolEnvironment: ModelValue = [template(["MEDIA_PIPELINE_RCLONE=", ref("rclone")]), template(["MEDIA_PIPELINE_UNAR=", ref("unar")])];

export function unitsModel(spec: SpecModel): UnitsModel {
  const mount = spec.b2.mountPoint;
  const remote = `${spec.b2.remote}:${spec.b2.bucket}`;

  /** A job the timers start: runs the runtime with the B2 credentials, writing only `writes`. */
  const timerJob = (job: { name: string; description: string; why: string; command: "upload" | "cleanup"; after: string[]; writes: string[] }): ServiceModel => ({
    name: job.name,
    description: job.description,
    why: job.why,
    after: job.after,
    wants: ["network-online.target"],
    wantedBy: [],
    serviceConfig: {
      Type: "oneshot",
      ExecStart: runtimeJob(job.command),
      EnvironmentFile: template([ref("environmentFile")]),
      Environment: toolEnvironment,
      RuntimeDirectory: RUNTIME_DIRECTORY,
      RuntimeDirectoryPreserve: true,
      ...hardening(spec, { writes: [...new Set(job.writes)].sort(), network: "any" }),
    },
  });
  const upload = timerJob({
    name: "qbt-upload-b2",
    description: "Upload new media to B2",
    why: `Scans ${spec.upload.sources.map((s) => s.path).join(", ")}, extracts archives, uploads to ${remote} and marks each item ${spec.upload.marker}.`,
    command: "upload",
    after: ["network-online.target"],
    // Markers go beside the items; archives are extracted into the extraction folder.
    writes: [...spec.upload.sources.map((s) => s.path), spec.upload.extractDir],
  });
  const cleanup = timerJob({
    name: "qbt-cleanup",
    description: "Remove torrents and local copies after the seeding period",
    why: `Removes torrents seeded longer than ${spec.cleanup.seedingPeriod} whose files are confirmed on B2, with their library hard links.`,
    command: "cleanup",
    after: ["network-online.target", "qbittorrent.service"],
    writes: [...spec.upload.sources.map((s) => s.path), spec.qbittorrent.defaultSavePath],
  });
  const categories: ServiceModel = {
    name: "qbt-categories",
    description: "Create qBittorrent's download categories",
    why: `Creates ${Object.keys(spec.qbittorrent.categories).join(", ")} with their save paths through the WebUI API, once at boot.`,
    after: [...spec.timers.categoriesAfter],
    wants: [...spec.timers.categoriesAfter],
    wantedBy: ["multi-user.target"],
    serviceConfig: {
      Type: "oneshot",
      RemainAfterExit: true,
      ExecStart: runtimeJob("categories"),
      ...hardening(spec, { writes: [], network: "localhost" }),
    },
  };
  const mountFlags = [
    ...flagArgs(spec.rclone.mount.flags),
    ...(spec.rclone.mount.flags.some((f) => f.flag === "--rc") ? [`--rc-addr=:${spec.endpoints.rcloneRc.port}`] : []),
    `--cache-dir=/var/cache/${RCLONE_CACHE_DIRECTORY}`,
  ];
  const rcloneMount: ServiceModel = {
    name: "rclone-b2-mount",
    description: `Mount ${remote} at ${mount}`,
    why: `FUSE mount of the bucket; Jellyfin and Copyparty fall back to it once local copies are cleaned up.`,
    after: ["network-online.target"],
    wants: ["network-online.target"],
    wantedBy: ["multi-user.target"],
    serviceConfig: {
      Type: "notify",
      ExecStart: execLine([ref("rclone"), "mount", remote, mount, ...mountFlags]),
      EnvironmentFile: template([ref("environmentFile")]),
      CacheDirectory: RCLONE_CACHE_DIRECTORY,
      Restart: "on-failure",
      RestartSec: "10s",
    },
  };
  const timer = (service: string, t: SpecModel["timers"]["upload"], description: string): TimerModel => ({
    name: service,
    description,
    timerConfig: { OnBootSec: systemdDuration(t.afterBoot), OnUnitActiveSec: systemdDuration(t.every) },
  });
  return {
    services: [upload, categories, cleanup, rcloneMount],
    timers: [
      timer("qbt-upload-b2", spec.timers.upload, `Upload new media to B2 every ${systemdDuration(spec.timers.upload.every)}`),
      timer("qbt-cleanup", spec.timers.cleanup, `Clean up seeded torrents every ${systemdDuration(spec.timers.cleanup.every)}`),
    ],
  };
}

/** Resolves each reference of a template with `resolve`, merging adjacent literal text. */
export function mapTemplate<T>(value: Template, resolve: (ref: RefName) => readonly (string | T)[]): (string | T)[] {
  return joinLiterals(value.template.flatMap((part) => (typeof part === "string" ? [part] : resolve(part.ref))));
}

export function isTemplate(value: unknown): value is Template {
  return typeof value === "object" && value !== null && "template" in value;
}
