/**
 * Our modules, through the flake's nixosModules.default, merged with a MODEL of NixOS 26.05's own
 * modules, sops-nix and copyparty (upstream.ts: each fact with its repository, path and commit)
 * by a MODEL of the module system's merge rules (merge.ts). The optional group in real-lib.test.ts
 * checks the same against the real lib.evalModules.
 */
import { execa } from "execa";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { UPSTREAM_SETS } from "../../generators/nixos/modules.ts";
import builder from "../../spec/builder.ts";
import { requireTool, ROOT } from "../helpers.ts";
import { definitionAt, ModuleError } from "./merge.ts";
import { evaluateSystem, lookup, readOurModules, type OurModule } from "./system.ts";
import { NIXOS_RELEASE, TMPFILES_RENDERING, UPSTREAM } from "./upstream.ts";

let ours: OurModule[];
beforeAll(async () => {
  ours = await readOurModules(ROOT);
});

const fault = (file: string, option: string, value: unknown, priority?: number) => ({ file, value: definitionAt(option, value, priority) });
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModuleError) return e.message;
    throw e;
  }
  return "(no error)";
};

describe(`model of NixOS ${NIXOS_RELEASE}: our modules merge with the upstream modules' declarations and definitions`, () => {
  it("the model is for the release the spec names", () => {
    expect(NIXOS_RELEASE).toBe(builder.host.nixosRelease);
  });

  it("every fact names the repository, file and commit it was read from", () => {
    for (const u of UPSTREAM) {
      for (const d of u.declarations) expect(d.source.commit, `${u.name} ${d.option}`).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it("evaluates: no undeclared option, no type error, no conflicting definition", () => {
    const { upstream } = evaluateSystem(ours);
    expect(upstream).toEqual(expect.arrayContaining(["copyparty", "sops-nix"]));
  });

  it("the media services run with the shared group-writable umask after the merge; Prowlarr keeps DynamicUser", () => {
    const { config } = evaluateSystem(ours);
    for (const service of ["qbittorrent", "jellyfin", "copyparty", "sonarr", "radarr"]) {
      expect(lookup(config, `systemd.services.${service}.serviceConfig.UMask`), service).toBe(builder.user.umask);
      expect(lookup(config, `systemd.services.${service}.serviceConfig.User`), service).toBe(builder.user.name);
    }
    expect(lookup(config, "systemd.services.prowlarr.serviceConfig.DynamicUser")).toBe(true);
  });

  it("each unit that reads a secrets file runs as that file's owner, and no two units share a file (issue 12)", () => {
    const { config } = evaluateSystem(ours);
    const templates = lookup(config, "sops.templates") as Record<string, { owner?: string; mode?: string; group?: string | null }>;
    const byPath = new Map(Object.keys(templates).map((name) => [`/run/secrets/rendered/${name}`, name]));
    const services = lookup(config, "systemd.services") as Record<string, { serviceConfig?: Record<string, unknown> }>;
    const readers = new Map<string, string>();
    for (const [unit, s] of Object.entries(services)) {
      const files = ([] as unknown[]).concat(s.serviceConfig?.EnvironmentFile ?? []).filter((f): f is string => typeof f === "string" && byPath.has(f));
      for (const file of files) {
        const name = byPath.get(file)!;
        expect(readers.has(name), `${name} read by ${readers.get(name)} and ${unit}`).toBe(false);
        readers.set(name, unit);
        // systemd reads an EnvironmentFile as root before it switches user (systemd.exec(5)): root or the unit's own account may own it, nobody else.
        const owner = templates[name]!.owner;
        expect({ unit, owner: owner === "root" ? s.serviceConfig!.User ?? "root" : owner, mode: templates[name]!.mode }).toEqual({ unit, owner: s.serviceConfig!.User ?? "root", mode: "0400" });
      }
    }
    expect([...readers.keys()].sort()).toEqual(["prowlarr.env", "radarr.env", "rclone-b2-cleanup.env", "rclone-b2-mount.env", "rclone-b2-upload.env", "sonarr.env"]);
    // The wire job reads the apps' keys and passwords as credentials, straight from the sops secrets (root's, 0400 by default in sops-nix).
    const secrets = lookup(config, "sops.secrets") as Record<string, { owner?: string; path?: string }>;
    for (const unitName of ["media-pipeline-wire", "media-pipeline-wire-plan"]) {
      const credentials = ([] as unknown[]).concat(services[unitName]?.serviceConfig?.LoadCredential ?? []).map(String);
      expect(credentials.map((c) => c.split(":")[0])).toEqual(["sonarr-api-key", "sonarr-password", "radarr-api-key", "radarr-password", "prowlarr-api-key", "prowlarr-password", "jellyfin-password"]);
      // sops-nix puts a secret at /run/secrets/<name>, owned by root unless `owner` says otherwise (modules/sops/default.nix).
      for (const c of credentials) {
        const key = c.slice(c.indexOf(":") + 1).replace(/^\/run\/secrets\//, "");
        expect(secrets[key], c).toBeDefined();
        expect(secrets[key]!.owner ?? "root", c).toBe("root");
      }
    }
    // No media service runs as an account that owns a key.
    for (const service of ["qbittorrent", "jellyfin", "copyparty", "sonarr", "radarr"]) {
      expect(["rclone-b2", "mp-upload", "mp-cleanup", "mp-wire"]).not.toContain(lookup(config, `systemd.services.${service}.serviceConfig.User`));
    }
  });

  it("the generators' record of what upstream sets agrees with the model's facts", () => {
    const { config } = evaluateSystem(ours, { upstream: UPSTREAM });
    // Evaluate each upstream module's own UMask as if we had not forced ours.
    for (const [service, fact] of Object.entries(UPSTREAM_SETS)) {
      const upstreamUmask = UPSTREAM.flatMap((u) => u.definitions((o) => lookup(config, o)))
        .filter((d) => d.option === `systemd.services.${service}.serviceConfig.UMask`)
        .map((d) => d.value);
      expect(upstreamUmask, service).toEqual(fact.umask === undefined ? [] : [fact.umask]);
    }
  });

  it("refuses a plain definition of an option upstream also sets, with nixos-rebuild's message (the fault issue 10 found)", () => {
    // out/nixos/sonarr.nix as it was: the same UMask, without lib.mkForce.
    const before = structuredClone(ours);
    const sonarr = before.find((m) => m.file === "out/nixos/sonarr.nix")!;
    const serviceConfig = lookup(sonarr.module, "systemd.services.sonarr.serviceConfig") as Record<string, { content: unknown }>;
    expect(serviceConfig.UMask).toMatchObject({ _type: "override", priority: 50 });
    serviceConfig.UMask = serviceConfig.UMask!.content as never;
    const message = errorOf(() => evaluateSystem(before));
    expect(message).toContain("The option `systemd.services.sonarr.serviceConfig.UMask' has conflicting definition values:");
    expect(message).toContain("- In `out/nixos/sonarr.nix': \"0002\"");
    expect(message).toMatch(/- In `[^']*sonarr\.nix': "0022"/);
    expect(message).toContain("Use `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions.");
  });

  it("refuses a unit setting an upstream module also sets, at the same priority", () => {
    const message = errorOf(() => evaluateSystem(ours, { extra: [fault("extra.nix", "systemd.services.sonarr.serviceConfig.User", "root")] }));
    expect(message).toMatch(/^The option `systemd\.services\.sonarr\.serviceConfig\.User' has conflicting definition values:\n- In `extra\.nix': "root"\n- In `[^']*sonarr\.nix': "media"\n/);
  });

  it("refuses an undeclared option and a value of the wrong type", () => {
    expect(errorOf(() => evaluateSystem(ours, { extra: [fault("extra.nix", "services.copyparty.listenAddress", "0.0.0.0")] }))).toBe(
      "The option `services.copyparty.listenAddress' does not exist. Definition values:\n- In `extra.nix': \"0.0.0.0\"",
    );
    expect(errorOf(() => evaluateSystem(ours, { extra: [fault("extra.nix", "services.qbittorrent.webuiPort", "8080")] }))).toBe(
      "A definition for option `services.qbittorrent.webuiPort' is not of type `null or 16 bit unsigned integer; between 0 and 65535 (both inclusive)'. Definition values:\n- In `extra.nix': \"8080\"",
    );
  });
});

/** Writes the rules as NixOS would (/etc/tmpfiles.d) into a fresh root with the users NixOS creates, and runs the real systemd-tmpfiles on it. */
async function runTmpfiles(settings: unknown, rules: readonly string[]): Promise<{ root: string; stderr: string }> {
  const tool = requireTool("systemd-tmpfiles");
  const root = mkdtempSync(join(tmpdir(), "mp-tmpfiles-"));
  mkdirSync(join(root, "etc/tmpfiles.d"), { recursive: true });
  // Numbers free on this machine, so ownership is read back by number.
  writeFileSync(
    join(root, "etc/passwd"),
    "root:x:0:0::/root:/bin/sh\nmedia:x:4901:4901::/var/empty:/sbin/nologin\nrclone-b2:x:4902:4902::/var/empty:/sbin/nologin\nmp-upload:x:4903:4901::/var/empty:/sbin/nologin\nmp-cleanup:x:4904:4901::/var/empty:/sbin/nologin\n",
  );
  writeFileSync(join(root, "etc/group"), "root:x:0:\nmedia:x:4901:\nrclone-b2:x:4902:\nmedia-pipeline:x:4905:mp-upload,mp-cleanup\n");
  for (const f of TMPFILES_RENDERING.render(settings as never, [...rules])) writeFileSync(join(root, "etc/tmpfiles.d", f.file), `${f.lines.join("\n")}\n`);
  const run = await execa(tool, ["--create", `--root=${root}`], { reject: false });
  return { root, stderr: run.stderr };
}

describe("systemd-tmpfiles (real, Debian's systemd) on every rule the merged system has", () => {
  it("leaves the download and library folders 0775 media:media, the mount point to the mount's account, the state to the state group (real systemd-tmpfiles)", async () => {
    const { config } = evaluateSystem(ours);
    const run = await runTmpfiles(lookup(config, "systemd.tmpfiles.settings"), (lookup(config, "systemd.tmpfiles.rules") as string[] | undefined) ?? []);
    const { root } = run;
    expect(run.stderr, "no duplicate or invalid lines").toBe("");
    for (const dir of builder.directories.filter((d) => d.filesystem === "root")) {
      const st = statSync(join(root, dir.path));
      expect({ path: dir.path, mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid }).toEqual({ path: dir.path, mode: "775", uid: 4901, gid: 4901 });
    }
    // fusermount3 mounts only where the mounting account may write: the mount point is rclone-b2's.
    const mount = statSync(join(root, builder.b2.mountPoint));
    expect({ mode: (mount.mode & 0o7777).toString(8), uid: mount.uid }).toEqual({ mode: "755", uid: 4902 });
    // The runtime's state and locks: root and the state group only, setgid so new files keep the group.
    for (const dir of ["/var/lib/media-pipeline", "/run/media-pipeline"]) {
      const st = statSync(join(root, dir));
      expect({ dir, mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid }).toEqual({ dir, mode: "2770", uid: 0, gid: 4905 });
    }
  });

  it("shows why copyparty's rules had to go: with them, systemd-tmpfiles keeps copyparty's 755 and ignores ours as duplicates", async () => {
    const { config } = evaluateSystem(ours);
    const settings = structuredClone(lookup(config, "systemd.tmpfiles.settings")) as Record<string, unknown>;
    const copyparty = UPSTREAM.find((u) => u.name === "copyparty")!;
    const view = (o: string) => lookup(config, o);
    for (const d of copyparty.definitions(view)) if (d.option === "systemd.tmpfiles.settings.copyparty") settings.copyparty = d.value;
    expect(settings.copyparty, "copyparty's module writes rules for its volumes").toBeDefined();
    const run = await runTmpfiles(settings, []);
    expect(run.stderr).toContain("Duplicate line for path");
    expect((statSync(join(run.root, "media/arr/tv")).mode & 0o7777).toString(8)).toBe("755");
  });
});

describe("the flake", () => {
  it("takes copyparty's package from copyparty's flake unless the host chooses another", () => {
    const { config } = evaluateSystem(ours);
    expect(lookup(config, "services.copyparty.package")).toMatch(/-copyparty$/);
    expect(readFileSync(join(ROOT, "flake.nix"), "utf8")).toContain(`nixos-${NIXOS_RELEASE}`);
  });
});

