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

export function renderNginx(nodes: readonly NginxNode[], level = 0): string {
  const pad = "    ".repeat(level);
  return nodes
    .map((node) => {
      if ("comment" in node) return hashComment(node.comment, pad);
      const head = [node.name, ...node.args.map(quoteNginxArg)].join(" ");
      if ("children" in node) return `${pad}${head} {\n${renderNginx(node.children, level + 1)}\n${pad}}`;
      return `${pad}${head};`;
    })
    .join("\n");
}
