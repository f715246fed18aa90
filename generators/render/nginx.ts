/**
 * The one place nginx syntax is written: directives and blocks, with arguments quoted when they
 * hold anything but plain characters. `$` is left alone on purpose: nginx variables such as `$host`
 * are part of the configuration.
 */
import { hashComment } from "./comment.ts";

export type NginxNode = NginxDirective | NginxBlock | NginxComment;
export interface NginxDirective {
  readonly name: string;
  readonly args: readonly (string | number)[];
}
export interface NginxBlock {
  readonly name: string;
  readonly args: readonly (string | number)[];
  readonly children: readonly NginxNode[];
}
export interface NginxComment {
  readonly comment: string;
}

export const directive = (name: string, ...args: (string | number)[]): NginxDirective => ({ name, args });
export const block = (name: string, args: (string | number)[], children: NginxNode[]): NginxBlock => ({ name, args, children });
export const comment = (text: string): NginxComment => ({ comment: text });

export function quoteNginxArg(arg: string | number): string {
  const text = String(arg);
  if (/[\n\r\0]/.test(text)) throw new Error(`nginx renderer: ${JSON.stringify(text)} contains a line break`);
  if (text !== "" && /^[A-Za-z0-9_@:/.=$+-]+$/.test(text)) return text;
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** `if ($a = b)`: the condition's parts joined inside parentheses; refuses anything that could end the directive. */
function ifCondition(args: readonly (string | number)[]): string {
  const text = args.map(String).join(" ");
  if (/[\n\r\0;{}"']/.test(text)) throw new Error(`nginx renderer: ${JSON.stringify(text)} cannot be an if condition`);
  return `(${text})`;
}

export function renderNginx(nodes: readonly NginxNode[], level = 0): string {
  const pad = "    ".repeat(level);
  return nodes
    .map((node) => {
      if ("comment" in node) return hashComment(node.comment, pad);
      // An `if` condition is written as nginx reads it, parentheses and operators unquoted.
      const args = node.name === "if" ? [ifCondition(node.args)] : node.args.map(quoteNginxArg);
      const head = [node.name, ...args].join(" ");
      if ("children" in node) return `${pad}${head} {\n${renderNginx(node.children, level + 1)}\n${pad}}`;
      return `${pad}${head};`;
    })
    .join("\n");
}
