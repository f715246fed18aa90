/**
 * out/secrets/b2.example.yaml: the layout of the sops file the host must create, with the keys
 * the spec references and no values. Encrypt a filled-in copy with `sops -e`.
 */
import { stringify } from "yaml";
import { generatedHeader, type GenerateContext, type GeneratedFile } from "./context.ts";
import { hashComment } from "./render/comment.ts";

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
  nest(doc, secrets.b2AccountId.sopsKey, "<B2 keyID>");
  nest(doc, secrets.b2ApplicationKey.sopsKey, "<B2 applicationKey>");
  const header = generatedHeader(
    ctx,
    `Layout of ${secrets.sopsFile} (relative to the host flake). Fill in, then encrypt with: sops -e -i ${secrets.sopsFile}\nThe host decrypts it with the age key at ${secrets.ageKeyFile}.`,
  );
  return { path: "secrets/b2.example.yaml", contents: `${hashComment(header)}\n${stringify(doc, { sortMapEntries: true })}` };
}
