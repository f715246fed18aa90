/**
 * The runtime's configuration: JSON generated from the spec into out/runtime/config.json and
 * installed at /etc/media-pipeline/config.json. Its JSON Schema is published beside it.
 */
import { z } from "zod";

const AbsolutePath = z.string().regex(/^\//, { error: "must be an absolute path" });

export const RuntimeConfig = z.strictObject({
  $schema: z.string().optional(),
  /** `remote:bucket`, as rclone names it. */
  remote: z.string().regex(/^[a-z][a-z0-9_]*:[A-Za-z0-9-]+$/),
  upload: z.strictObject({
    sources: z.array(z.strictObject({ path: AbsolutePath, prefix: z.string(), kind: z.enum(["library", "uncategorized"]) })).min(1),
    /** Folders inside the uncategorized source that belong to categories, skipped by the fallback scan. */
    categoryPaths: z.array(AbsolutePath),
    tempPath: AbsolutePath,
    extractDir: AbsolutePath,
    archiveTypes: z.array(z.string()),
    marker: z.string(),
    quietPeriodSeconds: z.number().int().min(0),
    rcloneFlags: z.array(z.string()),
  }),
  cleanup: z.strictObject({
    seedingPeriodSeconds: z.number().int().min(0),
    maxDeletionsPerRun: z.number().int().min(1),
    ignorable: z.array(z.string()),
  }),
  qbittorrent: z.strictObject({
    url: z.string().url(),
    /** A file holding `username:password`, or null when localhost bypass is on. */
    credentialsFile: AbsolutePath.nullable(),
    categories: z.record(z.string(), AbsolutePath),
    /** How long `categories` waits for qBittorrent to answer at boot before giving up. */
    waitSeconds: z.number().int().min(0),
  }),
  /** Where lock files go; the units provide it as RuntimeDirectory. */
  lockDir: AbsolutePath,
});

export type RuntimeConfigModel = z.infer<typeof RuntimeConfig>;
