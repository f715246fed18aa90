/**
 * Loads a TypeScript spec file: esbuild compiles it (with the spec's own imports) to one ES module
 * in a temp folder, which is imported and removed. npm packages stay external and load from
 * node_modules as usual.
 */
import { build } from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../generators/paths.ts";

export async function loadSpecModule(file: string): Promise<unknown> {
  const result = await build({ entryPoints: [file], bundle: true, packages: "external", platform: "node", format: "esm", target: "node20", write: false, absWorkingDir: PROJECT_ROOT, logLevel: "silent" });
  // Inside the project, so that `zod` and other packages resolve from its node_modules.
  const dir = mkdtempSync(join(PROJECT_ROOT, "node_modules", ".media-pipeline-spec-"));
  try {
    const out = join(dir, "spec.mjs");
    writeFileSync(out, result.outputFiles[0]!.text);
    return ((await import(pathToFileURL(out).href)) as { default?: unknown }).default;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
