/**
 * The project's root folder. The only module that reads `import.meta.url`, so the generate CLI can
 * be bundled (cli/launch.mjs) and still find its templates and the runtime's sources.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const projectPath = (...parts: string[]) => join(PROJECT_ROOT, ...parts);
