/** The generate command line: writing, checking, diffing, refusing an invalid spec. */
import { execa } from "execa";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.ts";

/** What `npm run generate` runs. */
const generate = (args: string[]) => execa(process.execPath, [join(ROOT, "cli/launch.mjs"), ...args], { reject: false, cwd: ROOT });
const scratch = () => mkdtempSync(join(tmpdir(), "mp-cli-"));

describe("npm run generate", () => {
  it("reproduces the committed out/ byte for byte (--check passes)", async () => {
    const result = await generate(["--check"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^out\/ is up to date with spec\/builder\.ts \(\d+ files\)\.$/);
    expect(result.exitCode).toBe(0);
  });

  it("writes the same bytes on every run", async () => {
    const a = scratch();
    const b = scratch();
    await generate(["--out", a]);
    await generate(["--out", b]);
    const diff = await execa("diff", ["-r", a, b], { reject: false });
    expect(diff.stdout).toBe("");
    expect(diff.exitCode).toBe(0);
  });

  it("--check names each file that differs, is missing or is stale, and writes nothing", async () => {
    const out = scratch();
    await generate(["--out", out]);
    writeFileSync(join(out, "justfile"), "edited by hand\n");
    writeFileSync(join(out, "nixos/old.nix"), "{ }\n");
    const before = readFileSync(join(out, "justfile"), "utf8");
    const result = await generate(["--out", out, "--check"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/\/justfile: differs from spec\/builder\.ts$/m);
    expect(result.stderr).toMatch(/nixos\/old\.nix: no longer generated; it would be removed/);
    expect(result.stderr).toMatch(/is stale: 2 files differ\. Run `npm run generate` and commit the result\./);
    expect(readFileSync(join(out, "justfile"), "utf8")).toBe(before);
    expect(existsSync(join(out, "nixos/old.nix"))).toBe(true);
  });

  it("removes files an earlier run generated that are no longer generated", async () => {
    const out = scratch();
    await generate(["--out", out]);
    mkdirSync(join(out, "gone"), { recursive: true });
    writeFileSync(join(out, "gone/stale.conf"), "x\n");
    const result = await generate(["--out", out]);
    expect(result.stdout).toMatch(/1 removed/);
    expect(existsSync(join(out, "gone"))).toBe(false);
  });

  it("--diff shows the change before writing, and writes nothing", async () => {
    const out = scratch();
    await generate(["--out", out]);
    writeFileSync(join(out, "justfile"), readFileSync(join(out, "justfile"), "utf8").replace('host := "builder"', 'host := "old-name"'));
    const result = await generate(["--out", out, "--diff"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^-host := "old-name"$/m);
    expect(result.stdout).toMatch(/^\+host := "builder"$/m);
    expect(readFileSync(join(out, "justfile"), "utf8")).toContain('host := "old-name"');
  });

  it("refuses an invalid spec with one line per fault at its source position, and writes nothing", async () => {
    const dir = scratch();
    const spec = join(ROOT, "spec", `.test-invalid-${process.pid}.ts`);
    const text = readFileSync(join(ROOT, "spec/builder.ts"), "utf8")
      .replace('sonarr: { name: "Sonarr", purpose: "TV series search and download manager", port: 8989', 'sonarr: { name: "Sonarr", purpose: "TV series search and download manager", port: 8080')
      .replace('value: "150G"', 'value: "150GB"')
      .replace('every: "2m"', 'every: "2 minutes"');
    writeFileSync(spec, text);
    try {
      const result = await generate(["--spec", spec, "--out", join(dir, "out")]);
      expect(result.exitCode).toBe(1);
      const name = `spec/.test-invalid-${process.pid}.ts`;
      const lines = result.stderr.trim().split("\n");
      expect(lines[0]).toBe(`${name}: the spec has 3 problems; nothing was written.`);
      const lineOf = (needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;
      expect(lines).toContain(`${name}:${lineOf('value: "150GB"')}:${text.split("\n")[lineOf('value: "150GB"') - 1]!.indexOf('"150GB"') + 1}: rclone.mount.flags[1].value: "150GB" is not a size; write a whole number and one of K, M, G, T, P with nothing after it, such as 150G`);
      expect(lines.some((l) => l.startsWith(`${name}:${lineOf("port: 8080, path: \"/sonarr/\"")}:`) && l.includes("endpoints.sonarr.port: 8080 is already used by endpoints.qbittorrentWebui.port"))).toBe(true);
      expect(lines.some((l) => l.startsWith(`${name}:${lineOf('every: "2 minutes"')}:`) && l.includes("timers.upload.every"))).toBe(true);
      expect(existsSync(join(dir, "out"))).toBe(false);
    } finally {
      (await import("node:fs")).rmSync(spec);
    }
  });

  it("refuses a spec that still sets the removed upload.marker or cleanup.ignorable, with the reason, and writes nothing", async () => {
    const dir = scratch();
    const spec = join(ROOT, "spec", `.test-removed-${process.pid}.ts`);
    const text = readFileSync(join(ROOT, "spec/builder.ts"), "utf8")
      .replace("    attentionAfterFailures: 3,\n  },", '    attentionAfterFailures: 3,\n    marker: ".uploaded",\n  },')
      .replace("    maxDeletionsPerRun: 50,\n  },", '    maxDeletionsPerRun: 50,\n    ignorable: ["*.nfo", "*sample*"],\n  },');
    expect(text).toContain('marker: ".uploaded"');
    expect(text).toContain("ignorable: [");
    writeFileSync(spec, text);
    try {
      const result = await generate(["--spec", spec, "--out", join(dir, "out")]);
      expect(result.exitCode).toBe(1);
      const name = `spec/.test-removed-${process.pid}.ts`;
      const lines = result.stderr.trim().split("\n");
      const at = (needle: string) => {
        const line = text.split("\n").findIndex((l) => l.startsWith(needle)) + 1;
        return `${name}:${line}:${text.split("\n")[line - 1]!.indexOf("{") + 1}`;
      };
      expect(lines).toEqual([
        `${name}: the spec has 2 problems; nothing was written.`,
        expect.stringMatching(new RegExp(`^${at("  upload: {").replace(/[.]/g, "\\.")}: upload: the field "marker" was removed: upload no longer writes marker files beside items; .*uploads\\.json.*Delete the field$`)),
        expect.stringMatching(new RegExp(`^${at("  cleanup: {").replace(/[.]/g, "\\.")}: cleanup: the field "ignorable" was removed: nothing is exempt from the upload-before-delete rule by name.*Delete the field$`)),
      ]);
      expect(existsSync(join(dir, "out"))).toBe(false);
    } finally {
      (await import("node:fs")).rmSync(spec);
    }
  });

  it("--help explains the options; an unknown option is a usage error", async () => {
    const help = await generate(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/--spec FILE/);
    expect(help.stdout).toMatch(/--check/);
    expect(help.stdout).toMatch(/--diff/);
    const bad = await generate(["--frobnicate"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--frobnicate'/);
  });
});

