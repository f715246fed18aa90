/**
 * out/docs/media-pipeline.md: the seed's description of the system, regenerated from the spec so
 * every number and name in it follows the spec.
 */
import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { projectPath } from "./paths.ts";
import { generatedHeader, type GenerateContext, type GeneratedFile } from "./context.ts";
import { unitsModel } from "./model/units.ts";
import { durationToSeconds } from "../spec/syntax.ts";
import { RCLONE_FLAGS, isKnownRcloneFlag } from "../spec/rclone-flags.ts";
import { operatorRecipes } from "./justfile.ts";
import { NIXOS_MODULES } from "./nixos/modules.ts";
import exposure from "./data/security-exposure.json" with { type: "json" };

const handlebars = Handlebars.create();
/** A Markdown table cell: pipes escaped, line breaks flattened. */
handlebars.registerHelper("md", (text: unknown) => String(text).replace(/\|/g, "\\|").replace(/\n/g, " "));
const template = handlebars.compile(readFileSync(projectPath("generators/templates/docs.md.hbs"), "utf8"), { noEscape: true, strict: true });

/** `7d` as "7 days", `1h30m` as "1 hour 30 minutes", for prose. */
function humanDuration(value: string): string {
  let rest = durationToSeconds(value);
  const parts: string[] = [];
  for (const [unit, seconds] of [["day", 86_400], ["hour", 3_600], ["minute", 60], ["second", 1]] as const) {
    const n = Math.floor(rest / seconds);
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? "" : "s"}`);
    rest -= n * seconds;
  }
  return parts.join(" ");
}

export function generateDocs(ctx: GenerateContext): GeneratedFile {
  const { spec } = ctx;
  const units = unitsModel(spec);
  const sources = spec.upload.sources;
  const mountFlag = (name: string) => spec.rclone.mount.flags.find((f) => f.flag === name)?.value;
  const linkFs = spec.directories.find((d) => d.path === spec.qbittorrent.defaultSavePath)?.filesystem ?? "";
  const recipes = operatorRecipes(spec);
  const recipe = (name: string, arg?: string) => `\`just ${name}${arg ? ` ${arg}` : ""}\``;
  const monitoring = ["qbt-logs", "upload-status", "cleanup-status", "timers", "b2-cache", "b2-transfers", "rclone-logs"].map((name) => {
    const r = recipes.find((x) => x.name === name)!;
    return { command: `just ${name}`, doc: r.doc };
  });
  const width = Math.max(...monitoring.map((m) => m.command.length)) + 2;
  const sonarrCat = Object.entries(spec.qbittorrent.categories).find(([, c]) => c.usedBy === "sonarr");
  const radarrCat = Object.entries(spec.qbittorrent.categories).find(([, c]) => c.usedBy === "radarr");
  const library = sources.filter((s) => s.kind === "library");
  const libraryFor = (prefix: string) => library.find((s) => s.prefix === prefix)?.path ?? "";
  const timerFor = (name: string) => units.timers.find((t) => t.name === name);
  const trigger = (name: string) => {
    const t = timerFor(name);
    if (t) return `Timer: every ${t.timerConfig.OnUnitActiveSec} (${t.timerConfig.OnBootSec} after boot)`;
    const unit = units.services.find((u) => u.name === name)!;
    return unit.after.some((a) => a !== "network-online.target") ? `Boot, after ${unit.after.filter((a) => a !== "network-online.target").join(", ")}` : "Boot";
  };
  const unitRows = [
    ...units.timers.map((t) => ({ name: `${t.name}.timer`, type: "timer", trigger: `every ${t.timerConfig.OnUnitActiveSec} (${t.timerConfig.OnBootSec} after boot)`, what: `Starts ${t.name}.service` })),
    ...units.services.map((u) => ({ name: `${u.name}.service`, type: String(u.serviceConfig.Type), trigger: trigger(u.name), what: u.why })),
  ].sort((a, b) => a.name.localeCompare(b.name));

  const view = {
    header: generatedHeader(ctx, "").trim(),
    host: spec.host.name,
    remote: `${spec.b2.remote}:${spec.b2.bucket}`,
    mountPoint: spec.b2.mountPoint,
    seedingPeriod: humanDuration(spec.cleanup.seedingPeriod),
    tempPath: spec.qbittorrent.tempPath,
    completed: spec.qbittorrent.defaultSavePath,
    librarySources: library,
    uncategorizedSources: sources.filter((s) => s.kind === "uncategorized"),
    uploadEvery: humanDuration(spec.timers.upload.every),
    user: spec.user.name,
    group: spec.user.group,
    umask: spec.user.umask,
    dashboardPort: spec.dashboard.port,
    dashboardPortSuffix: spec.dashboard.port === 80 ? "" : `:${spec.dashboard.port}`,
    endpoints: Object.values(spec.endpoints),
    directories: spec.directories,
    linkFilesystem: linkFs,
    linkDevice: spec.filesystems[linkFs]?.device,
    units: unitRows,
    exposure,
    quietPeriod: humanDuration(spec.upload.quietPeriod),
    archiveTypes: spec.upload.archiveTypes.map((t) => `\`${t}\``).join(", "),
    extractDir: spec.upload.extractDir,
    uploadFlags: spec.upload.flags.map((f) => `\`${f.value === true ? f.flag : `${f.flag} ${String(f.value)}`}\``).join(" and "),
    marker: spec.upload.marker,
    ignorable: spec.cleanup.ignorable.map((p) => `\`${p}\``).join(", "),
    maxDeletions: spec.cleanup.maxDeletionsPerRun,
    rcloneVersion: spec.rclone.version,
    mountFlags: spec.rclone.mount.flags.map((f) => ({
      flag: f.flag,
      default: isKnownRcloneFlag(f.flag) ? RCLONE_FLAGS[f.flag].default : "?",
      ours: f.value === true ? "on" : String(f.value),
      reason: f.reason,
    })),
    rcPort: spec.endpoints.rcloneRc.port,
    rcPath: spec.endpoints.rcloneRc.path ?? "",
    monitoring: monitoring.map((m) => ({ ...m, pad: " ".repeat(width - m.command.length) })),
    manual: [
      { action: "Free disk early", command: `Remove the torrent in the WebUI, then ${recipe("cleanup-now")}` },
      { action: "Retry a failed upload", command: recipe("upload-now") },
      { action: "Force a Jellyfin rescan", command: "Jellyfin dashboard > Scheduled Tasks > Scan Media Library > Run" },
      { action: "Check B2 contents", command: `${recipe("b2-ls", Object.values(spec.b2.prefixes)[0])}` },
      { action: "Browse the B2 mount", command: `${recipe("b2-ls")} (root) or ${recipe("b2-ls", "'tv/Some Show/'")}` },
      { action: "Warm a file before playback", command: recipe("b2-warm", "'tv/Some Show/Season 1/episode.mkv'") },
      { action: "Check VFS cache stats", command: recipe("b2-cache") },
      { action: "Open the rclone web GUI", command: `${recipe("rclone-gui")}, or the dashboard's \`${spec.endpoints.rcloneRc.path ?? ""}\`` },
    ],
    cacheMaxSize: String(mountFlag("--vfs-cache-max-size") ?? "unlimited"),
    cacheMaxAge: String(mountFlag("--vfs-cache-max-age") ?? RCLONE_FLAGS["--vfs-cache-max-age"].default),
    modules: NIXOS_MODULES.map((m) => ({ file: `${m.name}.nix`, what: m.doc })),
    ports: {
      prowlarr: spec.endpoints.prowlarr.port,
      sonarr: spec.endpoints.sonarr.port,
      radarr: spec.endpoints.radarr.port,
      jellyfin: spec.endpoints.jellyfin.port,
      qbittorrent: spec.endpoints.qbittorrentWebui.port,
    },
    bypassLocalhostAuth: spec.qbittorrent.bypassLocalhostAuth,
    arrs: [
      { step: 2, title: "Sonarr", port: spec.endpoints.sonarr.port, category: sonarrCat?.[0] ?? "", categoryPath: sonarrCat?.[1].savePath ?? "", root: libraryFor(spec.b2.prefixes.tv ?? "tv/") },
      { step: 3, title: "Radarr", port: spec.endpoints.radarr.port, category: radarrCat?.[0] ?? "", categoryPath: radarrCat?.[1].savePath ?? "", root: libraryFor(spec.b2.prefixes.movies ?? "movies/") },
    ],
    jellyfinStep: 4,
    jellyfinLibraries: library.map((s) => ({
      title: s.prefix.startsWith("tv") ? "TV Shows" : s.prefix.startsWith("movies") ? "Movies" : s.prefix,
      local: s.path,
      remote: `${spec.b2.mountPoint}/${s.prefix.replace(/\/$/, "")}`,
    })),
  };
  return { path: "docs/media-pipeline.md", contents: template(view) };
}
