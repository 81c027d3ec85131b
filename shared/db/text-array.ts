// Characters that need a backslash inside a double-quoted element of a PostgreSQL array literal.
const QUOTED_SPECIAL = /["\\]/;
const QUOTED_SPECIALS = /["\\]/g;

/**
 * `values` as a PostgreSQL array literal, each element double-quoted, for a `$n::text[]` (or
 * `::timestamptz[]`) parameter. node-postgres writes a JS array the same way, but runs two
 * regular-expression replaces and a type dispatch on every element; a claim's store sends five
 * arrays of up to thousands of elements, and almost none holds a quote or a backslash, so this
 * joins them in one step and escapes only when one does.
 *
 * @example textArrayLiteral(['a', 'b "c"']) // '{"a","b \\"c\\""}'
 */
export function textArrayLiteral(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  const escaped = values.some((value) => QUOTED_SPECIAL.test(value)) ? values.map((value) => value.replace(QUOTED_SPECIALS, '\\$&')) : values;
  return `{"${escaped.join('","')}"}`;
}
