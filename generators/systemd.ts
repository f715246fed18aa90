/**
 * Standalone unit files for hosts without NixOS, and for review: out/systemd/*.service|timer.
 * Rendered from the same model as the NixOS modules (generators/model/units.ts).
 */
import { generatedHeader, type GenerateContext, type GeneratedFile } from "./context.ts";
import { isTemplate, LOCK_DIR, mapTemplate, RUNTIME_BUNDLE_PATH, SECRET_FILES, STATE_DIR, STATE_DIR_MODE, unitsModel, type ModelValue, type RefName } from "./model/units.ts";
import { renderUnitFile, type UnitScalar, type UnitValue } from "./render/systemd.ts";

export function standaloneRefs(ctx: GenerateContext): Record<RefName, string> {
  const s = ctx.spec.standalone;
  return {
    node: `${s.binDir}/node`,
    rclone: `${s.binDir}/rclone`,
    unar: `${s.binDir}/unar`,
    runtime: `${s.runtimeDir}/${RUNTIME_BUNDLE_PATH}`,
    mountSecrets: `${s.secretsDir}/${SECRET_FILES.mount}`,
    uploadSecrets: `${s.secretsDir}/${SECRET_FILES.upload}`,
    cleanupSecrets: `${s.secretsDir}/${SECRET_FILES.cleanup}`,
  };
}

/** A sops secret's file on a standalone host: `sonarr/api_key` → secretsDir/sonarr-api_key. */
export const standaloneSecretFile = (sopsKey: string) => sopsKey.replaceAll("/", "-");

export function resolveStandalone(value: ModelValue, refs: Record<RefName, string>, secretsDir: string): UnitValue {
  const scalar = (v: ModelValue): UnitScalar => (isTemplate(v) ? mapTemplate(v, (r) => [r.ref === "secret" ? `${secretsDir}/${standaloneSecretFile(r.sopsKey)}` : refs[r.ref]]).join("") : (v as UnitScalar));
  return Array.isArray(value) ? value.map(scalar) : scalar(value);
}

export function generateSystemd(ctx: GenerateContext): GeneratedFile[] {
  const model = unitsModel(ctx.spec);
  const refs = standaloneRefs(ctx);
  const files: GeneratedFile[] = [];
  for (const unit of model.services) {
    const service = Object.fromEntries(Object.entries(unit.serviceConfig).map(([k, v]) => [k, resolveStandalone(v, refs, ctx.spec.standalone.secretsDir)]));
    const sections: [string, Record<string, UnitValue | undefined>][] = [
      ["Unit", { Description: unit.description, After: unit.after.length ? unit.after.join(" ") : undefined, Wants: unit.wants.length ? unit.wants.join(" ") : undefined }],
      ["Service", service],
    ];
    if (unit.wantedBy.length > 0) sections.push(["Install", { WantedBy: unit.wantedBy.join(" ") }]);
    files.push({ path: `systemd/${unit.unit.service}`, contents: renderUnitFile(generatedHeader(ctx, unit.why), sections) });
  }
  for (const timer of model.timers) {
    files.push({
      path: `systemd/${timer.unit.timer}`,
      contents: renderUnitFile(generatedHeader(ctx, `${timer.why}.`), [
        ["Unit", { Description: timer.description }],
        ["Timer", timer.timerConfig],
        ["Install", { WantedBy: timer.wantedBy.join(" ") }],
      ]),
    });
  }
  files.push(standaloneTmpfiles(ctx));
  return files;
}

/**
 * out/systemd/media-pipeline.tmpfiles.conf, for /etc/tmpfiles.d on a standalone host: the folders
 * the units expect and NixOS creates in default.nix (the state and lock folders of the jobs, which
 * run as two accounts, and the mount point the mount's account mounts on).
 */
function standaloneTmpfiles(ctx: GenerateContext): GeneratedFile {
  const { spec } = ctx;
  const mount = spec.directories.find((d) => d.path === spec.b2.mountPoint);
  const lines = [
    `d ${STATE_DIR} ${STATE_DIR_MODE} root ${spec.accounts.stateGroup} -`,
    `d ${LOCK_DIR} ${STATE_DIR_MODE} root ${spec.accounts.stateGroup} -`,
    `d ${spec.b2.mountPoint} ${mount?.mode ?? "0755"} ${spec.accounts.mount} ${spec.accounts.mount} -`,
    `d ${spec.standalone.secretsDir} 0755 root root -`,
  ];
  const header = generatedHeader(
    ctx,
    `Install as /etc/tmpfiles.d/media-pipeline.conf. The secrets files in ${spec.standalone.secretsDir} are written by hand,\n` +
      `each owned by its one reader with mode 0400 (docs/media-pipeline.md, "Keys and logins").`,
  );
  return { path: "systemd/media-pipeline.tmpfiles.conf", contents: `${header.split("\n").map((l) => `# ${l}`.trimEnd()).join("\n")}\n${lines.join("\n")}\n` };
}
