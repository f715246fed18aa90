/**
 * npm run generate [-- --spec FILE] [--check | --diff]
 * Validates the spec, generates every file, and writes out/ (or checks or diffs it).
 */
import { execa } from "execa";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { generateAll, type GeneratedFile } from "../generators/index.ts";
import { formatProblem, validateSpec } from "../spec/validate.ts";
import { locateSpecPaths } from "../spec/locate.ts";
import { PROJECT_ROOT } from "../generators/paths.ts";
import { loadSpecModule } from "./load-spec.ts";

const ROOT = PROJECT_ROOT;

const HELP = `Usage: npm run generate -- [options]

Validates the spec and writes every generated file to out/.

Options:
  --spec FILE  Spec to compile (default: spec/builder.ts). Its default export is the spec.
  --out DIR    Output folder (default: out/ in the project).
  --check      Write nothing; exit 1 and name each file that differs from what the spec generates.
  --diff       Write nothing; print a unified diff of what would change.
  -h, --help   Show this help.

Exit codes: 0 done (or up to date), 1 invalid spec or out/ differs, 2 bad usage.`;

const posixRelative = (from: string, to: string) => relative(from, to).split(sep).join("/");

function listFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full, base) : [posixRelative(base, full)];
  });
}

function pruneEmptyDirs(dir: string, root: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) pruneEmptyDirs(join(dir, entry.name), root);
  }
  if (dir !== root && readdirSync(dir).length === 0) rmdirSync(dir);
}

interface Plan {
  write: GeneratedFile[];
  remove: string[];
  unchanged: number;
}

function plan(outDir: string, files: GeneratedFile[]): Plan {
  const wanted = new Set(files.map((f) => f.path));
  const existing = listFiles(outDir);
  const write = files.filter((f) => !existsSync(join(outDir, f.path)) || readFileSync(join(outDir, f.path), "utf8") !== f.contents);
  return { write, remove: existing.filter((p) => !wanted.has(p)).sort(), unchanged: files.length - write.length };
}

function writeFiles(dir: string, files: GeneratedFile[]): void {
  for (const file of files) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.contents);
  }
}

export async function run(argv: string[]): Promise<number> {
  let values: { spec?: string; out?: string; check?: boolean; diff?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        spec: { type: "string" },
        out: { type: "string" },
        check: { type: "boolean" },
        diff: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`generate: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.check && values.diff) {
    console.error("generate: --check and --diff cannot be combined");
    return 2;
  }
  const specPath = resolve(values.spec ?? join(ROOT, "spec/builder.ts"));
  const specFile = posixRelative(ROOT, specPath);
  const outDir = resolve(values.out ?? join(ROOT, "out"));
  if (!existsSync(specPath)) {
    console.error(`generate: spec file ${specPath} does not exist`);
    return 2;
  }

  let input: unknown;
  try {
    input = await loadSpecModule(specPath);
  } catch (error) {
    console.error(`generate: cannot load ${specFile}: ${(error as Error).message}`);
    return 1;
  }
  if (input === undefined) {
    console.error(`generate: ${specFile} has no default export; export the spec with \`export default defineSpec({ ... })\``);
    return 1;
  }

  const result = validateSpec(input);
  if (!result.ok) {
    const positions = await locateSpecPaths(specPath, result.problems.map((p) => p.path)).catch(() => []);
    console.error(`${specFile}: the spec has ${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}; nothing was written.`);
    result.problems.forEach((problem, i) => {
      const at = positions[i];
      console.error(`${specFile}${at ? `:${at.line}:${at.column}` : ""}: ${formatProblem(problem)}`);
    });
    return 1;
  }

  const files = await generateAll({ spec: result.spec, specFile });
  const outName = posixRelative(process.cwd(), outDir) || ".";
  const changes = plan(outDir, files);
  const dirty = changes.write.length + changes.remove.length;

  if (values.check) {
    if (dirty === 0) {
      console.log(`${outName}/ is up to date with ${specFile} (${files.length} files).`);
      return 0;
    }
    for (const file of changes.write) console.error(`${outName}/${file.path}: ${existsSync(join(outDir, file.path)) ? "differs from" : "missing, generated by"} ${specFile}`);
    for (const path of changes.remove) console.error(`${outName}/${path}: no longer generated; it would be removed`);
    console.error(`${outName}/ is stale: ${dirty} file${dirty === 1 ? " differs" : "s differ"}. Run \`npm run generate\` and commit the result.`);
    return 1;
  }

  if (values.diff) {
    const scratch = mkdtempSync(join(tmpdir(), "media-pipeline-diff-"));
    try {
      writeFiles(scratch, files);
      const diff = await execa("diff", ["-ruN", outDir, scratch], { reject: false });
      const text = diff.stdout.split(outDir).join(outName).split(scratch).join(outName);
      console.log(dirty === 0 ? `${outName}/ is up to date with ${specFile}; nothing would change.` : text);
      return 0;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  writeFiles(outDir, changes.write);
  for (const path of changes.remove) rmSync(join(outDir, path));
  if (existsSync(outDir)) pruneEmptyDirs(outDir, outDir);
  console.log(
    `${outName}/: ${changes.write.length} written, ${changes.remove.length} removed, ${changes.unchanged} unchanged (from ${specFile}).`,
  );
  return 0;
}


