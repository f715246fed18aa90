/**
 * The pipeline: a validated spec in, the complete list of files for out/ back. Pure apart from
 * reading its own templates; only the CLI writes files.
 */
import type { GenerateContext, GeneratedFile } from "./context.ts";
import { generateDocs } from "./docs.ts";
import { generateJustfile } from "./justfile.ts";
import { generateNixos } from "./nixos/modules.ts";
import { generateRuntime } from "./runtime.ts";
import { generateSecretsExample } from "./secrets.ts";
import { generateSystemd } from "./systemd.ts";
import { generateWeb } from "./web.ts";

export type { GenerateContext, GeneratedFile } from "./context.ts";

/** Everything except the runtime bundle: fast, synchronous, and what most tests need. */
export function generateConfigFiles(ctx: GenerateContext): GeneratedFile[] {
  const web = generateWeb(ctx);
  return sortFiles([
    ...generateNixos(ctx),
    ...web.files,
    ...generateSystemd(ctx),
    generateJustfile(ctx),
    generateDocs(ctx),
    generateSecretsExample(ctx),
  ]);
}

export async function generateAll(ctx: GenerateContext): Promise<GeneratedFile[]> {
  // esbuild bundles the runtime in its own process while this one renders the rest.
  const runtime = generateRuntime(ctx);
  const config = generateConfigFiles(ctx);
  return sortFiles([...config, ...(await runtime)]);
}

function sortFiles(files: GeneratedFile[]): GeneratedFile[] {
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) throw new Error(`two generators produce ${file.path}`);
    seen.add(file.path);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
