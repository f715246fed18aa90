/**
 * The one place `#` comments are written. Nix, nginx, systemd units, YAML, just and shell all read
 * a comment as `#` to the end of the line, so a text of several lines becomes one `# ` line each.
 */

/** `text` as `# ` comment lines, each after `indent`; an empty line becomes a bare `#`. */
export function hashComment(text: string, indent = ""): string {
  return text
    .split("\n")
    .map((line) => `${indent}# ${line}`.trimEnd())
    .join("\n");
}
