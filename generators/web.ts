/**
 * The dashboard at http://<host>/: a page listing every service, and one redirect per dashboard
 * path to the service's native port. Rendered as NixOS nginx options (out/nixos/web.nix), as a
 * standalone nginx config (out/nginx/nginx.conf), and the page itself (out/www/index.html).
 */
import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { projectPath } from "./paths.ts";
import { generatedHeader, type GenerateContext, type GeneratedFile } from "./context.ts";
import { block, comment, directive, renderNginx } from "./render/nginx.ts";
import { commented, expr, type NixValue } from "./render/nix.ts";
import type { SpecModel } from "../spec/schema.ts";

const template = Handlebars.compile(readFileSync(projectPath("generators/templates/dashboard.html.hbs"), "utf8"), { strict: true });

/** The endpoints with a dashboard path, in spec order. */
export function dashboardLinks(spec: SpecModel): { path: string; port: number; name: string }[] {
  return Object.values(spec.endpoints)
    .filter((e): e is typeof e & { path: string } => e.path !== undefined)
    .map((e) => ({ path: e.path, port: e.port, name: e.name }));
}

/** The dashboard's address; `host` is the spec's host name unless a caller spells it otherwise (just's `{{host}}`). */
export function dashboardUrl(spec: SpecModel, host: string = spec.host.name): string {
  return `http://${host}${spec.dashboard.port === 80 ? "" : `:${spec.dashboard.port}`}/`;
}

const redirectTarget = (port: number) => `302 http://$host:${port}/`;

export function generateWeb(ctx: GenerateContext): { files: GeneratedFile[] } {
  const { spec } = ctx;
  const links = dashboardLinks(spec);
  const page = template({
    header: generatedHeader(ctx, "The dashboard page.").replace(/\n/g, " "),
    title: `${spec.dashboard.title}: media pipeline`,
    services: Object.values(spec.endpoints),
  });

  const nginxConf = renderNginx([
    comment(generatedHeader(ctx, "Standalone nginx config for the dashboard; on NixOS, out/nixos/web.nix configures the same server.")),
    block("events", [], []),
    block("http", [], [
      block("types", [], [directive("text/html", "html")]),
      directive("default_type", "application/octet-stream"),
      block("server", [], [
        directive("listen", spec.dashboard.port, "default_server"),
        directive("server_name", spec.host.name),
        directive("root", spec.standalone.wwwRoot),
        directive("index", "index.html"),
        comment("Each dashboard path sends the browser to the service's own port on the same host."),
        ...links.map((l) => block("location", [l.path], [directive("return", ...redirectTarget(l.port).split(" "))])),
      ]),
    ]),
  ]);

  return {
    files: [
      { path: "nginx/nginx.conf", contents: `${nginxConf}\n` },
      { path: "www/index.html", contents: page },
    ],
  };
}

/** The body of out/nixos/web.nix: the same server as nginx.conf, as NixOS nginx options. */
export function webNixosConfig(spec: SpecModel): NixValue {
  const links = dashboardLinks(spec);
  return {
    services: {
      nginx: {
        enable: true,
        virtualHosts: {
          [spec.host.name]: {
            default: true,
            listen: [{ addr: "0.0.0.0", port: spec.dashboard.port }],
            root: commented("The page is generated beside this module, in out/www.", expr('pkgs.writeTextDir "index.html" (builtins.readFile ../www/index.html)')),
            locations: Object.fromEntries(links.map((l) => [l.path, { return: redirectTarget(l.port) }])),
          },
        },
      },
    },
    networking: { firewall: { allowedTCPPorts: [spec.dashboard.port] } },
  };
}
