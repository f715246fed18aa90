/** The standalone units, checked by the real systemd-analyze. */
import { execa } from "execa";
import { mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { SECURITY_EXPOSURE as exposure } from "../../generators/model/units.ts";
import { fileOf, generateFrom, requireTool, specWith, writeTree } from "../helpers.ts";

// The seed's units, and the wire job (issue 13), which does the seed's setup steps.
const UNITS = ["qbt-upload-b2.service", "qbt-upload-b2.timer", "qbt-categories.service", "qbt-cleanup.service", "qbt-cleanup.timer", "rclone-b2-mount.service", "media-pipeline-wire.service", "media-pipeline-wire-plan.service", "media-pipeline-wire.timer"];

let unitDir = "";
beforeAll(() => {
  requireTool("rclone");
  // verify checks that each ExecStart program exists: point binDir at the real node and rclone.
  const bin = mkdtempSync(join(tmpdir(), "mp-bin-"));
  symlinkSync(process.execPath, join(bin, "node"));
  symlinkSync(requireTool("rclone"), join(bin, "rclone"));
  symlinkSync(requireTool("rclone"), join(bin, "unar"));
  const files = generateFrom(specWith((s) => void (s.standalone.binDir = bin))).filter((f) => f.path.startsWith("systemd/"));
  unitDir = join(writeTree(files), "systemd");
});

describe("out/systemd/media-pipeline.tmpfiles.conf (real systemd-tmpfiles)", () => {
  it("creates the jobs' state and lock folders root:media-pipeline 2770 and the mount point for the mount's account", async () => {
    const tool = requireTool("systemd-tmpfiles");
    const root = mkdtempSync(join(tmpdir(), "mp-tmpfiles-standalone-"));
    mkdirSync(join(root, "etc/tmpfiles.d"), { recursive: true });
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\nrclone-b2:x:4902:4902::/:/sbin/nologin\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\nrclone-b2:x:4902:\nmedia-pipeline:x:4905:\n");
    writeFileSync(join(root, "etc/tmpfiles.d/media-pipeline.conf"), fileOf(generateFrom(specWith()), "systemd/media-pipeline.tmpfiles.conf"));
    const run = await execa(tool, ["--create", `--root=${root}`], { reject: false });
    expect(run.stderr).toBe("");
    const mode = (p: string) => {
      const st = statSync(join(root, p));
      return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    };
    expect(mode("/var/lib/media-pipeline")).toBe("2770 0:4905");
    expect(mode("/run/media-pipeline")).toBe("2770 0:4905");
    expect(mode("/media/b2")).toBe("755 4902:4902");
  });
});

describe("out/systemd", () => {
  it("holds the units of the seed's Systemd units table", () => {
    const names = generateFrom(specWith())
      .filter((f) => f.path.startsWith("systemd/") && /\.(service|timer)$/.test(f.path))
      .map((f) => f.path.slice("systemd/".length));
    expect(names.sort()).toEqual([...UNITS].sort());
  });

  it.each(UNITS)("%s passes systemd-analyze verify", async (unit) => {
    const analyze = requireTool("systemd-analyze");
    const result = await execa(analyze, ["verify", join(unitDir, unit)], { reject: false, cwd: unitDir });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });

  /** The jobs stay at 2.5 or less; the mount, which a FUSE mount by an unprivileged account limits (units.ts, mountHardening), below the seed's 9.6. */
  const bound = (unit: string) => (unit === "rclone-b2-mount.service" ? 7.0 : 2.5);
  it.each(Object.entries(exposure))("%s has exposure %s in systemd-analyze security, as the docs report", async (unit, documented) => {
    const analyze = requireTool("systemd-analyze");
    const result = await execa(analyze, ["security", "--offline=yes", join(unitDir, unit)], { reject: false, cwd: unitDir });
    const score = result.stdout.match(/Overall exposure level for \S+: ([0-9.]+)/)?.[1];
    expect(score, result.stdout + result.stderr).toBeDefined();
    expect(Number(score)).toBeLessThanOrEqual(bound(unit));
    expect(score).toBe(documented);
    expect(fileOf(generateFrom(specWith()), "docs/media-pipeline.md")).toContain(`| \`${unit}\` | ${documented} |`);
  });
});
