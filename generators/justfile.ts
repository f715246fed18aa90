/**
 * out/justfile: the operator's commands from the seed's Monitoring and Manual operations sections,
 * run from a laptop over ssh. Paths are quoted twice with just's quote(): once for the remote shell
 * that ssh starts, once for the local shell that runs the recipe line.
 */
import { generatedHeader, type GenerateContext, type GeneratedFile } from "./context.ts";
import { renderJustfile, type JustRecipe } from "./render/just.ts";
import { JOB_UNITS_GLOB, rcListen, SECRET_FILES, UNITS, unitsModel, WIRE_STATE_DIRECTORY } from "./model/units.ts";
import { dashboardUrl } from "./web.ts";
import type { SpecModel } from "../spec/schema.ts";

/** A command run on the server: the whole command is one quoted ssh argument. */
const remote = (command: string) => `ssh {{host}} {{quote(${command})}}`;

/** The recipes, in the order `just --list` is read; the docs name them by `RecipeName`. */
export function operatorRecipes(spec: SpecModel) {
  const rc = rcListen(spec);
  /** root's copy of the RC login (a sops-nix template at its default path). */
  const netrc = `/run/secrets/rendered/${SECRET_FILES.operator}`;
  const rcCall = (method: string) => `"curl -s --netrc-file ${netrc} -X POST http://${rc.address}:${rc.port}${rc.baseUrl}/${method}"`;
  const units = unitsModel(spec);
  /** Starts a oneshot unit and prints its journal lines from this run. */
  const runAndShow = (name: string) => `"t=$(date +%s); systemctl start ${name}; journalctl -u ${name} --since @$t --no-pager -o cat"`;
  const allUnits = [...units.services.map((u) => u.unit.service), ...units.timers.map((t) => t.unit.timer)];
  return [
    { name: "qbt-logs", doc: `Follow the logs of every ${JOB_UNITS_GLOB} service (upload, cleanup, categories)`, lines: [remote(`"journalctl -f -u '${JOB_UNITS_GLOB}'"`)] },
    { name: "upload-status", doc: "Show the upload service's status", lines: [remote(`"systemctl status ${UNITS.upload.name}"`)] },
    { name: "cleanup-status", doc: "Show the cleanup service's status", lines: [remote(`"systemctl status ${UNITS.cleanup.name}"`)] },
    { name: "status", doc: "Show the status of every pipeline unit", lines: [remote(`"systemctl status --no-pager ${allUnits.join(" ")}"`)] },
    { name: "timers", doc: "Show when the upload and cleanup timers run next", lines: [remote(`"systemctl list-timers '${JOB_UNITS_GLOB}'"`)] },
    { name: "upload-now", doc: "Retry a failed upload now instead of waiting for the timer", lines: [remote(`"systemctl start ${UNITS.upload.name}"`)] },
    { name: "cleanup-now", doc: "Free disk early: run cleanup now (remove the torrent in the WebUI first)", lines: [remote(`"systemctl start ${UNITS.cleanup.name}"`)] },
    { name: "wire-now", doc: "Set up the apps now (the wire job) and show what it did", lines: [remote(runAndShow(UNITS.wire.name))] },
    {
      name: "wire-retry-login",
      doc: "Once you have signed in to Jellyfin's web UI with the password in sops: let the wire job log in again, and run it",
      lines: [remote(`"rm -f /var/lib/${WIRE_STATE_DIRECTORY}/jellyfin.json"`), remote(runAndShow(UNITS.wire.name))],
    },
    { name: "wire-plan", doc: "List what the wire job would change in the apps; changes no setting (it logs in to the *arrs to check their logins, never to Jellyfin)", lines: [remote(runAndShow(UNITS.wirePlan.name))] },
    { name: "rclone-logs", doc: "Follow the B2 mount's logs (transfer stats every 30s)", lines: [remote(`"journalctl -u ${UNITS.mount.name} -f"`)] },
    { name: "b2-cache", doc: "VFS cache stats of the B2 mount (size, open files, items cached); ssh as root, which holds the RC login", lines: [remote(rcCall("vfs/stats"))] },
    { name: "b2-transfers", doc: "Active B2 transfers and bandwidth of the mount; ssh as root", lines: [remote(rcCall("core/stats"))] },
    { name: "b2-ls", doc: "List the B2 mount, or a folder in it: just b2-ls 'tv/Some Show/'", params: ['path=""'], lines: [remote(`"ls -la -- " + quote(mount + "/" + path)`)] },
    { name: "b2-warm", doc: "Read a file through the mount so it is cached before playback: just b2-warm 'tv/Show/Season 1/e.mkv'", params: ["path"], lines: [remote(`"cat -- " + quote(mount + "/" + path) + " > /dev/null"`)] },
    { name: "dashboard", doc: "Open the dashboard", lines: [`{{opener}} ${dashboardUrl(spec, "{{host}}")}`] },
  ] as const satisfies readonly JustRecipe[];
}

/** The name of one of the operator's recipes, so the docs cannot name one the justfile lacks. */
export type RecipeName = ReturnType<typeof operatorRecipes>[number]["name"];

export function generateJustfile(ctx: GenerateContext): GeneratedFile {
  const { spec } = ctx;
  return {
    path: "justfile",
    contents: renderJustfile(
      generatedHeader(ctx, `The operator's commands for ${spec.host.name}, run from a laptop. Override the host with: just host=other <recipe>`),
      { host: spec.host.name, mount: spec.b2.mountPoint },
      ['opener := if os() == "macos" { "open" } else { "xdg-open" }'],
      operatorRecipes(spec),
    ),
  };
}
