import { describe, expect, it } from 'vitest';
import { unstorableText } from './storable-text.ts';

describe('unstorableText', () => {
  it('accepts any well-formed Unicode without U+0000, astral characters and controls included', () => {
    for (const text of ['', 'plain', 'é', 'e\u0301', '😀', '𝄞', '\u0001\u001f\u007f', '\ufffe\uffff', '\ud83d\ude00']) expect(unstorableText(text)).toBeNull();
  });

  it('refuses U+0000 anywhere', () => {
    for (const text of ['\u0000', 'a\u0000', '\u0000b']) expect(unstorableText(text)).toMatch(/\\u0000/);
  });

  it('refuses a lone high or low surrogate, and pairs in the wrong order', () => {
    for (const text of ['\ud800', 'a\udbff', '\udc00b', '\ude00\ud83d', '😀\udc00']) expect(unstorableText(text)).toMatch(/lone surrogate/);
  });
});
