/**
 * Maps a spec path (`endpoints.sonarr.port`) to the line and column in the spec's source file where
 * that value is written, so validation errors read like compiler errors. It follows object literals,
 * arrays, `defineSpec(...)` calls and `const` references; where it cannot go deeper it returns the
 * position of the deepest part it found. ts-morph is loaded only when there is something to report.
 */
import type { SpecPath } from "./rules.ts";

export interface SourcePosition {
  line: number;
  column: number;
}

export async function locateSpecPaths(file: string, paths: SpecPath[]): Promise<(SourcePosition | undefined)[]> {
  const { Project, Node } = await import("ts-morph");
  const project = new Project({ useInMemoryFileSystem: false, skipAddingFilesFromTsConfig: true, compilerOptions: { allowJs: true } });
  const source = project.addSourceFileAtPath(file);

  type N = import("ts-morph").Node;
  const unwrap = (node: N | undefined, depth = 0): N | undefined => {
    if (!node || depth > 8) return node;
    if (Node.isParenthesizedExpression(node) || Node.isAsExpression(node) || Node.isSatisfiesExpression(node)) return unwrap(node.getExpression(), depth + 1);
    if (Node.isCallExpression(node)) return unwrap(node.getArguments()[0], depth + 1);
    if (Node.isIdentifier(node)) {
      const decl = node.getSymbol()?.getDeclarations()[0];
      if (decl && Node.isVariableDeclaration(decl)) return unwrap(decl.getInitializer(), depth + 1);
    }
    return node;
  };

  const exported = source.getDefaultExportSymbol()?.getDeclarations()[0];
  const root = exported && Node.isExportAssignment(exported) ? unwrap(exported.getExpression()) : undefined;

  return paths.map((path) => {
    let node = root;
    let found: N | undefined = root;
    for (const part of path) {
      node = unwrap(node);
      if (!node) break;
      let next: N | undefined;
      if (typeof part === "number" && Node.isArrayLiteralExpression(node)) next = node.getElements()[part];
      else if (Node.isObjectLiteralExpression(node)) {
        const prop = node.getProperty(String(part)) ?? node.getProperty(JSON.stringify(String(part)));
        if (prop && Node.isPropertyAssignment(prop)) next = prop.getInitializer();
        else if (prop && Node.isShorthandPropertyAssignment(prop)) next = prop.getNameNode();
      }
      if (!next) break;
      node = next;
      found = next;
    }
    if (!found) return undefined;
    const { line, column } = source.getLineAndColumnAtPos(found.getStart());
    return { line, column };
  });
}
