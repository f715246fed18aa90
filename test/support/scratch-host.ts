/**
 * The builder's folders re-rooted under a scratch directory, with the runtime config generated
 * from the default spec pointing at them. Shared by the runtime tests, the property test and the
 * benchmarks, so all three exercise the config the generator really writes.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import builder from "../../spec/builder.ts";
import { runtimeConfig } from "../../generators/runtime.ts";
import type { RuntimeConfigModel } from "../../runtime/config.ts";
import { parseSpec } from "../../spec/validate.ts";

export interface ScratchHost {
  config: RuntimeConfigModel;
  /** `/media/arr/tv` under the scratch root. */
  path(p: string): string;
}

export function scratchHost(root: string, overrides: { quietPeriodSeconds: number }): ScratchHost {
  const spec = parseSpec(builder);
  const base = runtimeConfig({ spec, specFile: "spec/builder.ts" });
  const path = (p: string) => join(root, p);
  const config: RuntimeConfigModel = {
    ...base,
    upload: {
      ...base.upload,
      sources: base.upload.sources.map((s) => ({ ...s, path: path(s.path) })),
      categoryPaths: base.upload.categoryPaths.map(path),
      tempPath: path(base.upload.tempPath),
      extractDir: path(base.upload.extractDir),
      quietPeriodSeconds: overrides.quietPeriodSeconds,
    },
    qbittorrent: { ...base.qbittorrent, categories: Object.fromEntries(Object.entries(base.qbittorrent.categories).map(([k, v]) => [k, path(v)])) },
    lockDir: path("/run/media-pipeline"),
    stateDir: path("/var/lib/media-pipeline"),
  };
  for (const dir of spec.directories.filter((d) => d.filesystem === "root")) mkdirSync(path(dir.path), { recursive: true });
  mkdirSync(config.lockDir, { recursive: true });
  mkdirSync(config.stateDir, { recursive: true });
  return { config, path };
}
