/**
 * Escaping, proven by round trips through the real consumers: random strings full of quotes,
 * backslashes, `${`, `$`, newlines, unicode and spaces go into the spec, and come out of Nix, nginx,
 * just and systemd unchanged, or are refused by validation with a clear message.
 */
import fc from "fast-check";
import { execa } from "execa";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { escapeNixString } from "../generators/render/nix.ts";
import { formatProblem, validateSpec } from "../spec/validate.ts";
import { evalModule, evalNix, fileOf, generateFrom, requireTool, ROOT, specWith, writeTree } from "./helpers.ts";

const tricky = (withNewlines: boolean) =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom("'", '"', "\\", "${", "$", "`", " ", "é", "日本", "✓", "%", ";", "{", "}", "#", "*", "$(x)", "''", "''$", ...(withNewlines ? ["\n", "\t"] : [])),
        fc.string({ unit: "grapheme-ascii", maxLength: 3 }).filter((s) => !/[\x00-\x1f\x7f/]/.test(s)),
      ),
      { minLength: 1, maxLength: 8 },
    )
    .map((parts) => parts.join(""));

describe("Nix", () => {
  it("strings evaluate back to themselves (300 random strings, one nix-instantiate)", async () => {
    const samples = fc.sample(tricky(true), { numRuns: 300, seed: 42 });
    const expression = `[ ${samples.map((s) => `"${escapeNixString(s)}"`).join(" ")} ]`;
    expect(await evalNix(expression)).toEqual(samples);
  });

  it("a directory path with awkward characters survives generation into default.nix", async () => {
    await fc.assert(
      fc.asyncProperty(tricky(false), async (name) => {
        const path = `/media/arr/${name.replace(/\//g, "_")}`.replace(/\/+$/, "") || "/media/arr/x";
        const spec = specWith((s) => {
          s.directories[5]!.path = path;
          s.upload.sources[0]!.path = path;
          s.copyparty.volumes["/tv"]!.path = path;
          s.apps.sonarr.rootFolders[0] = path;
          s.apps.jellyfin.libraries["TV Shows"]!.paths[0] = path;
          // Jellyfin's B2 copy is named after the source's prefix, which stays tv/.
        });
        const result = validateSpec(spec);
        if (!result.ok) {
          // Only a path that is not normalised (a `.` or `..` segment) may be refused, and then clearly.
          expect(result.problems.map(formatProblem).join("\n")).toMatch(/is not normalised; write |contains a '\.\.' segment/);
          return;
        }
        const dir = writeTree(generateFrom(spec));
        const module = await evalModule(dir, "default");
        expect(Object.keys(module.config.systemd.tmpfiles.settings["media-pipeline"])).toContain(path);
      }),
      { numRuns: 15, seed: 7 },
    );
  }, 60_000);
});

describe("nginx", () => {
  it("accepts the config for any web root without '$', and validation refuses one with '$'", async () => {
    const nginx = requireTool("nginx");
    await fc.assert(
      fc.asyncProperty(tricky(false), async (name) => {
        const root = `/srv/${name.replace(/\//g, "_")}`;
        const spec = specWith((s) => void (s.standalone.wwwRoot = root));
        const result = validateSpec(spec);
        if (root.includes("$")) {
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.problems.map(formatProblem)).toContain(`standalone.wwwRoot: ${JSON.stringify(root)} contains '$', which nginx would read as a variable; choose a folder without '$'`);
          return;
        }
        if (!result.ok) {
          expect(result.problems.map(formatProblem).join("\n")).toMatch(/is not normalised; write |contains a '\.\.' segment/);
          return;
        }
        const dir = mkdtempSync(join(tmpdir(), "mp-nginx-esc-"));
        writeFileSync(join(dir, "nginx.conf"), fileOf(generateFrom(spec), "nginx/nginx.conf"));
        const t = await execa(nginx, ["-t", "-p", dir, "-c", join(dir, "nginx.conf"), "-g", `pid ${dir}/nginx.pid; error_log stderr;`], { reject: false });
        expect(t.exitCode, t.stderr).toBe(0);
      }),
      { numRuns: 20, seed: 11 },
    );
  }, 60_000);
});

describe("just", () => {
  it("passes any path to the server as one exact argument", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mp-just-esc-"));
    writeFileSync(join(dir, "justfile"), fileOf(generateFrom(specWith()), "justfile"));
    const bin = mkdtempSync(join(tmpdir(), "mp-fake-ssh-"));
    const log = join(bin, "argv.log");
    // A stand-in for ssh: joins its arguments like ssh and hands them to a shell that records cat's arguments.
    writeFileSync(join(bin, "ssh"), `#!/bin/bash\nshift\nexec bash -c "cat() { printf '%s\\0' \\"\\$@\\" > ${log}; }; $*"\n`);
    chmodSync(join(bin, "ssh"), 0o755);
    const just = join(ROOT, "node_modules/rust-just-linux-x64/bin/just");
    await fc.assert(
      fc.asyncProperty(tricky(true), async (path) => {
        await execa(just, ["b2-warm", path], { cwd: dir, env: { PATH: `${bin}:${process.env.PATH}` } });
        expect(readFileSync(log, "utf8")).toBe(`--\0/media/b2/${path}\0`);
      }),
      { numRuns: 30, seed: 3 },
    );
  }, 60_000);
});

describe("systemd", () => {
  it("unit files with awkward library paths pass systemd-analyze verify", async () => {
    const analyze = requireTool("systemd-analyze");
    const bin = mkdtempSync(join(tmpdir(), "mp-bin-"));
    for (const tool of ["node", "rclone", "unar"]) {
      writeFileSync(join(bin, tool), "#!/bin/sh\n");
      chmodSync(join(bin, tool), 0o755);
    }
    await fc.assert(
      fc.asyncProperty(tricky(false), async (name) => {
        const path = `/media/arr/${name.replace(/\//g, "_")}`;
        const spec = specWith((s) => {
          s.directories[5]!.path = path;
          s.upload.sources[0]!.path = path;
          s.standalone.binDir = bin;
        });
        if (!validateSpec(spec).ok) return;
        const dir = writeTree(generateFrom(spec).filter((f) => f.path.startsWith("systemd/")));
        const unit = join(dir, "systemd/qbt-upload-b2.service");
        const text = readFileSync(unit, "utf8");
        expect(text).toMatch(/^ReadWritePaths=/m);
        const result = await execa(analyze, ["verify", unit], { reject: false, cwd: join(dir, "systemd") });
        expect(result.stderr).toBe("");
      }),
      { numRuns: 10, seed: 5 },
    );
  }, 60_000);
});

describe("what cannot be represented is refused", () => {
  it("a line break in a path", () => {
    const result = validateSpec(specWith((s) => void (s.upload.extractDir = "/var/lib/qBittorrent/ex\ntracted")));
    expect(result.ok ? [] : result.problems.map(formatProblem)).toContain('upload.extractDir: "/var/lib/qBittorrent/ex\\ntracted" contains a control character; remove it');
  });
});
