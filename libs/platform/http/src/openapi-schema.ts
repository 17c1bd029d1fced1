import type { SchemaObject as OpenApiSchema } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/**
 * A request's JSON Schema (the one the platform validates with) as OpenAPI 3.0 shows it, for
 * `@ApiBody({ schema })`: a `type` list with "null" becomes `nullable: true`; the rest is the same.
 */
export function openApiSchema(schema: object): OpenApiSchema {
  const convert = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(convert);
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'type' && Array.isArray(value)) {
        const types = value.filter((t) => t !== 'null');
        out.type = types.length === 1 ? types[0] : types;
        if (types.length < value.length) out.nullable = true;
      } else out[key] = convert(value);
    }
    return out;
  };
  return convert(schema) as OpenApiSchema;
}
