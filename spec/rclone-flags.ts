/**
 * The rclone flags the spec may use, with what rclone itself says about each: the kind of value it
 * takes, its default, and the first release that has it. Validation refuses a flag the declared
 * rclone version does not have, and the docs print the default beside our value.
 * Source: rclone's own flag documentation (docs/content/commands/rclone_mount.md, docs/content/flags.md).
 */
export type RcloneFlagKind =
  | { kind: "bool" }
  | { kind: "size" }
  | { kind: "duration" }
  | { kind: "int" }
  | { kind: "enum"; values: readonly string[] };

export interface RcloneFlagInfo {
  /** The value rclone uses when the flag is not given, as its docs print it. */
  readonly default: string;
  /** First rclone release with this flag. */
  readonly since: string;
  readonly type: RcloneFlagKind;
}

export const RCLONE_FLAGS = {
  "--allow-other": { default: "off", since: "1.33", type: { kind: "bool" } },
  "--buffer-size": { default: "16M", since: "1.36", type: { kind: "size" } },
  "--checksum": { default: "off", since: "1.20", type: { kind: "bool" } },
  "--dir-cache-time": { default: "5m", since: "1.33", type: { kind: "duration" } },
  "--rc": { default: "off", since: "1.40", type: { kind: "bool" } },
  "--read-only": { default: "off", since: "1.33", type: { kind: "bool" } },
  "--stats": { default: "1m", since: "1.20", type: { kind: "duration" } },
  "--transfers": { default: "4", since: "1.20", type: { kind: "int" } },
  "--vfs-cache-max-age": { default: "1h", since: "1.46", type: { kind: "duration" } },
  "--vfs-cache-max-size": { default: "off", since: "1.46", type: { kind: "size" } },
  "--vfs-cache-mode": { default: "off", since: "1.46", type: { kind: "enum", values: ["off", "minimal", "writes", "full"] } },
  "--vfs-fast-fingerprint": { default: "off", since: "1.58", type: { kind: "bool" } },
  "--vfs-read-ahead": { default: "0", since: "1.53", type: { kind: "size" } },
  "--vfs-read-chunk-streams": { default: "0", since: "1.68", type: { kind: "int" } },
} as const satisfies Record<string, RcloneFlagInfo>;

export type RcloneFlagName = keyof typeof RCLONE_FLAGS;

export function isKnownRcloneFlag(name: string): name is RcloneFlagName {
  return Object.prototype.hasOwnProperty.call(RCLONE_FLAGS, name);
}
