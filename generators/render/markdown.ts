/**
 * The one place Markdown syntax is written for the docs: inline text kept on one line, code spans,
 * and tables. Every table cell goes through `mdInline`, so a `|` or a line break in the spec cannot
 * break a row.
 */
import type { HelperDelegate } from "handlebars";

/** Text that must stay on one line, as in a table cell or a list item: pipes escaped, line breaks flattened. */
export function mdInline(text: unknown): string {
  return String(text).replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A code span: `text` in backticks, with a longer fence when the text itself holds backticks. */
export function mdCode(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A table: the header row, a rule as wide as each header, and one row per entry, every cell inline. */
export function mdTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const row = (cells: readonly (string | number)[]) => `| ${cells.map(mdInline).join(" | ")} |`;
  return [row(headers), `|${headers.map((h) => "-".repeat(h.length + 2)).join("|")}|`, ...rows.map(row)].join("\n");
}

/** The helpers the docs template uses: `{{md text}}` for inline text. */
export const MARKDOWN_HELPERS: Readonly<Record<string, HelperDelegate>> = {
  md: (text: unknown) => mdInline(text),
};
