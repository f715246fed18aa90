/**
 * Validation of a spec: the zod schema for shape and syntax, then the cross-field rules. Both run
 * every time and all their problems are returned together, each naming the spec path at fault.
 */
import { Spec, type SpecModel } from "./schema.ts";
import { checkRules, formatPath, type Problem } from "./rules.ts";

export type { Problem } from "./rules.ts";
export { formatPath } from "./rules.ts";

export type ValidationResult = { ok: true; spec: SpecModel } | { ok: false; problems: Problem[] };

export function validateSpec(input: unknown): ValidationResult {
  const parsed = Spec.safeParse(input);
  const problems: Problem[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
        message: issue.message,
      }));
  const seen = new Set(problems.map((p) => `${formatPath(p.path)}\0${p.message}`));
  for (const problem of checkRules(input)) {
    const key = `${formatPath(problem.path)}\0${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, spec: parsed.data };
}

/** One line per problem: `endpoints.sonarr.port: 8080 is already used by ...`. */
export function formatProblem(problem: Problem): string {
  return `${formatPath(problem.path)}: ${problem.message}`;
}

export class SpecError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`invalid spec:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
    this.name = "SpecError";
  }
}

/** Validates and returns the model, or throws a SpecError listing every problem. */
export function parseSpec(input: unknown): SpecModel {
  const result = validateSpec(input);
  if (!result.ok) throw new SpecError(result.problems);
  return result.spec;
}
