/**
 * The "builder" home server, exactly as the hand-written description of the running system (the seed) describes it.
 * `npm run generate` compiles this file into out/. Change a value here, regenerate, and review
 * the diff of out/ in the pull request.
 */
import { defineSpec } from "./schema.ts";

const qbt = "/var/lib/qBittorrent";
const completed = `${qbt}/completed`;

export default defineSpec({
  host: { name: "builder", nixosRelease: "26.05" },

  user: { name: "media", group: "media", umask: "0002" },

  // Each part that holds a secret runs as its own account and reads only its own secrets file.
  accounts: { mount: "rclone-b2", upload: "mp-upload", cleanup: "mp-cleanup", wire: "mp-wire", stateGroup: "media-pipeline" },

  dashboard: { port: 80, title: "builder" },

  // The seed's "Setup Sonarr/Prowlarr" steps, done by the wire job: API keys chosen here (sops), logins,
  // the qBittorrent download client (category from qbittorrent.categories), root folders, Prowlarr's
  // apps with Full Sync, and Jellyfin's wizard and libraries (local first, then the B2 copy).
  apps: {
    sonarr: { apiKey: { sopsKey: "sonarr/api_key" }, login: { user: "admin", password: { sopsKey: "sonarr/password" } }, rootFolders: ["/media/arr/tv"] },
    radarr: { apiKey: { sopsKey: "radarr/api_key" }, login: { user: "admin", password: { sopsKey: "radarr/password" } }, rootFolders: ["/media/arr/movies"] },
    prowlarr: { apiKey: { sopsKey: "prowlarr/api_key" }, login: { user: "admin", password: { sopsKey: "prowlarr/password" } } },
    jellyfin: {
      login: { user: "admin", password: { sopsKey: "jellyfin/admin_password" } },
      remoteAccess: false,
      libraries: {
        "TV Shows": { type: "tvshows", paths: ["/media/arr/tv", "/media/b2/tv"] },
        Movies: { type: "movies", paths: ["/media/arr/movies", "/media/b2/movies"] },
      },
    },
  },

  // Sonarr, Radarr, Prowlarr and Jellyfin let anyone in until their first-run setup creates a login.
  // Their ports stay closed to the LAN until this says "created" (docs: "Setup after deploying").
  appLogins: "not-yet-created",

  endpoints: {
    qbittorrentWebui: { name: "qBittorrent WebUI", purpose: "Torrent management", port: 8080, path: "/qbt/" },
    qbittorrentPeer: { name: "qBittorrent peer", purpose: "BitTorrent incoming connections", port: 6881 },
    jellyfin: { name: "Jellyfin", purpose: "Media streaming", port: 8096, path: "/jellyfin/" },
    copyparty: { name: "Copyparty", purpose: "File browser / WebDAV", port: 3923, path: "/files/" },
    rcloneRc: {
      name: "rclone RC",
      purpose: "B2 mount cache stats and transfers (RC on 127.0.0.1; the dashboard's page asks for the RC login)",
      // Below 1024: no unprivileged account can listen there while the mount is down and collect the login nginx forwards.
      port: 572,
      path: "/rclone/",
    },
    sonarr: { name: "Sonarr", purpose: "TV series search and download manager", port: 8989, path: "/sonarr/" },
    radarr: { name: "Radarr", purpose: "Movie search and download manager", port: 7878, path: "/radarr/" },
    prowlarr: { name: "Prowlarr", purpose: "Indexer manager for Sonarr/Radarr", port: 9696, path: "/prowlarr/" },
  },

  // Hard links only work inside one filesystem: downloads and the library share `root`.
  filesystems: {
    root: { kind: "local", device: "/dev/sda1", description: "System disk; downloads and the library share it so imports are hard links" },
    b2: { kind: "rclone-mount", description: "rclone FUSE mount of the B2 bucket; hard links cannot cross into it" },
  },

  directories: [
    { path: `${qbt}/downloading`, purpose: "In-progress downloads (TempPath)", filesystem: "root", mode: "0775" },
    { path: completed, purpose: "Finished downloads, seeding here (uncategorized)", filesystem: "root", mode: "0775" },
    { path: `${completed}/tv`, purpose: "TV series from Sonarr (`tv-sonarr` category)", filesystem: "root", mode: "0775" },
    { path: `${completed}/movies`, purpose: "Movies from Radarr (`radarr` category)", filesystem: "root", mode: "0775" },
    { path: `${qbt}/extracted`, purpose: "Temporary archive extraction (ephemeral)", filesystem: "root", mode: "0775" },
    { path: "/media/arr/tv", purpose: "Sonarr root folder — hard links from completed/tv/ with clean names", filesystem: "root", mode: "0775" },
    { path: "/media/arr/movies", purpose: "Radarr root folder — hard links from completed/movies/ with clean names", filesystem: "root", mode: "0775" },
    { path: "/media/b2", purpose: "rclone FUSE mount of `b2:entertainment-netmount`", filesystem: "b2", mode: "0755" },
    { path: "/media/b2/tv", purpose: "TV uploads on B2 (clean names)", filesystem: "b2", mode: "0755" },
    { path: "/media/b2/movies", purpose: "Movie uploads on B2 (clean names)", filesystem: "b2", mode: "0755" },
    { path: "/media/b2/downloads", purpose: "Uncategorized uploads on B2 (torrent names)", filesystem: "b2", mode: "0755" },
  ],

  qbittorrent: {
    profileDir: qbt,
    tempPath: `${qbt}/downloading`,
    defaultSavePath: completed,
    categories: {
      "tv-sonarr": { savePath: `${completed}/tv`, usedBy: "sonarr" },
      radarr: { savePath: `${completed}/movies`, usedBy: "radarr" },
    },
    // Sonarr and Radarr talk to qBittorrent over localhost without credentials.
    bypassLocalhostAuth: true,
  },

  b2: {
    remote: "b2",
    bucket: "entertainment-netmount",
    mountPoint: "/media/b2",
    prefixes: { tv: "tv/", movies: "movies/", downloads: "downloads/", extracted: "extracted/" },
  },

  rclone: {
    version: "1.69.1",
    mount: {
      flags: [
        { flag: "--vfs-cache-mode", value: "full", reason: "Files are cached to local disk on access, so seeking and re-reads never go back to B2." },
        { flag: "--vfs-cache-max-size", value: "150G", reason: "Caps the cache on the system disk; the oldest files are evicted first." },
        { flag: "--vfs-cache-max-age", value: "7d", reason: "Matches the seeding period: what was watched this week stays local." },
        { flag: "--dir-cache-time", value: "1m", reason: "Controls how quickly new B2 content appears in the mount." },
        { flag: "--allow-other", value: true, reason: "Lets Jellyfin and Copyparty (running as the media user) read the mount, which belongs to the mount's own account." },
        { flag: "--read-only", value: true, reason: "The mount only reads: its B2 key cannot write, and a write through the mount fails at once instead of at upload." },
        { flag: "--buffer-size", value: "512M", reason: "Per-file in-memory read buffer. Larger buffer = fewer round-trips to B2." },
        {
          flag: "--vfs-read-ahead",
          value: "1G",
          reason: "Background prefetch beyond the current read position, so data is ready before the player needs it. Key flag for smooth streaming.",
        },
        { flag: "--vfs-read-chunk-streams", value: 4, reason: "Downloads 4 chunks in parallel instead of sequentially, to fill the read-ahead buffer faster." },
        { flag: "--vfs-fast-fingerprint", value: true, reason: "Cache validation uses size+modtime instead of hash, so files are not re-downloaded just to check a cache entry." },
        { flag: "--rc", value: true, reason: "Exposes the RC API for cache stats (vfs/stats) and transfer monitoring (core/stats), on 127.0.0.1 with the RC login." },
        { flag: "--stats", value: "30s", reason: "Logs transfer statistics to the journal every 30 seconds." },
      ],
    },
  },

  upload: {
    sources: [
      { path: "/media/arr/tv", prefix: "tv/", kind: "library" },
      { path: "/media/arr/movies", prefix: "movies/", kind: "library" },
      { path: completed, prefix: "downloads/", kind: "uncategorized" },
    ],
    flags: [
      { flag: "--checksum", value: true, reason: "Compares size and hash (SHA1 on B2), so a changed file is never mistaken for an uploaded one." },
      { flag: "--stats", value: "30s", reason: "Progress in the journal every 30 seconds during long uploads." },
    ],
    archiveTypes: [".zip", ".rar"],
    extractDir: `${qbt}/extracted`,
    extractedPrefix: "extracted/",
    quietPeriod: "2m",
    attentionAfterFailures: 3,
  },

  cleanup: {
    seedingPeriod: "7d",
    orphanGrace: "1d",
    maxDeletionsPerRun: 50,
  },

  timers: {
    upload: { afterBoot: "1m", every: "2m" },
    cleanup: { afterBoot: "5m", every: "10m" },
    wire: { afterBoot: "2m", every: "1h" },
    categoriesAfter: ["qbittorrent.service"],
  },

  copyparty: {
    accounts: { admin: { password: { sopsKey: "copyparty/admin_password" } } },
    volumes: {
      "/b2": { path: "/media/b2", read: ["admin"] },
      "/tv": { path: "/media/arr/tv", read: ["admin"] },
      "/movies": { path: "/media/arr/movies", read: ["admin"] },
    },
  },

  secrets: {
    provider: "sops-nix",
    sopsFile: "./secrets/b2.yaml",
    ageKeyFile: "/var/lib/sops-nix/key.txt",
    b2Keys: {
      mount: { keyId: { sopsKey: "b2/mount/key_id" }, applicationKey: { sopsKey: "b2/mount/application_key" }, capabilities: ["listBuckets", "listFiles", "readFiles"] },
      upload: { keyId: { sopsKey: "b2/upload/key_id" }, applicationKey: { sopsKey: "b2/upload/application_key" }, capabilities: ["listBuckets", "listFiles", "readFiles", "writeFiles"] },
      cleanup: { keyId: { sopsKey: "b2/cleanup/key_id" }, applicationKey: { sopsKey: "b2/cleanup/application_key" }, capabilities: ["listBuckets", "listFiles"] },
    },
    rcloneRc: { user: "admin", password: { sopsKey: "rclone/rc_password" } },
  },

  standalone: {
    binDir: "/usr/bin",
    runtimeDir: "/opt/media-pipeline",
    wwwRoot: "/var/www/media-pipeline",
    secretsDir: "/etc/media-pipeline/secrets",
  },
});
