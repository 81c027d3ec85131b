import { toJsonSchema, type ConversionConfig, type JsonSchema as Converted } from '@valibot/to-json-schema';
import type * as v from 'valibot';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1), as plain data. */
export type JsonSchema = { [keyword: string]: unknown };

const CONFIG: ConversionConfig = {
  target: 'draft-2020-12',
  // What a request or response holds once read: a page size is the number its text names.
  typeMode: 'output',
  // Checks written in JavaScript have no JSON Schema form: the metadata beside each in the
  // schema says what it checks (shared/event/event.schema.ts). Upper-casing changes no rule.
  ignoreActions: ['check', 'raw_check', 'to_upper_case'],
  overrideSchema: ({ valibotSchema, jsonSchema }) => {
    // The payload is a `custom` schema; its metadata says it is an object.
    if (valibotSchema.type === 'custom') return jsonSchema;
    // `type: ['string', 'null']` rather than `anyOf`: a checker then names what is wrong inside the value.
    const [inner, none] = (jsonSchema.anyOf ?? []) as JsonSchema[];
    if (valibotSchema.type === 'nullable' && typeof inner?.type === 'string' && inner.title === undefined && none?.type === 'null') {
      const { anyOf: _options, ...rest } = jsonSchema;
      return { ...inner, ...rest, type: [inner.type, 'null'] } as Converted;
    }
    // A query parameter's default is written as query text; the document gives the number it names.
    if (valibotSchema.type === 'optional' && jsonSchema.type === 'integer' && typeof jsonSchema.default === 'string') {
      return { ...jsonSchema, default: Number(jsonSchema.default) };
    }
    return undefined;
  },
};

/**
 * A schema for an OpenAPI document, converted from valibot. Every part with a
 * `title` moves to `components` under that title, and a `$ref` takes its place:
 * `v.pipe(schema, v.title('Stats'))` is `#/components/schemas/Stats`.
 *
 * @example jsonSchemaOf(v.pipe(Stats, v.title('Stats')), components) // { $ref: '#/components/schemas/Stats' }
 */
export function jsonSchemaOf(schema: v.GenericSchema, components: Record<string, JsonSchema>): JsonSchema {
  const { $schema: _dialect, ...converted } = toJsonSchema(schema, CONFIG) as JsonSchema;
  return hoisted(converted, components) as JsonSchema;
}

function hoisted(node: unknown, components: Record<string, JsonSchema>): unknown {
  if (Array.isArray(node)) return node.map((item) => hoisted(item, components));
  if (typeof node !== 'object' || node === null) return node;
  const schema = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, hoisted(value, components)]));
  if (typeof schema.title !== 'string') return schema;
  components[schema.title] = schema;
  return { $ref: `#/components/schemas/${schema.title}` };
}
