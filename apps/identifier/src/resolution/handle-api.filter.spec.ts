import { escapeUnsafe } from './handle-api.filter';

describe('escapeUnsafe: what an error body may repeat of a client-chosen string', () => {
  it.each([
    ['a right-to-left override', '88.100/a\u202Eb', '88.100/a\\u202Eb'],
    ['a C0 control and DEL', 'a\u0000b\u007F', 'a\\u0000b\\u007F'],
    ['a C1 control', 'a\u0085', 'a\\u0085'],
    ['an isolate', '\u2066x\u2069', '\\u2066x\\u2069'],
    ['a line separator', 'a\u2028b', 'a\\u2028b'],
    ['a lone surrogate', 'a\uD800b', 'a\\uD800b'],
    ['U+FFFD and a noncharacter', '\uFFFD\uFDD0', '\\uFFFD\\uFDD0'],
    ['a supplementary noncharacter', 'x\u{1FFFE}', 'x\\u{1FFFE}'],
  ])('escapes %s', (_name, input, expected) => {
    expect(escapeUnsafe(input)).toBe(expected);
  });

  it('leaves printable text of any script, emoji (surrogate pairs) included, as it is', () => {
    for (const text of ['88.100.1234/泵-000042', 'Ωmega é', 'pump 🚀 7', '/api/handles/88.100/a%E2%80%AEb']) {
      expect(escapeUnsafe(text)).toBe(text);
    }
  });
});
