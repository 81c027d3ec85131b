// PostgreSQL keeps text and jsonb as UTF-8. It refuses U+0000 in both, and a
// UTF-16 surrogate that is not half of a pair (JSON can spell one: "\ud800").
// Accepting either would turn the event into poison that no retry can store.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why PostgreSQL would refuse a string, or null when it can store it as given.
 *
 * @example unstorableText('a\u0000b') // 'must not contain \\u0000'
 */
export function unstorableText(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain \\u0000';
  // In a `u` regular expression a paired surrogate is one code point; only a lone half matches \p{Cs}.
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (it holds a lone surrogate)';
  return null;
}
