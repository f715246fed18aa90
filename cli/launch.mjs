// Starts `npm run generate` without a TypeScript loader: esbuild compiles cli/generate.ts and the
// generators into one module (npm packages stay external), which is then imported and run. This
// keeps generation close to bare Node startup; tests and development can still use tsx directly.
import { build } from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const result = await build({
  entryPoints: [join(root, "cli/generate.ts")],
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  write: false,
  absWorkingDir: root,
  // generators/paths.ts is the only reader of import.meta.url; point it at its real location.
  define: { "import.meta.url": JSON.stringify(pathToFileURL(join(root, "generators/paths.ts")).href) },
  logLevel: "silent",
});
const dir = mkdtempSync(join(root, "node_modules", ".media-pipeline-cli-"));
let run;
try {
  const file = join(dir, "generate.mjs");
  writeFileSync(file, result.outputFiles[0].text);
  ({ run } = await import(pathToFileURL(file).href));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = await run(process.argv.slice(2));
