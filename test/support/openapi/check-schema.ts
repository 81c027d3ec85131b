import type { JsonSchema } from '../../../shared/openapi/json-schema.ts';

// Keywords that only describe: they constrain nothing.
const ANNOTATIONS = new Set(['description', 'default', 'title', 'examples']);
const KNOWN = new Set([
  ...ANNOTATIONS, '$ref', 'type', 'properties', 'required', 'additionalProperties', 'items', 'minItems',
  'enum', 'const', 'oneOf', 'anyOf', 'propertyNames', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'format',
]);

// RFC 3339 date-time, the meaning of `format: date-time` in JSON Schema.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

const isObject = (value: unknown): value is Record<string, unknown> => typeOf(value) === 'object';

/**
 * The ways `value` breaks `schema`, as `path: problem` lines (none when it
 * conforms). A subset of JSON Schema 2020-12, enough for this project's OpenAPI
 * documents: a keyword outside the subset throws, so a schema can never pass
 * because the checker skipped part of it. `$ref`s resolve against `root`.
 *
 * @example schemaProblems(document, { $ref: '#/components/schemas/Stats' }, body) // []
 */
export function schemaProblems(root: unknown, schema: JsonSchema, value: unknown, path = '$'): string[] {
  for (const keyword of Object.keys(schema)) if (!KNOWN.has(keyword)) throw new Error(`${path}: unsupported schema keyword ${keyword}`);
  if (typeof schema.$ref === 'string') return schemaProblems(root, resolve(root, schema.$ref), value, path);

  const problems: string[] = [];
  const fail = (problem: string) => problems.push(`${path}: ${problem}`);
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const allowed = ([] as unknown[]).concat(schema.type);
    if (!allowed.includes(actual) && !(actual === 'integer' && allowed.includes('number'))) return [`${path}: is ${actual}, not ${allowed.join(' or ')}`];
  }
  if ('const' in schema && value !== schema.const) fail(`is ${JSON.stringify(value)}, not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) fail(`is ${JSON.stringify(value)}, not one of ${JSON.stringify(schema.enum)}`);
  if (Array.isArray(schema.oneOf)) {
    const matching = (schema.oneOf as JsonSchema[]).filter((option) => schemaProblems(root, option, value, path).length === 0).length;
    if (matching !== 1) fail(`matches ${matching} of the oneOf options, not exactly one`);
  }
  if (Array.isArray(schema.anyOf) && !(schema.anyOf as JsonSchema[]).some((option) => schemaProblems(root, option, value, path).length === 0)) {
    fail('matches none of the anyOf options');
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`${value} is under ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`${value} is over ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) fail(`is shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) fail(`is longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) fail(`does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && !DATE_TIME.test(value)) fail('is not an RFC 3339 date-time');
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail(`has fewer than ${schema.minItems} items`);
    if (isObject(schema.items)) value.forEach((item, i) => problems.push(...schemaProblems(root, schema.items as JsonSchema, item, `${path}[${i}]`)));
  }
  if (isObject(value)) problems.push(...objectProblems(root, schema, value, path));
  return problems;
}

function objectProblems(root: unknown, schema: JsonSchema, value: Record<string, unknown>, path: string): string[] {
  const problems: string[] = [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const name of (schema.required ?? []) as string[]) if (!(name in value)) problems.push(`${path}: lacks ${name}`);
  for (const [name, field] of Object.entries(value)) {
    if (isObject(schema.propertyNames)) problems.push(...schemaProblems(root, schema.propertyNames, name, `${path} key ${name}`));
    const rule = properties[name] ?? schema.additionalProperties;
    if (rule === false) problems.push(`${path}: has ${name}, which the schema does not allow`);
    else if (isObject(rule)) problems.push(...schemaProblems(root, rule, field, `${path}.${name}`));
  }
  return problems;
}

function resolve(root: unknown, pointer: string): JsonSchema {
  if (!pointer.startsWith('#/')) throw new Error(`only local $refs are supported: ${pointer}`);
  let node: unknown = root;
  for (const part of pointer.slice(2).split('/')) node = isObject(node) ? node[part.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
  if (!isObject(node)) throw new Error(`$ref ${pointer} does not resolve`);
  return node as JsonSchema;
}
