/** The generated docs follow the spec, and a one-value change in the spec is a small, exact diff. */
import { describe, expect, it } from "vitest";
import builder from "../../spec/builder.ts";
import { RCLONE_FLAGS } from "../../spec/rclone-flags.ts";
import { fileOf, generateFrom, specWith } from "../helpers.ts";

describe("changing one port in the spec", () => {
  it("changes exactly the lines that mention it, across all of out/", () => {
    const before = generateFrom(specWith());
    const after = generateFrom(specWith((s) => void (s.endpoints.sonarr.port = 8990)));
    expect(after.map((f) => f.path)).toEqual(before.map((f) => f.path));
    let changed = 0;
    before.forEach((file, i) => {
      const a = file.contents.split("\n");
      const b = after[i]!.contents.split("\n");
      expect(b.length, file.path).toBe(a.length);
      a.forEach((line, n) => {
        const mentions = /\b8989\b/.test(line);
        if (line !== b[n]) {
          changed++;
          expect(mentions, `${file.path}:${n + 1} changed but does not mention the port: ${line}`).toBe(true);
          expect(b[n]).toBe(line.replace(/\b8989\b/g, "8990"));
        } else {
          expect(mentions, `${file.path}:${n + 1} mentions the port but did not change: ${line}`).toBe(false);
        }
      });
    });
    // The services table, the dashboard page, nginx (standalone and NixOS), sonarr.nix, and the setup steps.
    expect(changed).toBeGreaterThanOrEqual(7);
  });
});

describe("out/docs/media-pipeline.md", () => {
  const docs = fileOf(generateFrom(specWith()), "docs/media-pipeline.md");

  it("covers every section of the seed document", () => {
    for (const heading of ["## Flow", "## Services", "## Directories on builder", "## Hard links", "## Systemd units", "## Upload details", "## Cleanup details", "## rclone mount", "### RC API", "### The mount's account", "## Network exposure", "## Keys and logins", "## Monitoring", "## Manual operations", "## Disk usage during seeding", "## NixOS modules", "## Setup after deploying", "### What is still manual: indexers"]) {
      expect(docs).toContain(`\n${heading}`);
    }
  });

  it("lists each of the seed's manual setup steps with what now does it (issue 13)", () => {
    for (const step of [
      "Prowlarr: set an authentication method",
      "Prowlarr: add your indexers | **you**",
      "Prowlarr: add Sonarr as an application, copying its API key | the wire job",
      "Prowlarr: add Radarr as an application, copying its API key | the wire job",
      "Sonarr: add qBittorrent as a download client | the wire job: host `localhost`, port 8080, category `tv-sonarr`, Remove Completed off",
      "Sonarr: set the root folder | the wire job: `/media/arr/tv`",
      "Radarr: add qBittorrent as a download client | the wire job: host `localhost`, port 8080, category `radarr`, Remove Completed off",
      "Radarr: set the root folder | the wire job: `/media/arr/movies`",
      "Jellyfin: the first-run wizard | the wire job",
      "Jellyfin: the TV Shows library | the wire job: `/media/arr/tv` + `/media/b2/tv` (tvshows)",
      "Jellyfin: the Movies library | the wire job: `/media/arr/movies` + `/media/b2/movies` (movies)",
    ]) {
      expect(docs).toContain(`| ${step}`);
    }
  });

  it("has a row per service, directory and unit, with the spec's values", () => {
    for (const e of Object.values(builder.endpoints)) expect(docs).toContain(`| ${e.name.replace(/\|/g, "\\|")} | ${e.port} | ${e.path ? `\`${e.path}\`` : "—"} | ${e.purpose.replace(/\|/g, "\\|")} |`);
    for (const d of builder.directories) expect(docs).toContain(`| \`${d.path}\` | ${d.filesystem} | ${d.purpose} |`);
    expect(docs).toContain("| `qbt-upload-b2.timer` | timer | every 2min (1min after boot) | Starts qbt-upload-b2.service |");
    expect(docs).toContain("| `qbt-cleanup.timer` | timer | every 10min (5min after boot) | Starts qbt-cleanup.service |");
    expect(docs).toContain("| `rclone-b2-mount.service` | notify | Boot |");
    expect(docs).toContain("| `qbt-categories.service` | oneshot | Boot, after qbittorrent.service |");
  });

  it("gives each rclone flag its default, our value and the reason", () => {
    for (const f of builder.rclone.mount.flags) {
      const def = RCLONE_FLAGS[f.flag as keyof typeof RCLONE_FLAGS].default;
      expect(docs).toContain(`| \`${f.flag}\` | ${def} | ${f.value === true ? "on" : f.value} | ${f.reason} |`);
    }
    expect(docs).toContain("| `--buffer-size` | 16M | 512M |");
    expect(docs).toContain("| `--vfs-read-ahead` | 0 | 1G |");
  });

  it("lists the monitoring commands and manual operations with the justfile's recipes", () => {
    for (const recipe of ["just qbt-logs", "just b2-cache", "just timers", "just rclone-logs", "`just upload-now`", "`just cleanup-now`", "`just b2-warm 'tv/Some Show/Season 1/episode.mkv'`", "`just b2-ls tv/`"]) {
      expect(docs).toContain(recipe);
    }
  });
});
