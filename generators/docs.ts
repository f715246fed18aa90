/**
 * out/docs/media-pipeline.md: the seed's description of the system, regenerated from the spec so
 * every number and name in it follows the spec.
 */
import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { projectPath } from "./paths.ts";
import { generatedHeader, type GenerateContext, type GeneratedFile } from "./context.ts";
import { b2RemotePath, categoryUsedBy, rcListen, SECRET_FILES, SECURITY_EXPOSURE, TARGETS, UNITS, unitsModel, WIRE_STATE_DIRECTORY, wireCredentials, type SecretFile, type ServiceModel, type TimerModel } from "./model/units.ts";
import { EVERY_ADDRESS, listeners } from "./model/ports.ts";
import { secretReaders } from "./secrets.ts";
import { RCLONE_FLAGS, isKnownRcloneFlag } from "../spec/rclone-flags.ts";
import { operatorRecipes, type RecipeName } from "./justfile.ts";
import { dashboardUrl, RC_METHODS_VIA_NGINX } from "./web.ts";
import { NIXOS_MODULES } from "./nixos/modules.ts";
import { hashComment } from "./render/comment.ts";
import { humanDuration } from "./render/duration.ts";
import { MARKDOWN_HELPERS, mdCode, mdTable } from "./render/markdown.ts";

const handlebars = Handlebars.create();
handlebars.registerHelper(MARKDOWN_HELPERS);
const template = handlebars.compile(readFileSync(projectPath("generators/templates/docs.md.hbs"), "utf8"), { noEscape: true, strict: true });

/** The recipes the Monitoring section lists, in its order. */
const MONITORING: readonly RecipeName[] = ["qbt-logs", "upload-status", "cleanup-status", "timers", "b2-cache", "b2-transfers", "rclone-logs"];

export function generateDocs(ctx: GenerateContext): GeneratedFile {
  const { spec } = ctx;
  const units = unitsModel(spec);
  const sources = spec.upload.sources;
  const mountFlag = (name: string) => spec.rclone.mount.flags.find((f) => f.flag === name)?.value;
  const linkFs = spec.directories.find((d) => d.path === spec.qbittorrent.defaultSavePath)?.filesystem ?? "";
  const recipes = operatorRecipes(spec);
  const just = (name: RecipeName, arg?: string) => `just ${name}${arg ? ` ${arg}` : ""}`;
  const recipe = (name: RecipeName, arg?: string) => mdCode(just(name, arg));
  const monitoring = MONITORING.map((name) => ({ command: just(name), doc: recipes.find((r) => r.name === name)!.doc }));
  const width = Math.max(...monitoring.map((m) => m.command.length)) + 2;
  const library = sources.filter((s) => s.kind === "library");
  /** A setup step for Sonarr or Radarr: its download category and its library root. */
  const login = (app: keyof typeof spec.apps) => `login ${mdCode(spec.apps[app].login.user)}, password from sops (${mdCode(spec.apps[app].login.password.sopsKey)})`;
  const arrSteps = (app: "sonarr" | "radarr", title: string): string[][] => [
    [`${title}: set an authentication method`, `Forms from the first start (${mdCode(`${app.toUpperCase()}__AUTH__METHOD`)}); the wire job creates the ${login(app)}`],
    [`${title}: add qBittorrent as a download client`, `the wire job: host ${mdCode("localhost")}, port ${spec.endpoints.qbittorrentWebui.port}, category ${mdCode(categoryUsedBy(spec, app))}, Remove Completed off (cleanup decides when a torrent leaves qBittorrent)`],
    [`${title}: set the root folder`, `the wire job: ${spec.apps[app].rootFolders.map(mdCode).join(", ")} (${mdCode(`apps.${app}.rootFolders`)})`],
  ];
  const schedule = (t: TimerModel) => `every ${t.timerConfig.OnUnitActiveSec} (${t.timerConfig.OnBootSec} after boot)`;
  const trigger = (service: ServiceModel) => {
    const t = units.timers.find((x) => x.unit === service.unit);
    if (t) return `Timer: ${schedule(t)}`;
    if (service.wantedBy.length === 0) return "By hand";
    const after = service.after.filter((a) => a !== TARGETS.networkOnline);
    return after.length > 0 ? `Boot, after ${after.join(", ")}` : "Boot";
  };
  const unitRows = [
    ...units.timers.map((t) => ({ name: t.unit.timer, type: "timer", trigger: schedule(t), what: t.why })),
    ...units.services.map((u) => ({ name: u.unit.service, type: String(u.serviceConfig.Type), trigger: trigger(u), what: u.why })),
  ].sort((a, b) => a.name.localeCompare(b.name));
  const rcPath = spec.endpoints.rcloneRc.path ?? "";

  const view = {
    header: generatedHeader(ctx, "").trim(),
    host: spec.host.name,
    remote: b2RemotePath(spec),
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
    dashboardUrl: dashboardUrl(spec),
    linkFilesystem: linkFs,
    linkDevice: spec.filesystems[linkFs]?.device,
    unitNames: { upload: UNITS.upload.service, cleanup: UNITS.cleanup.service, mount: UNITS.mount.service },
    tables: {
      services: mdTable(
        ["Service", "Port", "Dashboard path", "Purpose"],
        Object.values(spec.endpoints).map((e) => [e.name, e.port, e.path ? mdCode(e.path) : "—", e.purpose]),
      ),
      directories: mdTable(["Path", "Filesystem", "Purpose"], spec.directories.map((d) => [mdCode(d.path), d.filesystem, d.purpose])),
      units: mdTable(["Unit", "Type", "Trigger", "What it does"], unitRows.map((u) => [mdCode(u.name), u.type, u.trigger, u.what])),
      exposure: mdTable(["Unit", "Exposure"], Object.entries(SECURITY_EXPOSURE).map(([unit, score]) => [mdCode(unit), score])),
      ports: mdTable(
        ["Service", "Port", "Address", "Reachable from", "Asks for", "Firewall"],
        listeners(spec).map((l) => [l.service, `${l.port}/${l.protocol}`, l.address === EVERY_ADDRESS ? l.address : mdCode(l.address), l.reach, l.credentials, l.firewall ? "open" : "closed"]),
      ),
      secretFiles: mdTable(
        ["File", "Readable by", "Holds"],
        (Object.entries(secretReaders(spec)) as [SecretFile, ReturnType<typeof secretReaders>[SecretFile]][]).map(([f, r]) => [
          mdCode(SECRET_FILES[f]),
          r.unit ? `${r.account} (${r.unit})` : r.account,
          r.holds,
        ]),
      ),
      mountFlags: mdTable(
        ["Flag", "Default", "Ours", "Why"],
        spec.rclone.mount.flags.map((f) => [
          mdCode(f.flag),
          isKnownRcloneFlag(f.flag) ? RCLONE_FLAGS[f.flag].default : "?",
          f.value === true ? "on" : String(f.value),
          f.reason,
        ]),
      ),
      setup: mdTable(
        ["The seed's manual step", "Now done by"],
        [
          ["Prowlarr: set an authentication method", `Forms from the first start; the wire job creates the ${login("prowlarr")}`],
          ["Prowlarr: add your indexers", "**you** (below): they hold your own accounts"],
          ...(["sonarr", "radarr"] as const).map((app) => [
            `Prowlarr: add ${app === "sonarr" ? "Sonarr" : "Radarr"} as an application, copying its API key`,
            `the wire job: ${mdCode(`http://localhost:${spec.endpoints[app].port}`)}, Full Sync, the key from sops (${mdCode(spec.apps[app].apiKey.sopsKey)}), which the app also reads`,
          ]),
          ...arrSteps("sonarr", "Sonarr"),
          ...arrSteps("radarr", "Radarr"),
          ["Jellyfin: the first-run wizard", `the wire job: administrator ${mdCode(spec.apps.jellyfin.login.user)} (password from sops), remote access ${spec.apps.jellyfin.remoteAccess ? "on" : "off (local networks only)"}`],
          ...Object.entries(spec.apps.jellyfin.libraries).map(([name, l]) => [
            `Jellyfin: the ${name} library`,
            `the wire job: ${l.paths.map(mdCode).join(" + ")} (${l.type}); a B2 folder is added once it exists, after the first upload to it`,
          ]),
        ],
      ),
      manual: mdTable(
        ["Action", "Command"],
        [
          ["Free disk early", `Remove the torrent in the WebUI, then ${recipe("cleanup-now")}`],
          ["Retry a failed upload", recipe("upload-now")],
          ["Force a Jellyfin rescan", "Jellyfin dashboard > Scheduled Tasks > Scan Media Library > Run"],
          ["Check B2 contents", recipe("b2-ls", Object.values(spec.b2.prefixes)[0])],
          ["Browse the B2 mount", `${recipe("b2-ls")} (root) or ${recipe("b2-ls", "'tv/Some Show/'")}`],
          ["Warm a file before playback", recipe("b2-warm", "'tv/Some Show/Season 1/episode.mkv'")],
          ["Check VFS cache stats", recipe("b2-cache")],
          ["Query the mount's RC from the laptop", `${mdCode(`rclone rc --url http://${spec.host.name}${rcPath} --user ${spec.secrets.rcloneRc.user} --pass … vfs/stats`)} (the dashboard's ${mdCode(rcPath)})`],
        ],
      ),
    },
    quietPeriod: humanDuration(spec.upload.quietPeriod),
    archiveTypes: spec.upload.archiveTypes.map(mdCode).join(", "),
    extractDir: spec.upload.extractDir,
    uploadFlags: spec.upload.flags.map((f) => mdCode(f.value === true ? f.flag : `${f.flag} ${String(f.value)}`)).join(" and "),
    extractedPrefix: spec.upload.extractedPrefix,
    downloadsPrefix: spec.upload.sources.find((s) => s.kind === "uncategorized")?.prefix ?? "downloads/",
    attentionAfter: spec.upload.attentionAfterFailures,
    orphanGrace: humanDuration(spec.cleanup.orphanGrace),
    maxDeletions: spec.cleanup.maxDeletionsPerRun,
    rcloneVersion: spec.rclone.version,
    rc: { ...rcListen(spec), user: spec.secrets.rcloneRc.user, passwordKey: spec.secrets.rcloneRc.password.sopsKey },
    accounts: spec.accounts,
    rcMethods: [...RC_METHODS_VIA_NGINX],
    appLoginsCreated: spec.appLogins === "created",
    mountExposure: SECURITY_EXPOSURE[UNITS.mount.service],
    keyCommands: (["mount", "upload", "cleanup"] as const).map(
      (role) => `b2 key create --bucket ${spec.b2.bucket} ${spec.host.name}-${role} ${spec.secrets.b2Keys[role].capabilities.join(",")}`,
    ),
    rcPort: spec.endpoints.rcloneRc.port,
    rcPath,
    monitoring: monitoring.map((m) => `${m.command}${" ".repeat(width - m.command.length)}${hashComment(m.doc)}`),
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
    wireUnit: UNITS.wire.service,
    wireEvery: humanDuration(spec.timers.wire.every),
    wireAfterBoot: humanDuration(spec.timers.wire.afterBoot),
    wireStateDir: `/var/lib/${WIRE_STATE_DIRECTORY}`,
    wireCredentialKeys: wireCredentials(spec).map(([, key]) => mdCode(key)).join(", "),
    wirePlan: recipe("wire-plan"),
    prowlarrUser: spec.apps.prowlarr.login.user,
  };
  return { path: "docs/media-pipeline.md", contents: template(view) };
}
