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
import { commented, expr, interpolate, nixAttrName, type NixValue } from "./render/nix.ts";
import type { SpecModel } from "../spec/schema.ts";
import { hasRc, rcListen, SECRET_FILES } from "./model/units.ts";

const template = Handlebars.compile(readFileSync(projectPath("generators/templates/dashboard.html.hbs"), "utf8"), { strict: true });
const rcTemplate = Handlebars.compile(readFileSync(projectPath("generators/templates/rclone.html.hbs"), "utf8"), { strict: true });

/** The RC page's file under the web root: the dashboard's RC path, then index.html. */
export const rcPageFile = (rcPath: string) => `${rcPath.replace(/^\//, "")}index.html`;

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

/**
 * Each dashboard path sends the browser to the service's own port on the configured host name, never
 * to the request's Host header (which any client can set).
 */
const redirectTarget = (spec: SpecModel, port: number) => `302 http://${spec.host.name}:${port}/`;

/** The dashboard path nginx proxies to the RC (with the RC login) instead of redirecting; undefined without an RC. */
export function rcProxyPath(spec: SpecModel): string | undefined {
  return hasRc(spec) ? spec.endpoints.rcloneRc.path : undefined;
}

/**
 * The RC methods nginx passes on: the two stats. The RC login unlocks every method on the RC itself
 * (core/command reads the mount's environment, the B2 key with it), so through nginx, where the
 * login crosses the LAN, only these are reachable.
 */
export const RC_METHODS_VIA_NGINX = ["core/stats", "vfs/stats"] as const;

/** The variable the `map` below sets to 1 when a request comes from a page of another origin. */
const FOREIGN_ORIGIN = "$mp_foreign_origin";

/**
 * http-level: an Origin header that is present and is not this server's own origin. Browsers send
 * Origin with every cross-site POST (and rclone's RC methods are POSTs), so a page on another site,
 * or on another port of this host, cannot drive the RC with a login the browser remembers.
 */
const originMap = () =>
  block("map", ["$http_origin|$scheme://$http_host", FOREIGN_ORIGIN], [
    directive("default", 1),
    comment("No Origin (curl, rclone rc, a top-level navigation) or this server's own origin."),
    directive("~^\\|", 0),
    directive("~^(?<mp_origin>[^|]+)\\|\\k<mp_origin>$", 0),
  ]);

/** The login and the origin checks, shared by the RC page and the RC proxy. */
function rcGuard(spec: SpecModel, htpasswd: string) {
  return [
    // A fixed realm: nginx would expand a `$` in the dashboard's title.
    directive("auth_basic", "rclone RC"),
    directive("auth_basic_user_file", htpasswd),
    block("if", [FOREIGN_ORIGIN], [directive("return", 403)]),
    block("if", ["$http_sec_fetch_site", "=", "cross-site"], [directive("return", 403)]),
  ];
}

/** One RC method's location: the login and origin checks, then the RC, which checks the same login itself. */
function rcLocation(spec: SpecModel, htpasswd: string) {
  const rc = rcListen(spec);
  return [...rcGuard(spec, htpasswd), directive("proxy_pass", `http://${rc.address}:${rc.port}`)];
}

/** The RC path itself: a page (out/www) that reads vfs/stats and core/stats with the same login. */
function rcPageLocation(spec: SpecModel, rcPath: string, htpasswd: string) {
  return [...rcGuard(spec, htpasswd), directive("try_files", `/${rcPageFile(rcPath)}`, "=404")];
}

export function generateWeb(ctx: GenerateContext): { files: GeneratedFile[] } {
  const { spec } = ctx;
  const links = dashboardLinks(spec);
  const rcPath = rcProxyPath(spec);
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
      comment("No nginx version in responses or error pages."),
      directive("server_tokens", "off"),
      ...(rcPath ? [originMap()] : []),
      block("server", [], [
        directive("listen", spec.dashboard.port, "default_server"),
        directive("server_name", spec.host.name),
        comment("nginx's own redirects (a missing trailing slash) name the configured host too."),
        directive("server_name_in_redirect", "on"),
        directive("root", spec.standalone.wwwRoot),
        directive("index", "index.html"),
        comment(`Each dashboard path sends the browser to the service's own port on ${spec.host.name}.`),
        ...links
          .filter((l) => l.path !== rcPath)
          .map((l) => block("location", [l.path], [directive("return", ...redirectTarget(spec, l.port).split(" "))])),
        ...(rcPath
          ? [
              comment(`The rclone RC listens on 127.0.0.1 only. nginx passes on ${RC_METHODS_VIA_NGINX.join(" and ")}, after the RC login and the origin checks; nothing else.`),
              block("location", [rcPath], [directive("return", 404)]),
              ...RC_METHODS_VIA_NGINX.map((m) => block("location", ["=", `${rcPath}${m}`], rcLocation(spec, `${spec.standalone.secretsDir}/${SECRET_FILES.nginx}`))),
              comment("The RC path itself: a page reading the RC's stats, behind the same login."),
              block("location", ["=", rcPath], rcPageLocation(spec, rcPath, `${spec.standalone.secretsDir}/${SECRET_FILES.nginx}`)),
            ]
          : []),
      ]),
    ]),
  ]);

  const files: GeneratedFile[] = [
    { path: "nginx/nginx.conf", contents: `${nginxConf}\n` },
    { path: "www/index.html", contents: page },
  ];
  if (rcPath) {
    files.push({
      path: `www/${rcPageFile(rcPath)}`,
      contents: rcTemplate({
        header: generatedHeader(ctx, "The rclone RC page.").replace(/\n/g, " "),
        title: `${spec.dashboard.title}: B2 mount`,
        host: spec.host.name,
        path: rcPath,
        user: spec.secrets.rcloneRc.user,
        refreshSeconds: 5,
      }),
    });
  }
  return { files };
}

/** The body of out/nixos/web.nix: the same server as nginx.conf, as NixOS nginx options. */
export function webNixosConfig(spec: SpecModel): NixValue {
  const links = dashboardLinks(spec);
  const rcPath = rcProxyPath(spec);
  // The htpasswd path is known at activation only: a marker in the rendered text becomes a Nix interpolation.
  const marker = "@HTPASSWD@";
  const rcText = rcPath ? renderNginx(rcLocation(spec, marker).filter((d) => !("name" in d && d.name === "proxy_pass"))) : "";
  const withHtpasswd = (text: string) => {
    const [before, after] = text.split(marker);
    return interpolate(before ?? "", expr(`config.sops.templates.${nixAttrName(SECRET_FILES.nginx)}.path`), after ?? "");
  };
  const rcDirectives = withHtpasswd(rcText);
  const rcPageDirectives = rcPath ? withHtpasswd(renderNginx(rcPageLocation(spec, rcPath, marker))) : "";
  return {
    services: {
      nginx: {
        enable: true,
        serverTokens: commented("No nginx version in responses or error pages (the module's default, stated).", false),
        ...(rcPath ? { appendHttpConfig: renderNginx([originMap()]) } : {}),
        virtualHosts: {
          [spec.host.name]: {
            default: true,
            listen: [{ addr: "0.0.0.0", port: spec.dashboard.port }],
            root: commented("The pages are generated beside this module, in out/www.", expr("../www")),
            extraConfig: commented("nginx's own redirects (a missing trailing slash) name the configured host, not the request's Host.", "server_name_in_redirect on;"),
            locations: Object.fromEntries([
              ...links.filter((l) => l.path !== rcPath).map((l) => [l.path, { return: redirectTarget(spec, l.port) }]),
              ...(rcPath
                ? [
                    [rcPath, commented(`The rclone RC listens on 127.0.0.1 only. nginx passes on ${RC_METHODS_VIA_NGINX.join(" and ")}, after the RC login and the origin checks; nothing else.`, { return: "404" })],
                    ...RC_METHODS_VIA_NGINX.map((m) => [`= ${rcPath}${m}`, { proxyPass: `http://${rcListen(spec).address}:${rcListen(spec).port}`, extraConfig: rcDirectives }]),
                    [`= ${rcPath}`, commented("The RC path itself: a page reading the RC's stats, behind the same login.", { extraConfig: rcPageDirectives })],
                  ]
                : []),
            ]),
          },
        },
      },
    },
    networking: { firewall: { allowedTCPPorts: [spec.dashboard.port] } },
  };
}
