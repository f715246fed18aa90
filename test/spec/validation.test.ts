/** Each fault a user can make in a spec, and the exact line that reports it. */
import { describe, expect, it } from "vitest";
import builder from "../../spec/builder.ts";
import type { SpecInput } from "../../spec/schema.ts";
import { formatProblem, validateSpec } from "../../spec/validate.ts";
import { REMOVED_UPLOAD_FIELDS } from "../../spec/syntax.ts";
import { specWith } from "../helpers.ts";

function problems(spec: SpecInput): string[] {
  const result = validateSpec(spec);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe("the default spec", () => {
  it("is valid", () => {
    expect(problems(builder)).toEqual([]);
  });
});

const CLIMBS = "contains a '..' segment, which leads out of the folder it seems to name; write the folder's own absolute path, without '..'";
const MARKER_REMOVED = REMOVED_UPLOAD_FIELDS.marker;
const IGNORABLE_REMOVED =
  'the field "ignorable" was removed: nothing is exempt from the upload-before-delete rule by name, so a due torrent with a file that is not on B2 (an .nfo, a sample, an episode Sonarr did not import) is kept and cleanup logs why. Delete the field';

const cases: [string, (s: SpecInput) => void, string[]][] = [
  [
    "two endpoints on one port",
    (s) => void (s.endpoints.sonarr.port = 8080),
    ["endpoints.sonarr.port: 8080 is already used by endpoints.qbittorrentWebui.port; give each endpoint a port of its own"],
  ],
  [
    "an endpoint on the dashboard's port",
    (s) => void (s.endpoints.radarr.port = 80),
    ["endpoints.radarr.port: 80 is already used by dashboard.port; give each endpoint a port of its own"],
  ],
  [
    "two dashboard paths that are the same",
    (s) => void (s.endpoints.radarr.path = "/sonarr/"),
    ["endpoints.radarr.path: /sonarr/ is already the dashboard path of endpoints.sonarr.path; give each endpoint a path of its own"],
  ],
  [
    "a relative path",
    (s) => void (s.upload.extractDir = "var/lib/qBittorrent/extracted"),
    ['upload.extractDir: "var/lib/qBittorrent/extracted" is relative; write an absolute path such as /var/lib/qBittorrent/extracted'],
  ],
  [
    "a non-normalised path",
    (s) => void (s.directories[5]!.path = "/media/arr//tv/"),
    [
      'directories[5].path: "/media/arr//tv/" is not normalised; write /media/arr/tv',
      "upload.sources[0].path: /media/arr/tv is not in directories; declare it there with its filesystem",
      'copyparty.volumes["/tv"].path: /media/arr/tv is not one of the declared directories; copyparty\'s sandbox only sees declared folders',
    ],
  ],
  [
    "a category folder outside the completed folder",
    (s) => {
      s.qbittorrent.categories.radarr!.savePath = "/var/lib/qBittorrent/movies";
      s.directories.push({ path: "/var/lib/qBittorrent/movies", purpose: "Movies", filesystem: "root" });
    },
    [
      "qbittorrent.categories.radarr.savePath: /var/lib/qBittorrent/movies is outside the completed folder /var/lib/qBittorrent/completed; put category folders inside it, such as /var/lib/qBittorrent/completed/radarr, so the fallback upload can tell categorized items apart",
    ],
  ],
  [
    "library and download folders on different filesystems",
    (s) => {
      s.filesystems.data = { kind: "local", device: "/dev/sdb1", description: "Second disk" };
      s.directories[6]!.filesystem = "data";
    },
    [
      'directories[6].filesystem: /media/arr/movies is on "data" but /var/lib/qBittorrent/downloading is on "root"; hard links cannot cross filesystems, so imports would silently become copies. Put the library and the download folders on one filesystem',
    ],
  ],
  [
    "the B2 mount placed on the hard-link filesystem",
    (s) => {
      for (const d of s.directories) if (d.path.startsWith("/media/b2")) d.filesystem = "root";
    },
    ['directories[7].filesystem: the B2 mount /media/b2 is on "root", the hard-link filesystem; the rclone mount is a filesystem of its own. Declare a filesystem of kind "rclone-mount" for it'],
  ],
  [
    "a malformed size",
    (s) => void (s.rclone.mount.flags[1]!.value = "150GB"),
    ['rclone.mount.flags[1].value: "150GB" is not a size; write a whole number and one of K, M, G, T, P with nothing after it, such as 150G'],
  ],
  [
    "a malformed duration",
    (s) => void (s.timers.upload.every = "2 minutes"),
    ['timers.upload.every: "2 minutes" is not a duration; write numbers with the units d, h, m, s and no spaces, such as 2m'],
  ],
  [
    "an rclone flag the declared rclone version does not have",
    (s) => void (s.rclone.version = "1.60.1"),
    ["rclone.mount.flags[8].flag: --vfs-read-chunk-streams needs rclone 1.68 or newer, but rclone.version is 1.60.1; raise rclone.version or remove the flag"],
  ],
  [
    "the same remote prefix used twice",
    (s) => void (s.upload.sources[1]!.prefix = "tv/"),
    ['upload.sources[1].prefix: "tv/" is already the prefix of upload.sources[0]; give each source a prefix of its own, or their items would overwrite each other on B2'],
  ],
  [
    "an unknown rclone flag",
    (s) => void s.rclone.mount.flags.push({ flag: "--vfs-turbo", value: true, reason: "fast" }),
    ["rclone.mount.flags[12].flag: --vfs-turbo is not a flag media-pipeline knows; add it to spec/rclone-flags.ts with its type and the rclone version that introduced it"],
  ],
  [
    "a secret value where a reference belongs",
    (s) => void (s.secrets.b2Keys.upload.applicationKey = { sopsKey: "K005abc+/xyz==" }),
    ["secrets.b2Keys.upload.applicationKey.sopsKey: write the sops key as names separated by '/', such as b2/account_id; the spec holds references, never secret values"],
  ],
  [
    "the RC opened without a login (issue 12)",
    (s) => void s.rclone.mount.flags.push({ flag: "--rc-no-auth", value: true, reason: "as the seed" }),
    ["rclone.mount.flags[12].flag: --rc-no-auth is refused for the mount: it lets anyone who reaches the RC run every method without credentials: operations/purge empties the bucket, core/command reads the B2 key from the environment. Remove it"],
  ],
  [
    "the RC web GUI, which downloads code at start and logs the login",
    (s) => void s.rclone.mount.flags.push({ flag: "--rc-web-gui", value: true, reason: "GUI" }),
    [
      "rclone.mount.flags[12].flag: --rc-web-gui is refused for the mount: it downloads the web GUI from GitHub when the mount starts (unpinned code that runs with the RC login; an offline host gets only '404 page not found'), and writes the RC login into the journal; use `rclone rc --url` or the dashboard's RC path. Remove it",
    ],
  ],
  [
    "an RC port any account could take while the mount is down",
    (s) => void (s.endpoints.rcloneRc.port = 5572),
    ["endpoints.rcloneRc.port: 5572 is a port any account on the host may listen on: while the mount is down, one could take it and collect the RC login nginx forwards. Choose a port below 1024 (the mount gets CAP_NET_BIND_SERVICE for it), such as 572"],
  ],
  [
    "an RC flag among the upload flags",
    (s) => void s.upload.flags.push({ flag: "--rc", value: true, reason: "stats" }),
    ["upload.flags[2].flag: --rc is refused for uploads: the RC belongs to the mount, on its own port with its login; an upload run would open a second one without a login. Remove it"],
  ],
  [
    "an upload key that can delete",
    (s) => void s.secrets.b2Keys.upload.capabilities.push("deleteFiles"),
    ["secrets.b2Keys.upload.capabilities[4]: the upload key must not carry deleteFiles: media-pipeline never deletes on B2, and a leaked key that can delete can empty the bucket"],
  ],
  [
    "a mount key that can write",
    (s) => void s.secrets.b2Keys.mount.capabilities.push("writeFiles"),
    ["secrets.b2Keys.mount.capabilities[3]: the mount key must not carry writeFiles: the mount reads the bucket through the FUSE mount"],
  ],
  [
    "a cleanup key that cannot list",
    (s) => void (s.secrets.b2Keys.cleanup.capabilities = ["listBuckets"]),
    ["secrets.b2Keys.cleanup.capabilities: the cleanup key needs listFiles: the cleanup only lists the remote to confirm copies"],
  ],
  [
    "one B2 key shared by two roles",
    (s) => void (s.secrets.b2Keys.cleanup.applicationKey = { sopsKey: "b2/upload/application_key" }),
    ["secrets.b2Keys.cleanup.applicationKey.sopsKey: the sops key b2/upload/application_key is also used by secrets.b2Keys.upload.applicationKey.sopsKey; give each secret its own key, so each role holds only its own"],
  ],
  [
    "upload and cleanup under one account",
    (s) => void (s.accounts.cleanup = "mp-upload"),
    ['accounts.cleanup: "mp-upload" is also accounts.upload; each role needs an account of its own, so that only it can read its secrets file'],
  ],
  [
    "the runtime's state in the media group",
    (s) => void (s.accounts.stateGroup = "media"),
    ['accounts.stateGroup: "media" is the media group, which every media service is in; the runtime\'s state needs a group of its own, or any of them could forge upload records'],
  ],
  [
    "the runtime's state in the mount's own group (second review)",
    (s) => void (s.accounts.stateGroup = "rclone-b2"),
    ['accounts.stateGroup: "rclone-b2" is the mount\'s own group; the rclone process, which the RC reaches, could then forge upload records. Give the runtime\'s state a group of its own'],
  ],
  [
    "the runtime's state in a privileged group",
    (s) => void (s.accounts.stateGroup = "wheel"),
    ['accounts.stateGroup: "wheel" is a group other accounts already hold; the runtime\'s state needs a group of its own, or its members could forge upload records'],
  ],
  [
    "a role's account that NixOS already has",
    (s) => void (s.accounts.mount = "root"),
    ['accounts.mount: "root" is the superuser; give the mount an account of its own'],
  ],
  [
    "a '$' in the standalone secrets folder",
    (s) => void (s.standalone.secretsDir = "/etc/mp$secrets"),
    ['standalone.secretsDir: "/etc/mp$secrets" contains \'$\', which nginx would read as a variable; choose a folder without \'$\''],
  ],
  [
    "a copyparty volume readable by an undeclared account",
    (s) => void (s.copyparty.volumes["/tv"]!.read = ["guest"]),
    ['copyparty.volumes["/tv"].read[0]: "guest" is not one of copyparty.accounts (admin)'],
  ],
  [
    "two upload prefixes nested one inside the other (adversary, issue 11)",
    (s) => {
      s.b2.prefixes.anime = "tv/anime/";
      s.directories.push({ path: "/media/arr/anime", purpose: "Anime", filesystem: "root", mode: "0775" });
      s.upload.sources.push({ path: "/media/arr/anime", prefix: "tv/anime/", kind: "library" });
    },
    ['upload.sources[3].prefix: "tv/anime/" and "tv/" (upload.sources[0]) nest, one inside the other; give each source a folder of its own on B2, or a file of one could overwrite a file of the other'],
  ],
  [
    "the single B2 key of earlier versions",
    (s) => void ((s.secrets as Record<string, unknown>).b2AccountId = { sopsKey: "b2/account_id" }),
    ['secrets: the field "b2AccountId" was removed: one B2 key no longer serves the mount, upload and cleanup alike; declare a key per role in secrets.b2Keys.{mount,upload,cleanup}, each with its keyId, applicationKey and capabilities'],
  ],
  [
    "a misspelt field",
    (s) => void ((s.endpoints.sonarr as Record<string, unknown>).prot = 1),
    ['endpoints.sonarr: Unrecognized key: "prot"'],
  ],
  [
    "a temp folder inside the completed folder",
    (s) => {
      s.qbittorrent.tempPath = "/var/lib/qBittorrent/completed/.incomplete";
      s.directories.push({ path: "/var/lib/qBittorrent/completed/.incomplete", purpose: "temp", filesystem: "root" });
    },
    ["qbittorrent.tempPath: /var/lib/qBittorrent/completed/.incomplete is inside the completed folder /var/lib/qBittorrent/completed; unfinished downloads would be uploaded. Put it beside the completed folder"],
  ],
  [
    "a path that climbs out with '..'",
    (s) => void (s.upload.extractDir = "/var/lib/qBittorrent/extracted/../../../precious"),
    [`upload.extractDir: "/var/lib/qBittorrent/extracted/../../../precious" ${CLIMBS}`],
  ],
  [
    "'..' in a directory, a category folder, an upload source, the B2 mount, the profile folder and a standalone path",
    (s) => {
      s.directories[4]!.path = "/var/lib/qBittorrent/../../precious";
      s.qbittorrent.categories.radarr!.savePath = "/var/lib/qBittorrent/completed/movies/..";
      s.qbittorrent.profileDir = "/var/lib/qBittorrent/..";
      s.upload.sources[0]!.path = "/media/arr/../../precious";
      s.b2.mountPoint = "/media/b2/../arr";
      s.standalone.runtimeDir = "/opt/media-pipeline/../../etc";
    },
    [
      `directories[4].path: "/var/lib/qBittorrent/../../precious" ${CLIMBS}`,
      `qbittorrent.profileDir: "/var/lib/qBittorrent/.." ${CLIMBS}`,
      `qbittorrent.categories.radarr.savePath: "/var/lib/qBittorrent/completed/movies/.." ${CLIMBS}`,
      `b2.mountPoint: "/media/b2/../arr" ${CLIMBS}`,
      `upload.sources[0].path: "/media/arr/../../precious" ${CLIMBS}`,
      `standalone.runtimeDir: "/opt/media-pipeline/../../etc" ${CLIMBS}`,
      "upload.extractDir: /var/lib/qBittorrent/extracted is not in directories; declare it there with its filesystem",
    ],
  ],
  [
    "a relative path with '..'",
    (s) => void (s.standalone.wwwRoot = "../www"),
    [`standalone.wwwRoot: "../www" ${CLIMBS}`],
  ],
  [
    "a path ending in '/.'",
    (s) => void (s.upload.extractDir = "/var/lib/qBittorrent/extracted/."),
    ['upload.extractDir: "/var/lib/qBittorrent/extracted/." is not normalised; write /var/lib/qBittorrent/extracted'],
  ],
  [
    "an upload.marker field, which was removed",
    (s) => void ((s.upload as Record<string, unknown>).marker = ".uploaded"),
    [`upload: ${MARKER_REMOVED}`],
  ],
  [
    "an upload flag that weakens rclone's comparison (--size-only)",
    (s) => void s.upload.flags.push({ flag: "--size-only", value: true, reason: "faster" }),
    ["upload.flags[2].flag: --size-only is refused for uploads: it compares sizes only, so a different file of the same size counts as uploaded, and upload would then record a file as on the remote when it is not. Remove it"],
  ],
  [
    "an extractedPrefix that is also a source's prefix",
    (s) => void (s.upload.extractedPrefix = "downloads/"),
    [`upload.extractedPrefix: "downloads/" is also the prefix of upload.sources[2]; what comes out of archives needs a folder of its own on B2, or it could collide with a download's own files`],
  ],
  [
    "a cleanup.ignorable field, which was removed",
    (s) => void ((s.cleanup as Record<string, unknown>).ignorable = ["*.nfo", "*.txt"]),
    [`cleanup: ${IGNORABLE_REMOVED}`],
  ],
  [
    "a cleanup.ignorable field beside a misspelt one",
    (s) => {
      (s.cleanup as Record<string, unknown>).ignorable = [];
      (s.cleanup as Record<string, unknown>).maxDeletionPerRun = 5;
    },
    [`cleanup: ${IGNORABLE_REMOVED}; Unrecognized key: "maxDeletionPerRun"`],
  ],
  [
    "qBittorrent categories whose names differ only in case",
    (s) => void (s.qbittorrent.categories.Radarr = { savePath: "/var/lib/qBittorrent/completed/movies", usedBy: "radarr" }),
    [
      `qbittorrent.categories.Radarr: "Radarr" differs from the category "radarr" only in case; qBittorrent keeps them apart, so a category typed with the wrong case in Sonarr or Radarr would file its downloads in the other's folder. Rename one so they differ in more than case`,
    ],
  ],
  [
    "a media extension given as an archive type",
    (s) => void s.upload.archiveTypes.push(".mkv"),
    [`upload.archiveTypes[2]: ".mkv" is a media extension, not an archive; files of an archive type are extracted with unar and only what comes out is uploaded. Remove it`],
  ],
  [
    "a category folder that is the completed folder itself",
    (s) => void (s.qbittorrent.categories.radarr!.savePath = "/var/lib/qBittorrent/completed"),
    [
      "qbittorrent.categories.radarr.savePath: /var/lib/qBittorrent/completed is the completed folder itself (qbittorrent.defaultSavePath); give the category a folder of its own inside it, such as /var/lib/qBittorrent/completed/radarr, so the fallback upload can tell categorized items apart",
    ],
  ],
  [
    "a zero seeding period",
    (s) => void (s.cleanup.seedingPeriod = "0d"),
    ['cleanup.seedingPeriod: "0d" is zero; the seeding period must be longer than zero, or cleanup would remove torrents before they have seeded. Write a period such as 7d'],
  ],
  [
    "a zero duration elsewhere",
    (s) => void (s.timers.upload.every = "0s"),
    ['timers.upload.every: "0s" is zero; write a duration longer than zero, such as 2m'],
  ],
  // Issue 13: the pieces the wire job sets describe one pipeline; each message names both sides.
  [
    "no category used by Radarr, so its download client would have none",
    (s) => void delete s.qbittorrent.categories.radarr,
    [`qbittorrent.categories: no category has usedBy "radarr", so Radarr's download client (apps.radarr) would have none; declare one, such as radarr`],
  ],
  [
    "two categories used by Sonarr",
    (s) => void (s.qbittorrent.categories["tv-anime"] = { savePath: "/var/lib/qBittorrent/completed/tv", usedBy: "sonarr" }),
    [`qbittorrent.categories: "tv-sonarr" and "tv-anime" all have usedBy "sonarr"; Sonarr's download client sets one category, so keep one`],
  ],
  [
    "a root folder that no upload source scans",
    (s) => {
      s.apps.sonarr.rootFolders = ["/media/arr/movies"];
    },
    [
      "apps.radarr.rootFolders[0]: /media/arr/movies is also Sonarr's root folder (apps.sonarr.rootFolders[0]); each app needs folders of its own, or one's imports would show up in the other's library",
      "upload.sources[0].path: /media/arr/tv is a library upload source but no app's root folder (apps.sonarr.rootFolders, apps.radarr.rootFolders); nothing would import into it",
      `apps.jellyfin.libraries["TV Shows"].paths[0]: /media/arr/tv is neither an app's root folder (apps.sonarr.rootFolders, apps.radarr.rootFolders) nor the B2 copy of one (/media/b2/tv, /media/b2/movies); Jellyfin would show what the pipeline never fills`,
      `apps.jellyfin.libraries["TV Shows"].paths[1]: /media/b2/tv is neither an app's root folder (apps.sonarr.rootFolders, apps.radarr.rootFolders) nor the B2 copy of one (/media/b2/tv, /media/b2/movies); Jellyfin would show what the pipeline never fills`,
      `apps.jellyfin.libraries.Movies.paths[0]: /media/arr/movies holds Sonarr's imports (apps.sonarr.rootFolders[0]), but the library "Movies" is of type "movies"; use "tvshows"`,
      `apps.jellyfin.libraries.Movies.paths[1]: /media/b2/movies holds Sonarr's imports (apps.sonarr.rootFolders[0]), but the library "Movies" is of type "movies"; use "tvshows"`,
    ],
  ],
  [
    "a root folder outside every upload source",
    (s) => {
      s.directories.push({ path: "/media/arr/tv2", purpose: "x", filesystem: "root", mode: "0775" });
      s.apps.sonarr.rootFolders.push("/media/arr/tv2");
    },
    [
      `apps.sonarr.rootFolders[1]: /media/arr/tv2 is Sonarr's root folder, but no upload source of kind "library" scans it (upload.sources); what Sonarr imports there would never reach B2`,
      "apps.sonarr.rootFolders[1]: /media/arr/tv2 is Sonarr's root folder but in no Jellyfin library (apps.jellyfin.libraries); what Sonarr imports would never be shown",
    ],
  ],
  [
    "a Jellyfin library without the B2 copy of its folder",
    (s) => void (s.apps.jellyfin.libraries["TV Shows"]!.paths = ["/media/arr/tv"]),
    [`apps.jellyfin.libraries["TV Shows"].paths[0]: the library "TV Shows" reads /media/arr/tv but not its B2 copy /media/b2/tv (upload sends it there); after cleanup its items would vanish from Jellyfin. Add /media/b2/tv`],
  ],
  [
    "a Jellyfin library with only the B2 copy",
    (s) => void (s.apps.jellyfin.libraries.Movies!.paths = ["/media/b2/movies"]),
    [
      `apps.jellyfin.libraries.Movies.paths[0]: the library "Movies" reads the B2 copy /media/b2/movies but not /media/arr/movies, where Radarr imports; new items would appear only after upload. Add /media/arr/movies before it`,
      "apps.radarr.rootFolders[0]: /media/arr/movies is Radarr's root folder but in no Jellyfin library (apps.jellyfin.libraries); what Radarr imports would never be shown",
    ],
  ],
  [
    "a Jellyfin library of the wrong type",
    (s) => void (s.apps.jellyfin.libraries["TV Shows"]!.type = "movies"),
    [
      `apps.jellyfin.libraries["TV Shows"].paths[0]: /media/arr/tv holds Sonarr's imports (apps.sonarr.rootFolders[0]), but the library "TV Shows" is of type "movies"; use "tvshows"`,
      `apps.jellyfin.libraries["TV Shows"].paths[1]: /media/b2/tv holds Sonarr's imports (apps.sonarr.rootFolders[0]), but the library "TV Shows" is of type "movies"; use "tvshows"`,
    ],
  ],
  [
    "one folder in two Jellyfin libraries",
    (s) => void (s.apps.jellyfin.libraries.Anime = { type: "tvshows", paths: ["/media/arr/tv", "/media/b2/tv"] }),
    [`apps.jellyfin.libraries.Anime.paths[0]: /media/arr/tv is also in apps.jellyfin.libraries["TV Shows"].paths[0]; Jellyfin would show its items twice`],
  ],
  [
    "a Jellyfin path the pipeline never fills",
    (s) => void s.apps.jellyfin.libraries.Movies!.paths.push("/srv/films"),
    [`apps.jellyfin.libraries.Movies.paths[2]: /srv/films is neither an app's root folder (apps.sonarr.rootFolders, apps.radarr.rootFolders) nor the B2 copy of one (/media/b2/tv, /media/b2/movies); Jellyfin would show what the pipeline never fills`],
  ],
  [
    "a root folder inside the completed folder",
    (s) => {
      s.apps.radarr.rootFolders = ["/var/lib/qBittorrent/completed/movies"];
    },
    [
      "apps.radarr.rootFolders[0]: /var/lib/qBittorrent/completed/movies is Radarr's root folder, but no upload source of kind \"library\" scans it (upload.sources); what Radarr imports there would never reach B2",
      "apps.radarr.rootFolders[0]: /var/lib/qBittorrent/completed/movies overlaps qBittorrent's completed folder /var/lib/qBittorrent/completed (qbittorrent.defaultSavePath); Radarr hard-links imports into a library of its own beside it",
      "upload.sources[1].path: /media/arr/movies is a library upload source but no app's root folder (apps.sonarr.rootFolders, apps.radarr.rootFolders); nothing would import into it",
      `apps.jellyfin.libraries.Movies.paths[0]: /media/arr/movies is neither an app's root folder (apps.sonarr.rootFolders, apps.radarr.rootFolders) nor the B2 copy of one (/media/b2/tv, /media/b2/movies); Jellyfin would show what the pipeline never fills`,
      `apps.jellyfin.libraries.Movies.paths[1]: /media/b2/movies is neither an app's root folder (apps.sonarr.rootFolders, apps.radarr.rootFolders) nor the B2 copy of one (/media/b2/tv, /media/b2/movies); Jellyfin would show what the pipeline never fills`,
      "apps.radarr.rootFolders[0]: /var/lib/qBittorrent/completed/movies is Radarr's root folder but in no Jellyfin library (apps.jellyfin.libraries); what Radarr imports would never be shown",
    ],
  ],
  [
    "qBittorrent's localhost bypass turned off, with no login declared for the jobs and the download clients",
    (s) => void (s.qbittorrent.bypassLocalhostAuth = false),
    ["qbittorrent.bypassLocalhostAuth: false needs a qBittorrent login for the runtime's jobs and for Sonarr's and Radarr's download clients, which this version does not declare yet; keep true (the WebUI still asks every other address for its login)"],
  ],
  [
    "the wire account shared with the upload job",
    (s) => void (s.accounts.wire = "mp-upload"),
    [`accounts.wire: "mp-upload" is also accounts.upload; each role needs an account of its own, so that only it can read its secrets file`],
  ],
  [
    "one sops key for two apps' API keys",
    (s) => void (s.apps.radarr.apiKey = { sopsKey: "sonarr/api_key" }),
    ["apps.radarr.apiKey.sopsKey: the sops key sonarr/api_key is also used by apps.sonarr.apiKey.sopsKey; give each secret its own key, so each role holds only its own"],
  ],
];

describe("a spec with one fault is refused with exactly one clear line", () => {
  it.each(cases)("%s", (_name, edit, expected) => {
    expect(problems(specWith(edit))).toEqual(expected);
  });
});

describe("what the safety refusals still accept", () => {
  it("a seeding period of one second, and an archive type that is no media extension", () => {
    expect(problems(specWith((s) => {
      s.cleanup.seedingPeriod = "1s";
      s.upload.archiveTypes.push(".7z");
    }))).toEqual([]);
  });
});

describe("every problem is reported at once", () => {
  it("lists faults from the schema and from the cross-field rules together", () => {
    const spec = specWith((s) => {
      for (const [, edit] of cases.slice(0, 4)) edit(s);
      cases[8]![1](s);
      cases[9]![1](s);
      cases[10]![1](s);
    });
    const lines = problems(spec);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^endpoints\.sonarr\.port: 8080 is already used/),
        expect.stringMatching(/^endpoints\.radarr\.port: 80 is already used by dashboard\.port/),
        expect.stringMatching(/^upload\.extractDir: .* is relative/),
        expect.stringMatching(/^rclone\.mount\.flags\[1\]\.value: "150GB" is not a size/),
        expect.stringMatching(/^timers\.upload\.every: "2 minutes" is not a duration/),
        expect.stringMatching(/^rclone\.mount\.flags\[8\]\.flag: --vfs-read-chunk-streams needs rclone 1\.68/),
      ]),
    );
    expect(lines.length).toBeGreaterThanOrEqual(7);
  });
});
