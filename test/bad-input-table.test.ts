/** Every row of docs/bad-input.md names a test that exists. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.ts";

const rows = readFileSync(join(ROOT, "docs/bad-input.md"), "utf8")
  .split("\n")
  .filter((l) => /^\| .* \| test\/.* › .* \|$/.test(l))
  .map((l) => l.split(" | ").pop()!.replace(/ \|$/, ""));

describe("docs/bad-input.md", () => {
  it("has rows for spec, config, API answers, archives and file-system state", () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
  });
  it.each(rows)("%s exists", (row) => {
    const [file, title] = row.split(" › ") as [string, string];
    const source = readFileSync(join(ROOT, file), "utf8");
    expect(source.includes(JSON.stringify(title).slice(1, -1)) || source.includes(title) || source.includes(title.replace(/'/g, "\\'")), `${title} in ${file}`).toBe(true);
  });
});
