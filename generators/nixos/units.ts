/** The NixOS rendering of the unit model: `systemd.services.<name>` and `systemd.timers.<name>`. */
import { expr, interpolate, type NixExpr, type NixValue } from "../render/nix.ts";
import { isTemplate, mapTemplate, RUNTIME_BUNDLE_PATH, SECRET_FILES, type ModelValue, type RefName, type ServiceModel, type TimerModel } from "../model/units.ts";
import { nixAttrName } from "../render/nix.ts";

/** How each host-dependent path is spelled in a NixOS module. */
export const NIX_REFS: Record<RefName, (string | NixExpr)[]> = {
  node: [expr("pkgs.nodejs"), "/bin/node"],
  rclone: [expr("pkgs.rclone"), "/bin/rclone"],
  unar: [expr("pkgs.unar"), "/bin/unar"],
  runtime: [expr("config.services.media-pipeline.package"), `/${RUNTIME_BUNDLE_PATH}`],
  mountSecrets: [expr(`config.sops.templates.${nixAttrName(SECRET_FILES.mount)}.path`)],
  uploadSecrets: [expr(`config.sops.templates.${nixAttrName(SECRET_FILES.upload)}.path`)],
  cleanupSecrets: [expr(`config.sops.templates.${nixAttrName(SECRET_FILES.cleanup)}.path`)],
};

function nixValue(value: ModelValue): NixValue {
  if (Array.isArray(value)) return value.map((v) => nixValue(v));
  if (isTemplate(value)) {
    const parts = mapTemplate(value, (r) => (r.ref === "secret" ? [expr(`config.sops.secrets.${nixAttrName(r.sopsKey)}.path`)] : NIX_REFS[r.ref]));
    return parts.length === 1 && typeof parts[0] === "object" ? parts[0] : interpolate(...parts);
  }
  return value as NixValue;
}

export function nixService(unit: ServiceModel): NixValue {
  const nonEmpty = (list: readonly string[]) => (list.length > 0 ? [...list] : undefined);
  return {
    description: unit.description,
    after: nonEmpty(unit.after),
    wants: nonEmpty(unit.wants),
    wantedBy: nonEmpty(unit.wantedBy),
    serviceConfig: Object.fromEntries(Object.entries(unit.serviceConfig).map(([k, v]) => [k, nixValue(v)])),
  };
}

export function nixTimer(timer: TimerModel): NixValue {
  return { description: timer.description, wantedBy: [...timer.wantedBy], timerConfig: { ...timer.timerConfig } };
}
