import { JsonTooDeepError, assertSafeInput, findUnsafeStrings, jsonDepthExceeds, parseBoundedJson } from './input-safety';
import { RequestValidationError } from './validation';

describe('jsonDepthExceeds', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(jsonDepthExceeds('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1,{"b":[2]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[[[[[[[' }), 2)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ s: 'quote \\" then [[[[' }), 2)).toBe(false);
  });
  it('finds 10,000 levels without recursing', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    expect(jsonDepthExceeds(Buffer.from(deep))).toBe(true);
    expect(() => parseBoundedJson(deep)).toThrow(JsonTooDeepError);
    expect(parseBoundedJson('[[1]]')).toEqual([[1]]);
  });
});

describe('findUnsafeStrings', () => {
  it('names U+0000 and lone surrogates in values and keys, by path', () => {
    const found = findUnsafeStrings(
      { name: 'ok', contact: { email: 'a\u0000b' }, list: ['x', '\ud800'], ['k\u0000']: 1, pair: '\ud83d\ude00', low: '\udc00' },
      '',
    );
    expect(found.map((f) => f.field)).toEqual(['contact.email', 'list[1]', '"k\\u0000"', 'low']);
  });
  it('accepts well-formed text, including astral characters', () => {
    expect(findUnsafeStrings({ a: '设备 😀', b: [1, true, null] }, '')).toEqual([]);
  });
  it('assertSafeInput throws a validation error naming every part', () => {
    expect(() => assertSafeInput({ prefix: 'a\u0000' })).toThrow(RequestValidationError);
    const err = (() => {
      try {
        assertSafeInput({ prefix: 'a\u0000', value: '\udfff' });
      } catch (e) {
        return e as RequestValidationError;
      }
    })();
    expect(err?.fieldErrors.map((f) => f.field)).toEqual(['prefix', 'value']);
  });
});
