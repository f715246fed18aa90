/**
 * The one place justfile syntax is written. Strings are just's double-quoted strings; arguments
 * that reach a shell go through just's own `quote()` in the recipe, never through string pasting.
 */
import { hashComment } from "./comment.ts";

export interface JustRecipe {
  readonly name: string;
  /** The doc comment `just --list` shows. */
  readonly doc: string;
  readonly params?: readonly string[];
  readonly lines: readonly string[];
}

export function justString(text: string): string {
  if (/[\n\r]/.test(text)) throw new Error(`justfile renderer: ${JSON.stringify(text)} contains a line break`);
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function renderJustfile(header: string, variables: Readonly<Record<string, string>>, preamble: readonly string[], recipes: readonly JustRecipe[]): string {
  const out: string[] = [hashComment(header), ""];
  for (const line of preamble) out.push(line);
  if (preamble.length) out.push("");
  for (const [name, value] of Object.entries(variables)) out.push(`${name} := ${justString(value)}`);
  for (const recipe of recipes) {
    out.push("", hashComment(recipe.doc), `${[recipe.name, ...(recipe.params ?? [])].join(" ")}:`);
    for (const line of recipe.lines) out.push(`    ${line}`);
  }
  return `${out.join("\n")}\n`;
}
