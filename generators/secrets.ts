/**
 * The secrets: every sops key the spec references, what each role's secrets file holds, and
 * out/secrets/b2.example.yaml, the layout of the sops file the host must create (keys, no values).
 * Encrypt a filled-in copy with `sops -e`. On NixOS the files are sops-nix templates; on a
 * standalone host they are written by hand into spec.standalone.secretsDir, in the same format.
 */
import { stringify } from "yaml";
import { generatedHeader, type GenerateContext, type GeneratedFile } from "./context.ts";
import { hashComment } from "./render/comment.ts";
import { SECRET_FILES, UNITS, type SecretFile } from "./model/units.ts";
import type { KeyRole, SpecModel } from "../spec/schema.ts";

export interface SecretRefEntry {
  readonly sopsKey: string;
  /** What the value is, for the example file. */
  readonly placeholder: string;
  /** Read by copyparty directly (a sops secret file), not through a template. */
  readonly copyparty?: boolean;
}

const ROLES: readonly KeyRole[] = ["mount", "upload", "cleanup"];
const APP_TITLES = { sonarr: "Sonarr", radarr: "Radarr", prowlarr: "Prowlarr" } as const;

/** Every sops key the spec references, in a stable order. */
export function secretRefs(spec: SpecModel): SecretRefEntry[] {
  const { b2Keys, rcloneRc } = spec.secrets;
  return [
    ...ROLES.flatMap((role) => [
      { sopsKey: b2Keys[role].keyId.sopsKey, placeholder: `<keyID of the ${role} key: ${b2Keys[role].capabilities.join(",")}>` },
      { sopsKey: b2Keys[role].applicationKey.sopsKey, placeholder: `<applicationKey of the ${role} key>` },
    ]),
    { sopsKey: rcloneRc.password.sopsKey, placeholder: "<RC password: openssl rand -hex 32>" },
    ...(["sonarr", "radarr", "prowlarr"] as const).flatMap((app) => [
      { sopsKey: spec.apps[app].apiKey.sopsKey, placeholder: `<${APP_TITLES[app]} API key: openssl rand -hex 16>` },
      { sopsKey: spec.apps[app].login.password.sopsKey, placeholder: `<${APP_TITLES[app]} password of ${spec.apps[app].login.user}>` },
    ]),
    { sopsKey: spec.apps.jellyfin.login.password.sopsKey, placeholder: `<Jellyfin password of ${spec.apps.jellyfin.login.user}>` },
    ...Object.entries(spec.copyparty.accounts).map(([name, a]) => ({ sopsKey: a.password.sopsKey, placeholder: `<copyparty password of ${name}>`, copyparty: true })),
  ];
}

/** A part of a secrets file: literal text, or the value of a sops key. */
export type SecretPart = string | { readonly sopsKey: string };

/** rclone reads the remote from RCLONE_CONFIG_<REMOTE>_* (rclone docs, "Config file"). */
function b2Env(spec: SpecModel, role: KeyRole): SecretPart[] {
  const env = `RCLONE_CONFIG_${spec.b2.remote.toUpperCase()}`;
  const key = spec.secrets.b2Keys[role];
  return [`${env}_TYPE=b2\n${env}_ACCOUNT=`, { sopsKey: key.keyId.sopsKey }, `\n${env}_KEY=`, { sopsKey: key.applicationKey.sopsKey }, "\n"];
}

/** What each secrets file holds. */
export function secretsFileContent(spec: SpecModel, file: SecretFile): SecretPart[] {
  const { user, password } = spec.secrets.rcloneRc;
  const pass = { sopsKey: password.sopsKey };
  switch (file) {
    case "mount":
      // rclone takes every flag from RCLONE_<FLAG> too: --rc-user and --rc-pass, off the command line.
      return [...b2Env(spec, "mount"), `RCLONE_RC_USER=${user}\nRCLONE_RC_PASS=`, pass, "\n"];
    case "upload":
      return b2Env(spec, "upload");
    case "cleanup":
      return b2Env(spec, "cleanup");
    case "nginx":
      return [`${user}:{PLAIN}`, pass, "\n"];
    case "operator":
      return [`machine 127.0.0.1 login ${user} password `, pass, "\n"];
    case "sonarr":
    case "radarr":
    case "prowlarr":
      // Servarr apps read any setting from <APP>__SECTION__KEY, before config.xml (Sonarr ConfigFileProvider.cs, AuthOptions).
      return [`${file.toUpperCase()}__AUTH__APIKEY=`, { sopsKey: spec.apps[file].apiKey.sopsKey }, "\n"];
  }
}

/** nginx's account, whose name the NixOS module owns (`config.services.nginx.user`). */
export const NGINX_ACCOUNT = "nginx";

/**
 * Who reads each secrets file (its owner, mode 0400), the unit restarted or reloaded when it
 * changes, and what it holds: for the sops-nix templates (why) and the docs (holds).
 */
export function secretReaders(spec: SpecModel): Record<SecretFile, { account: string; unit?: string; restart?: string; reload?: string; why: string; holds: string }> {
  return {
    mount: {
      account: spec.accounts.mount,
      unit: UNITS.mount.service,
      restart: UNITS.mount.service,
      why: "The mount's read-only B2 key, and the RC login (rclone reads RCLONE_RC_USER/RCLONE_RC_PASS).",
      holds: "the mount's B2 key (read), the RC login",
    },
    upload: { account: spec.accounts.upload, unit: UNITS.upload.service, why: "The upload key: lists and writes, cannot delete.", holds: "the upload's B2 key (list, write; no delete)" },
    cleanup: { account: spec.accounts.cleanup, unit: UNITS.cleanup.service, why: "The cleanup key: lists only.", holds: "the cleanup's B2 key (list)" },
    nginx: {
      account: NGINX_ACCOUNT,
      reload: "nginx.service",
      why: "The RC login for nginx, which asks for it on the dashboard's RC path ({PLAIN}: the file is the secret, readable by nginx alone).",
      holds: "the RC login, which nginx asks for on the dashboard's RC path",
    },
    // systemd reads an EnvironmentFile as root before it starts the service: root's alone, not the media account's.
    sonarr: { account: "root", unit: "sonarr.service", restart: "sonarr.service", why: "Sonarr's API key (SONARR__AUTH__APIKEY), chosen here so that no key is copied from its web UI; systemd reads the file as root.", holds: "Sonarr's API key (read by systemd)" },
    radarr: { account: "root", unit: "radarr.service", restart: "radarr.service", why: "Radarr's API key (RADARR__AUTH__APIKEY); systemd reads the file as root.", holds: "Radarr's API key (read by systemd)" },
    prowlarr: {
      account: "root",
      unit: "prowlarr.service",
      restart: "prowlarr.service",
      why: "Prowlarr's API key (PROWLARR__AUTH__APIKEY). Prowlarr runs as a DynamicUser; systemd reads the file as root before starting it.",
      holds: "Prowlarr's API key (read by systemd for Prowlarr's DynamicUser)",
    },
    operator: { account: "root", why: "The RC login for root's curl (the just recipes b2-cache and b2-transfers).", holds: "the RC login, for curl in the just recipes" },
  };
}

/** `b2/account_id` becomes `{ b2: { account_id: ... } }`, the nesting sops-nix reads. */
function nest(target: Record<string, unknown>, key: string, value: string): void {
  const parts = key.split("/");
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts[parts.length - 1]!] = value;
}

export function generateSecretsExample(ctx: GenerateContext): GeneratedFile {
  const { secrets } = ctx.spec;
  const doc: Record<string, unknown> = {};
  for (const ref of secretRefs(ctx.spec)) nest(doc, ref.sopsKey, ref.placeholder);
  const header = generatedHeader(
    ctx,
    `Layout of ${secrets.sopsFile} (relative to the host flake). Fill in, then encrypt with: sops -e -i ${secrets.sopsFile}\n` +
      `The host decrypts it with the age key at ${secrets.ageKeyFile}. Each B2 key is its own application key, created with the\n` +
      `capabilities shown (docs/media-pipeline.md, "Keys and logins"); the passwords are long random strings without spaces.`,
  );
  return { path: "secrets/b2.example.yaml", contents: `${hashComment(header)}\n${stringify(doc, { sortMapEntries: true })}` };
}

export { SECRET_FILES };
