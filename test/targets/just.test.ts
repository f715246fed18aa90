/** The operator's justfile, run by the real just (npm rust-just). */
import { execa } from "execa";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { operatorRecipes } from "../../generators/justfile.ts";
import { parseSpec } from "../../spec/validate.ts";
import { fileOf, generateFrom, ROOT, specWith } from "../helpers.ts";

// The just binary from npm (rust-just's Linux x64 build; the registry here serves only that platform package).
const JUST = join(ROOT, "node_modules/rust-just-linux-x64/bin/just");

function justfileDir(host = "builder"): string {
  const dir = mkdtempSync(join(tmpdir(), "mp-just-"));
  writeFileSync(join(dir, "justfile"), fileOf(generateFrom(specWith((s) => void (s.host.name = host))), "justfile"));
  return dir;
}

/**
 * A stand-in for ssh (no server here): like ssh, it joins its arguments after the host with spaces
 * and hands the result to a shell, where `cat` and `ls` record the arguments they receive.
 */
function fakeSsh(): { bin: string; log: string } {
  const bin = mkdtempSync(join(tmpdir(), "mp-fake-ssh-"));
  const log = join(bin, "argv.log");
  writeFileSync(
    join(bin, "ssh"),
    `#!/bin/bash\nhost="$1"; shift\nprintf 'host=%s\\n' "$host" >> ${JSON.stringify(log)}\nexec bash -c "record() { for a in \\"\\$@\\"; do printf 'arg=%s\\n' \\"\\$a\\"; done >> ${log}; }; cat() { record \\"\\$@\\"; }; ls() { record \\"\\$@\\"; }; $*"\n`,
  );
  chmodSync(join(bin, "ssh"), 0o755);
  return { bin, log };
}

describe("out/justfile", () => {
  it("just --list shows every recipe with its doc line", async () => {
    const { stdout } = await execa(JUST, ["--list", "--unsorted"], { cwd: justfileDir() });
    for (const recipe of operatorRecipes(parseSpec(specWith()))) {
      expect(stdout).toMatch(new RegExp(`^\\s+${recipe.name}(\\s[^#]*)?\\s+# ${recipe.doc.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    }
  });

  it("takes the host name from the spec", async () => {
    const { stderr } = await execa(JUST, ["--dry-run", "upload-now"], { cwd: justfileDir("media-box") });
    expect(stderr.trim()).toBe("ssh media-box 'systemctl start qbt-upload-b2'");
  });

  const nasty = ["tv/It's $pecial/Season 1/e.mkv", 'movies/Say "Hi" `now` (2024)/m.mkv', "tv/Ünïcødé 日本/S01E01 ✓.mkv", "tv/back\\slash $(rm -rf x)/e;.mkv"];

  it.each(nasty)("b2-warm passes %j to cat on the server as one exact argument", async (path) => {
    const dir = justfileDir();
    const { bin, log } = fakeSsh();
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const dry = await execa(JUST, ["--dry-run", "b2-warm", path], { cwd: dir, env });
    const printed = dry.stderr.trim();
    expect(printed.startsWith("ssh builder ")).toBe(true);
    // Running the printed command is what running the recipe does: the path must arrive intact.
    await execa("bash", ["-c", printed], { env });
    expect(readFileSync(log, "utf8")).toBe(`host=builder\narg=--\narg=/media/b2/${path}\n`);
    writeFileSync(log, "");
    await execa(JUST, ["b2-warm", path], { cwd: dir, env });
    expect(readFileSync(log, "utf8")).toBe(`host=builder\narg=--\narg=/media/b2/${path}\n`);
  });

  it("b2-ls lists the mount root without a path, and a folder with one", async () => {
    const dir = justfileDir();
    const { bin, log } = fakeSsh();
    const env = { PATH: `${bin}:${process.env.PATH}` };
    await execa(JUST, ["b2-ls"], { cwd: dir, env });
    await execa(JUST, ["b2-ls", "tv/Some Show/"], { cwd: dir, env });
    expect(readFileSync(log, "utf8")).toBe("host=builder\narg=-la\narg=--\narg=/media/b2/\nhost=builder\narg=-la\narg=--\narg=/media/b2/tv/Some Show/\n");
  });
});
