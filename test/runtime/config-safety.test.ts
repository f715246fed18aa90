/**
 * The runtime config refuses what would make the jobs unsafe, with the same sentences as the spec
 * (issue 11): a hand-edited /etc/media-pipeline/config.json is checked as strictly as the spec it
 * came from. Each fault is refused with its exact lines; one run of the bundled runtime shows the
 * refusal ends the job with exit 2 before anything is done.
 */
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REMOVED_UPLOAD_FIELDS } from "../../spec/syntax.ts";
import builder from "../../spec/builder.ts";
import { parseSpec } from "../../spec/validate.ts";
import { runtimeConfig } from "../../generators/runtime.ts";
import type { RuntimeConfigModel } from "../../runtime/config.ts";
import { loadConfig } from "../../runtime/main.ts";
import { sandbox } from "./sandbox.ts";

const COMPLETED = "/var/lib/qBittorrent/completed";
const CLIMBS = "contains a '..' segment, which leads out of the folder it seems to name; write the folder's own absolute path, without '..'";

/** The config `npm run generate` writes for the default spec, changed by `edit`. */
function configWith(edit: (config: RuntimeConfigModel) => void = () => {}): RuntimeConfigModel {
  const config = structuredClone(runtimeConfig({ spec: parseSpec(builder), specFile: "spec/builder.ts" }));
  edit(config);
  return config;
}

/** The lines loadConfig refuses the config with, or [] when it is accepted. */
function refusal(config: RuntimeConfigModel): string[] {
  const file = join(mkdtempSync(join(tmpdir(), "mp-config-")), "config.json");
  writeFileSync(file, JSON.stringify(config));
  try {
    loadConfig(file);
    return [];
  } catch (error) {
    const [first, ...lines] = (error as Error).message.split("\n");
    expect(first).toBe(`config ${file} is invalid:`);
    return lines;
  }
}

describe("the runtime config", () => {
  it("generated from the default spec is accepted", () => {
    expect(refusal(configWith())).toEqual([]);
  });

  const cases: [string, (c: RuntimeConfigModel) => void, string[]][] = [
    [
      "refuses '..' in any path, naming each field",
      (c) => {
        c.upload.sources[0]!.path = "/media/arr/../../precious";
        c.upload.categoryPaths[0] = `${COMPLETED}/tv/..`;
        c.upload.tempPath = "/var/lib/qBittorrent/downloading/../../..";
        c.upload.extractDir = "../extracted";
        c.qbittorrent.credentialsFile = "/etc/../root/credentials";
        c.qbittorrent.categories.radarr = `${COMPLETED}/../../../../precious`;
        c.lockDir = "/run/media-pipeline/..";
      },
      [
        `  upload.sources.0.path: "/media/arr/../../precious" ${CLIMBS}`,
        `  upload.categoryPaths.0: "${COMPLETED}/tv/.." ${CLIMBS}`,
        `  upload.tempPath: "/var/lib/qBittorrent/downloading/../../.." ${CLIMBS}`,
        `  upload.extractDir: "../extracted" ${CLIMBS}`,
        `  qbittorrent.credentialsFile: "/etc/../root/credentials" ${CLIMBS}`,
        `  qbittorrent.categories.radarr: "${COMPLETED}/../../../../precious" ${CLIMBS}`,
        `  lockDir: "/run/media-pipeline/.." ${CLIMBS}`,
      ],
    ],
    [
      "refuses non-normalised and relative paths",
      (c) => {
        c.upload.sources[1]!.path = "/media/arr//movies";
        c.upload.extractDir = "/var/lib/qBittorrent/extracted/.";
        c.upload.tempPath = "/var/lib/qBittorrent/downloading/";
        c.lockDir = "run/media-pipeline";
      },
      [
        '  upload.sources.1.path: "/media/arr//movies" is not normalised; write /media/arr/movies',
        '  upload.tempPath: "/var/lib/qBittorrent/downloading/" is not normalised; write /var/lib/qBittorrent/downloading',
        '  upload.extractDir: "/var/lib/qBittorrent/extracted/." is not normalised; write /var/lib/qBittorrent/extracted',
        '  lockDir: "run/media-pipeline" is relative; write an absolute path such as /run/media-pipeline',
      ],
    ],
    [
      "refuses an rclone flag that would let a different file pass for uploaded",
      (c) => void c.upload.rcloneFlags.push("--ignore-existing"),
      ["  upload.rcloneFlags.2: --ignore-existing is refused for uploads: it skips every file already on the remote, whatever its content, and upload would then record a file as on the remote when it is not. Remove it"],
    ],
    [
      "refuses upload destinations nested one inside the other (adversary round 2: a file of one overwrote a file of the other)",
      (c) => void c.upload.sources.push({ path: "/media/arr/anime", prefix: "tv/anime/", kind: "library" }),
      ['  upload.sources.3.prefix: "tv/anime/" and "tv/" nest, one inside the other; each source needs a folder of its own on the remote, or two local files could share one remote name and one overwrite the other'],
    ],
    [
      "refuses upload.marker, which was removed, saying where upload records live",
      (c) => void ((c.upload as Record<string, unknown>).marker = ".uploaded"),
      [`  upload: ${REMOVED_UPLOAD_FIELDS.marker}`],
    ],
    [
      "refuses cleanup.ignorable, which was removed, saying nothing is exempt by name",
      (c) => void ((c.cleanup as Record<string, unknown>).ignorable = ["*.nfo"]),
      [
        '  cleanup: the field "ignorable" was removed: nothing is exempt from the upload-before-delete rule by name, so a due torrent with a file that is not on B2 (an .nfo, a sample, an episode Sonarr did not import) is kept and cleanup logs why. Delete the field',
      ],
    ],
    [
      "refuses categories whose names differ only in case",
      (c) => void (c.qbittorrent.categories["TV-Sonarr"] = `${COMPLETED}/tv`),
      [
        `  qbittorrent.categories.TV-Sonarr: "TV-Sonarr" differs from the category "tv-sonarr" only in case; qBittorrent keeps them apart, so a category typed with the wrong case in Sonarr or Radarr would file its downloads in the other's folder. Rename one so they differ in more than case`,
      ],
    ],
    [
      "refuses a media extension as an archive type",
      (c) => void (c.upload.archiveTypes = [".rar", ".m2ts", "zip"]),
      [
        `  upload.archiveTypes.1: ".m2ts" is a media extension, not an archive; files of an archive type are extracted with unar and only what comes out is uploaded. Remove it`,
        "  upload.archiveTypes.2: write the extension with its dot, such as .rar",
      ],
    ],
    [
      "refuses a category folder that is the uncategorized source itself",
      (c) => {
        c.upload.categoryPaths[1] = COMPLETED;
        c.qbittorrent.categories.radarr = COMPLETED;
      },
      [
        `  upload.categoryPaths.1: ${COMPLETED} is the uncategorized source itself; a category needs a folder of its own inside it, so the fallback upload can tell categorized items apart`,
        `  qbittorrent.categories.radarr: ${COMPLETED} is the uncategorized source itself; a category needs a folder of its own inside it, so the fallback upload can tell categorized items apart`,
      ],
    ],
  ];

  it.each(cases)("%s", (_name, edit, expected) => {
    expect(refusal(configWith(edit))).toEqual(expected);
  });

  it("a config with '..' in a path stops the job with exit 2 before it does anything", async () => {
    const s = await sandbox();
    const source = s.config.upload.sources[0]!.path;
    s.update((c) => void (c.upload.sources[0]!.path = `${source}/../../../precious`));
    for (const command of ["upload", "cleanup", "categories"]) {
      const result = await s.run(command);
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(`media-pipeline: config ${s.configPath} is invalid:\n  upload.sources.0.path: ${JSON.stringify(`${source}/../../../precious`)} ${CLIMBS}`);
    }
    expect(readdirSync(s.config.lockDir)).toEqual([]);
    expect(readdirSync(s.remoteRoot)).toEqual([]);
  }, 30_000);
});
