/**
 * Checks requests and responses against an app's published OpenAPI 3.0 document (data in
 * ../shared/contracts, see its README). Each mismatch comes back as one sentence.
 *
 * OpenAPI 3.0 schemas are not quite JSON Schema: `nullable: true` becomes a `null` type, every
 * `$ref: #/components/schemas/X` points into one schema registered under the id "contract", and
 * the formats the documents use (int32, int64, double, float, date-time, uuid) are defined here.
 */
import AjvModule, { type ValidateFunction } from "ajv";

// ajv is CommonJS; under NodeNext its default export is the module object.
const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;

type Json = Record<string, unknown>;
interface Operation {
  parameters?: { name: string; in: string; schema?: Json; required?: boolean }[];
  requestBody?: { content?: Record<string, { schema?: Json }> };
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

/**
 * Properties the apps' sources send that their published documents lack (the documents set
 * `additionalProperties: false`, so a faithful response would otherwise count as a violation).
 * Each entry names the source that has the property.
 */
export type ContractPatch = { schema: string; property: string; type: Json; source: string };

function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === "nullable") continue;
    if (key === "$ref" && typeof value === "string") out.$ref = value.replace(/^#\//, "contract#/");
    else out[key] = toJsonSchema(value);
  }
  const n = node as Json;
  if (n.nullable === true) {
    if (typeof n.type === "string") out.type = [n.type, "null"];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    if (typeof n.$ref === "string") return { anyOf: [{ $ref: out.$ref }, { type: "null" }] };
  }
  return out;
}

export class Contract {
  private readonly ajv;
  private readonly compiled = new Map<unknown, ValidateFunction>();
  private readonly routes: { method: string; template: string; regex: RegExp; op: Operation }[] = [];

  constructor(readonly app: string, doc: object, patches: ContractPatch[] = []) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    const int = (bits: number) => (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** (bits - 1);
    this.ajv.addFormat("int32", { type: "number", validate: int(32) });
    this.ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
    this.ajv.addFormat("double", { type: "number", validate: () => true });
    this.ajv.addFormat("float", { type: "number", validate: () => true });
    this.ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));
    this.ajv.addFormat("uuid", /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i);
    const d = structuredClone(doc) as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Json> } };
    for (const p of patches) {
      const schema = d.components.schemas[p.schema];
      const props = schema?.properties as Json | undefined;
      if (props && !(p.property in props)) props[p.property] = p.type;
    }
    this.ajv.addSchema({ $id: "contract", components: toJsonSchema(d.components) });
    for (const [template, ops] of Object.entries(d.paths)) {
      const regex = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "([^/]+)")}$`, "i");
      for (const [method, op] of Object.entries(ops)) this.routes.push({ method: method.toUpperCase(), template, regex, op });
    }
    // Literal paths win over templated ones (/downloadclient/schema before /downloadclient/{id}).
    this.routes.sort((a, b) => (a.template.includes("{") ? 1 : 0) - (b.template.includes("{") ? 1 : 0));
  }

  /** The documented operation for a request, or undefined. */
  find(method: string, path: string) {
    for (const r of this.routes) {
      const m = r.method === method && r.regex.exec(path);
      if (!m) continue;
      const names = [...r.template.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]!);
      return { template: r.template, op: r.op, pathParams: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
    }
    return undefined;
  }

  private check(schema: unknown, value: unknown, where: string): string[] {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as object);
      this.compiled.set(schema, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${where}${e.instancePath || ""} ${e.message}${e.params && "allowedValues" in e.params ? ` (${(e.params.allowedValues as unknown[]).join(", ")})` : ""}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`);
  }

  /** Mismatches of a request: undocumented operation, query and path parameter types, JSON body. */
  request(method: string, path: string, query: URLSearchParams, body: unknown, contentType: string): string[] {
    const found = this.find(method, path);
    const tag = `${this.app} contract: ${method} ${path}`;
    if (!found) return [`${tag}: no such operation in the published document`];
    const out: string[] = [];
    for (const p of found.op.parameters ?? []) {
      const raw = p.in === "query" ? query.get(p.name) : p.in === "path" ? found.pathParams[p.name] : undefined;
      if (raw === undefined || raw === null) continue;
      const type = p.schema?.type;
      const value = type === "integer" || type === "number" ? (/^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw)
        : type === "boolean" ? (/^(true|false)$/i.test(raw) ? raw.toLowerCase() === "true" : raw) : raw;
      out.push(...this.check(p.schema ?? {}, value, `${tag}: ${p.in} parameter ${p.name}`));
    }
    const content = found.op.requestBody?.content;
    if (content && body !== undefined) {
      const json = Object.entries(content).find(([ct]) => ct.includes("json"));
      if (contentType.includes("json") && json?.[1].schema) out.push(...this.check(json[1].schema, body, `${tag}: request body`));
    }
    return out;
  }

  /**
   * Mismatches of a JSON response. The documents list only "200" for operations whose sources
   * answer 201 (CreatedAtAction) or 202 (AcceptedAtAction), so a 2xx without its own entry is
   * checked against the 200 entry.
   */
  response(method: string, path: string, status: number, body: unknown): string[] {
    const found = this.find(method, path);
    if (!found || body === undefined) return [];
    const responses = found.op.responses ?? {};
    const entry = responses[String(status)] ?? (status < 300 ? responses["200"] : undefined);
    const schema = entry?.content?.["application/json"]?.schema;
    return schema ? this.check(schema, body, `${this.app} contract: ${method} ${path}: response ${status}`) : [];
  }
}
