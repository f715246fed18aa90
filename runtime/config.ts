/**
 * The runtime's configuration: JSON generated from the spec into out/runtime/config.json and
 * installed at /etc/media-pipeline/config.json. Its JSON Schema is published beside it.
 *
 * The config is checked as strictly as the spec it comes from, with the same sentences (spec/syntax.ts),
 * because it can be edited by hand on the host: paths are absolute and normalised (no `..`), no archive type is a media extension, category names differ in more
 * than case, no category saves into the uncategorized folder itself, and the removed
 * cleanup.ignorable is refused with the spec's reason: nothing is exempt by name.
 */
import { z } from "zod";
import {
  ARCHIVE_TYPE,
  checkAbsolutePath,
  checkArchiveType,
  checkPrefix,
  checkUploadFlag,
  REMOTE_PREFIX,
  REMOVED_UPLOAD_FIELDS,
  NORMALISED_ABSOLUTE_PATH,
  REMOVED_CLEANUP_FIELDS,
  removedFields,
} from "../spec/syntax.ts";

const AbsolutePath = z.string().regex(NORMALISED_ABSOLUTE_PATH, { error: (issue) => checkAbsolutePath(String(issue.input)) ?? "must be an absolute path" });

/** A field check that reports the sentence a spec/syntax.ts check returns. */
const checked = (schema: z.ZodString, check: (value: string) => string | undefined) =>
  schema.superRefine((value, ctx) => {
    const message = check(value);
    if (message) ctx.addIssue({ code: "custom", message });
  });

const LoopbackUrl = z.string().regex(/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):[0-9]{1,5}$/, {
  error: "write the app's address on this host, such as http://127.0.0.1:8989: the wire job sends API keys and passwords to it in the clear",
});
const ServarrWire = z.strictObject({
  url: LoopbackUrl,
  /** The login the job creates (Forms authentication); its password is in the environment. */
  user: z.string().min(1),
});
const DownloadingWire = ServarrWire.extend({
  /** The qBittorrent category its download client sets: `tv-sonarr`. */
  category: z.string().min(1),
  rootFolders: z.array(AbsolutePath).min(1),
});

export const WireConfig = z.strictObject({
  /** The job's own state (its Jellyfin session, a refused password): the unit's StateDirectory, readable by its account alone. */
  stateDir: AbsolutePath,
  /** How long the job waits for each app to answer at boot before giving up on it. */
  waitSeconds: z.number().int().min(0),
  /** The download client Sonarr and Radarr get: qBittorrent's WebUI as they reach it. */
  qbittorrent: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  sonarr: DownloadingWire,
  radarr: DownloadingWire,
  prowlarr: ServarrWire.extend({
    /** The apps Prowlarr syncs its indexers to (Full Sync), as Prowlarr reaches them. */
    applications: z.array(z.strictObject({ app: z.enum(["sonarr", "radarr"]), name: z.string().min(1), prowlarrUrl: z.string().url(), baseUrl: z.string().url() })),
  }),
  jellyfin: z.strictObject({
    url: LoopbackUrl,
    /** The administrator the first-run wizard creates. */
    user: z.string().min(1),
    /** The wizard's "Allow remote connections": off keeps Jellyfin to the local networks. */
    remoteAccess: z.boolean(),
    libraries: z.array(z.strictObject({ name: z.string().min(1), collectionType: z.enum(["tvshows", "movies"]), paths: z.array(AbsolutePath).min(1) })),
  }),
});
export type WireConfigModel = z.infer<typeof WireConfig>;

export const RuntimeConfig = z
  .strictObject({
    $schema: z.string().optional(),
    /** `remote:bucket`, as rclone names it. */
    remote: z.string().regex(/^[a-z][a-z0-9_]*:[A-Za-z0-9-]+$/),
    upload: z.strictObject(
      {
      sources: z.array(z.strictObject({ path: AbsolutePath, prefix: z.string(), kind: z.enum(["library", "uncategorized"]) })).min(1),
      /** Folders inside the uncategorized source that belong to categories, skipped by the fallback scan. */
      categoryPaths: z.array(AbsolutePath),
      tempPath: AbsolutePath,
      extractDir: AbsolutePath,
      /** Extensions handed to unar, with their dot; never a media extension. */
      archiveTypes: z.array(checked(z.string().regex(ARCHIVE_TYPE, { error: "write the extension with its dot, such as .rar" }), (type) => (ARCHIVE_TYPE.test(type) ? checkArchiveType(type) : undefined))),
      /** Where what comes out of archives goes in the bucket: `extracted/`. */
      extractedPrefix: z.string().regex(REMOTE_PREFIX, { error: (issue) => checkPrefix(String(issue.input)) ?? "write a remote prefix such as extracted/" }),
      /** An item failing the same way this many runs in a row is set aside (media-pipeline attention). */
      attentionAfterFailures: z.number().int().min(1),
      quietPeriodSeconds: z.number().int().min(0),
      /** Never one that weakens rclone's comparison (spec/syntax.ts UNSAFE_RCLONE_FLAGS). */
      rcloneFlags: z.array(checked(z.string(), checkUploadFlag)),
      },
      { error: removedFields(REMOVED_UPLOAD_FIELDS) },
    ),
    cleanup: z.strictObject(
      {
        seedingPeriodSeconds: z.number().int().min(0),
        /** A file no torrent lists is removed only after this long unreferenced (and two runs), if uploaded. */
        orphanGraceSeconds: z.number().int().min(0),
        maxDeletionsPerRun: z.number().int().min(1),
      },
      { error: removedFields(REMOVED_CLEANUP_FIELDS) },
    ),
    qbittorrent: z.strictObject({
      url: z.string().url(),
      /** A file holding `username:password`, or null when localhost bypass is on. */
      credentialsFile: AbsolutePath.nullable(),
      categories: z.record(z.string(), AbsolutePath),
      /** How long `categories` waits for qBittorrent to answer at boot before giving up. */
      waitSeconds: z.number().int().min(0),
    }),
    /** What the `wire` job sets in Sonarr, Radarr, Prowlarr and Jellyfin; secrets come from its environment (runtime/wire/secrets.ts). */
    wire: WireConfig.optional(),
    /** Where lock files go; the units provide it as RuntimeDirectory. */
    lockDir: AbsolutePath,
    /** Upload records, cleanup's sightings and the attention list; the units provide it as StateDirectory. */
    stateDir: AbsolutePath,
  })
  .superRefine((config, ctx) => {
    // Relations between fields, checked once every field is well-formed.
    const uncategorized = config.upload.sources.find((s) => s.kind === "uncategorized")?.path;
    const intoUncategorized = (path: string) =>
      `${path} is the uncategorized source itself; a category needs a folder of its own inside it, so the fallback upload can tell categorized items apart`;
    config.upload.categoryPaths.forEach((path, i) => {
      if (path === uncategorized) ctx.addIssue({ code: "custom", path: ["upload", "categoryPaths", i], message: intoUncategorized(path) });
    });
    // Two destinations where one holds the other would let two local files share one remote name.
    const destinations: [string, (string | number)[]][] = [
      ...config.upload.sources.map((s, i): [string, (string | number)[]] => [s.prefix, ["upload", "sources", i, "prefix"]]),
      [config.upload.extractedPrefix, ["upload", "extractedPrefix"]],
    ];
    destinations.forEach(([prefix, path], i) => {
      const other = destinations.slice(0, i).find(([p]) => p.startsWith(prefix) || prefix.startsWith(p));
      if (other) ctx.addIssue({ code: "custom", path, message: nestedPrefixMessage(prefix, other[0]) });
    });
    const seen = new Map<string, string>();
    for (const [name, path] of Object.entries(config.qbittorrent.categories)) {
      if (path === uncategorized) ctx.addIssue({ code: "custom", path: ["qbittorrent", "categories", name], message: intoUncategorized(path) });
      const first = seen.get(name.toLowerCase());
      if (first === undefined) seen.set(name.toLowerCase(), name);
      else {
        ctx.addIssue({
          code: "custom",
          path: ["qbittorrent", "categories", name],
          message: `"${name}" differs from the category "${first}" only in case; qBittorrent keeps them apart, so a category typed with the wrong case in Sonarr or Radarr would file its downloads in the other's folder. Rename one so they differ in more than case`,
        });
      }
    }
  });

export type RuntimeConfigModel = z.infer<typeof RuntimeConfig>;

/** Two upload destinations where one contains the other. */
export function nestedPrefixMessage(prefix: string, other: string): string {
  return prefix === other
    ? `"${prefix}" is also the destination of another source; each needs a folder of its own on the remote, or two local files could share one remote name and one overwrite the other`
    : `"${prefix}" and "${other}" nest, one inside the other; each source needs a folder of its own on the remote, or two local files could share one remote name and one overwrite the other`;
}
