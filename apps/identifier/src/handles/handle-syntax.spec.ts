import {
  HANDLE_SYNTAX_PROBLEMS,
  HandleSyntaxError,
  HandleSyntaxProblem,
  MAX_HANDLE_INPUT_LENGTH,
  MAX_PREFIX_LENGTH,
  MAX_PREFIX_SEGMENT_LENGTH,
  MAX_PREFIX_SEGMENTS,
  MAX_SUFFIX_LENGTH,
  ParsedHandle,
  canonicalPrefix,
  enterpriseAllocationProblem,
  foldAsciiCase,
  isHandleSyntaxError,
  isUnderPrefix,
  parentPrefixes,
  parseHandle,
  parsePrefix,
  parsePrefixRecord,
  prefixRecordHandle,
  utf8ByteLength,
} from './handle-syntax';

function parsed(input: string): ParsedHandle {
  const result = parseHandle(input);
  if (isHandleSyntaxError(result)) throw new Error(`expected ${JSON.stringify(input)} to parse, got ${result.problem}: ${result.message}`);
  return result;
}

function rejected(input: string): HandleSyntaxError {
  const result = parseHandle(input);
  if (!isHandleSyntaxError(result)) throw new Error(`expected ${JSON.stringify(input)} to be rejected, got ${JSON.stringify(result)}`);
  return result;
}

/** A valid prefix of exactly `length` characters: 3-digit segments, the last one padded. */
function prefixOfLength(length: number): string {
  const segments: string[] = [];
  let used = -1;
  while (used + 4 <= length && segments.length < MAX_PREFIX_SEGMENTS - 1) {
    segments.push('123');
    used += 4;
  }
  segments.push('9'.repeat(length - used - 1));
  return segments.join('.');
}

const NFD = (s: string) => s.normalize('NFD');

describe('parseHandle: valid handles', () => {
  // [input, prefix, suffix (NFC, display), key]
  it.each<[string, string, string, string]>([
    ['88.100.1234/PUMP-000042', '88.100.1234', 'PUMP-000042', '88.100.1234/pump-000042'],
    ['88.100.1234/pump-000042', '88.100.1234', 'pump-000042', '88.100.1234/pump-000042'],
    ['88.100.1234/泵-000042', '88.100.1234', '泵-000042', '88.100.1234/泵-000042'],
    ['88.100.1234/设备/泵/Ⅱ型', '88.100.1234', '设备/泵/Ⅱ型', '88.100.1234/设备/泵/Ⅱ型'],
    ['88.100.1234/a/b/C', '88.100.1234', 'a/b/C', '88.100.1234/a/b/c'],
    ['88.100.1234//x', '88.100.1234', '/x', '88.100.1234//x'],
    ['88/x', '88', 'x', '88/x'],
    ['0/x', '0', 'x', '0/x'],
    ['20.500.12345/ABC', '20.500.12345', 'ABC', '20.500.12345/abc'],
    ['88.101.0042/001', '88.101.0042', '001', '88.101.0042/001'],
    ['88.100/PUMP 42', '88.100', 'PUMP 42', '88.100/pump 42'],
    ['88.100/a%2Fb', '88.100', 'a%2Fb', '88.100/a%2fb'],
    ['88.100/ÄBC', '88.100', 'ÄBC', '88.100/Äbc'],
    ['88.100/ΣΊΣΥΦΟΣ', '88.100', 'ΣΊΣΥΦΟΣ', '88.100/ΣΊΣΥΦΟΣ'],
    ['88.100/ＡＢＣ', '88.100', 'ＡＢＣ', '88.100/ＡＢＣ'],
    ['88.100/İSTANBUL', '88.100', 'İSTANBUL', '88.100/İstanbul'],
    ['88.100/😀-𠀀', '88.100', '😀-𠀀', '88.100/😀-𠀀'],
    ['88.100/\u212A', '88.100', 'K', '88.100/k'], // KELVIN SIGN is canonically K: NFC first, then ASCII folding
    ['88.100/e\u0301', '88.100', '\u00E9', '88.100/\u00E9'],
    ['88.100/a\u200Db', '88.100', 'a\u200Db', '88.100/a\u200Db'], // ZWJ is a format character, not a control
    // Prefixes of the whole Handle System (RFC 3651 §2.1), their ASCII letters upper-cased as HANDLE.NET does.
    ['21.T14999/ABC', '21.T14999', 'ABC', '21.T14999/abc'],
    ['21.t14999/ABC', '21.T14999', 'ABC', '21.T14999/abc'],
    ['11500/7', '11500', '7', '11500/7'],
    ['10.1045/april2006-paskin', '10.1045', 'april2006-paskin', '10.1045/april2006-paskin'],
    ['ncstrl.vatech_cs/tr-93-35', 'NCSTRL.VATECH_CS', 'tr-93-35', 'NCSTRL.VATECH_CS/tr-93-35'], // RFC 3650's own example
    ['abc/x', 'ABC', 'x', 'ABC/x'],
    ['88.abc.1/x', '88.ABC.1', 'x', '88.ABC.1/x'],
    ['-88/x', '-88', 'x', '-88/x'],
    ['a-b_c.1/x', 'A-B_C.1', 'x', 'A-B_C.1/x'],
    ['0.na.1/x', '0.NA.1', 'x', '0.NA.1/x'], // only 0.NA itself is the prefix-record namespace
  ])('%j', (input, prefix, suffix, key) => {
    expect(parsed(input)).toEqual({ prefix, suffix, handle: `${prefix}/${suffix}`, key });
  });
});

describe('parseHandle: invalid handles', () => {
  it.each<[string, string, HandleSyntaxProblem]>([
    ['empty string', '', 'EMPTY'],
    ['only spaces', '   ', 'EMPTY'],
    ['prefix only', '88.100', 'MISSING_SEPARATOR'],
    ['nothing after /', '88.100/', 'EMPTY_SUFFIX'],
    ['nothing before /', '/x', 'INVALID_PREFIX'],
    ['just a slash', '/', 'INVALID_PREFIX'],
    ['empty segment', '88..1/x', 'INVALID_PREFIX'],
    ['leading dot', '.88/x', 'INVALID_PREFIX'],
    ['trailing dot', '88./x', 'INVALID_PREFIX'],
    ['empty segment in a world prefix', '21..T14999/x', 'INVALID_PREFIX'],
    ['trailing dot in a world prefix', '21.T14999./x', 'INVALID_PREFIX'],
    ['leading dot in a world prefix', '.21.T14999/x', 'INVALID_PREFIX'],
    ['fullwidth digits', '８８.100/x', 'INVALID_PREFIX'],
    ['Arabic-Indic digits', '٨٨.100/x', 'INVALID_PREFIX'],
    ['non-ASCII letter', '21.Ä14999/x', 'INVALID_PREFIX'],
    ['fullwidth letter', '21.Ｔ14999/x', 'INVALID_PREFIX'],
    ['Kelvin sign (folds to K elsewhere)', '21.\u212A1/x', 'INVALID_PREFIX'],
    ['dotless i', '21.\u01311/x', 'INVALID_PREFIX'],
    ['Chinese prefix', '工业.1/x', 'INVALID_PREFIX'],
    ['space before /', '88.100 /x', 'INVALID_PREFIX'],
    ['a URL is not a handle', 'http://example.com', 'INVALID_PREFIX'],
    ['an admin reference is not a handle', '300:0.NA/88.100', 'INVALID_PREFIX'],
    ['percent in a prefix', '21.T%31/x', 'INVALID_PREFIX'],
    ['other punctuation in a prefix', '21.T~1/x', 'INVALID_PREFIX'],
    ['at sign in a prefix', 'a@b/x', 'INVALID_PREFIX'],
    ['space inside a prefix', '21.T 14999/x', 'INVALID_PREFIX'],
    ['no-break space inside a prefix', '21.T\u00A014999/x', 'INVALID_PREFIX'],
    ['ideographic space inside a prefix', '21.T\u300014999/x', 'INVALID_PREFIX'],
    ['tab inside a prefix', '21.T\t14999/x', 'INVALID_CHARACTER'],
    ['DEL inside a prefix', '21.T\u007F14999/x', 'INVALID_CHARACTER'],
    ['C1 control inside a prefix', '21.T\u008514999/x', 'INVALID_CHARACTER'],
    ['world prefix segment too long', `21.${'T'.repeat(MAX_PREFIX_SEGMENT_LENGTH + 1)}/x`, 'PREFIX_TOO_LONG'],
    ['prefix record is not a handle', '0.NA/88.100', 'INVALID_PREFIX'],
    ['prefix record, lower case', '0.na/88.100', 'INVALID_PREFIX'],
    ['prefix over the limit', `${prefixOfLength(MAX_PREFIX_LENGTH + 1)}/x`, 'PREFIX_TOO_LONG'],
    [
      'too many segments',
      `${Array(MAX_PREFIX_SEGMENTS + 1)
        .fill('1')
        .join('.')}/x`,
      'PREFIX_TOO_LONG',
    ],
    ['segment too long', `88.${'1'.repeat(MAX_PREFIX_SEGMENT_LENGTH + 1)}/x`, 'PREFIX_TOO_LONG'],
    ['suffix over the limit (ASCII)', `88.100/${'a'.repeat(MAX_SUFFIX_LENGTH + 1)}`, 'SUFFIX_TOO_LONG'],
    ['suffix over the limit (Chinese, 3 bytes each)', `88.100/${'泵'.repeat(342)}`, 'SUFFIX_TOO_LONG'],
    ['suffix over the limit (emoji, 4 bytes each)', `88.100/${'😀'.repeat(257)}`, 'SUFFIX_TOO_LONG'],
    ['input over the guard', `88.100/${'a'.repeat(MAX_HANDLE_INPUT_LENGTH)}`, 'HANDLE_TOO_LONG'],
    ['NUL', '88.100/a\u0000b', 'INVALID_CHARACTER'],
    ['tab', '88.100/a\tb', 'INVALID_CHARACTER'],
    ['trailing newline', '88.100/ab\n', 'INVALID_CHARACTER'],
    ['carriage return', '88.100/a\rb', 'INVALID_CHARACTER'],
    ['DEL', '88.100/a\u007Fb', 'INVALID_CHARACTER'],
    ['C1 NEL', '88.100/a\u0085b', 'INVALID_CHARACTER'],
    ['C1 U+009F', '88.100/a\u009Fb', 'INVALID_CHARACTER'],
    ['control character in the prefix', '88.1\u0001/x', 'INVALID_CHARACTER'],
    ['U+FFFD replacement character', '88.100/pump\uFFFD42', 'INVALID_CHARACTER'],
    ['lone high surrogate', '88.100/a\uD800b', 'INVALID_CHARACTER'],
    ['lone low surrogate', '88.100/a\uDC00b', 'INVALID_CHARACTER'],
    ['surrogates in the wrong order', '88.100/\uDE00\uD83D', 'INVALID_CHARACTER'],
    ['high surrogate at the end', '88.100/abc\uD83D', 'INVALID_CHARACTER'],
    ['line separator', '88.100/a\u2028b', 'INVALID_CHARACTER'],
    ['right-to-left override', '88.100/abc\u202Edef', 'INVALID_CHARACTER'],
    ['first strong isolate', '88.100/abc\u2068def', 'INVALID_CHARACTER'],
    ['noncharacter U+FFFE', '88.100/a\uFFFEb', 'INVALID_CHARACTER'],
    ['noncharacter U+FDD0', '88.100/a\uFDD0b', 'INVALID_CHARACTER'],
    ['noncharacter U+10FFFF', '88.100/a\u{10FFFF}b', 'INVALID_CHARACTER'],
    ['leading space', ' 88.100/x', 'SURROUNDING_WHITESPACE'],
    ['trailing space', '88.100/x ', 'SURROUNDING_WHITESPACE'],
    ['space after /', '88.100/ x', 'SURROUNDING_WHITESPACE'],
    ['trailing ideographic space', '88.100/泵\u3000', 'SURROUNDING_WHITESPACE'],
    ['trailing no-break space', '88.100/x\u00A0', 'SURROUNDING_WHITESPACE'],
    ['leading byte order mark', '\uFEFF88.100/x', 'SURROUNDING_WHITESPACE'],
  ])('%s', (_name, input, problem) => {
    const error = rejected(input);
    expect(error.problem).toBe(problem);
    expect(error.message.length).toBeGreaterThan(20);
  });

  it('rejects non-string input as EMPTY instead of throwing', () => {
    for (const value of [undefined, null, 42, ['88.100/x']]) {
      expect(rejected(value as unknown as string).problem).toBe('EMPTY');
    }
  });
});

describe('parseHandle: case, normalisation and comparison', () => {
  it('folds ASCII case into the same key and keeps the case for display', () => {
    const upper = parsed('88.100.1234/PUMP-1');
    const lower = parsed('88.100.1234/pump-1');
    const mixed = parsed('88.100.1234/Pump-1');
    expect(upper.key).toBe(lower.key);
    expect(mixed.key).toBe(lower.key);
    expect([upper.suffix, lower.suffix, mixed.suffix]).toEqual(['PUMP-1', 'pump-1', 'Pump-1']);
    expect(upper.handle).toBe('88.100.1234/PUMP-1');
  });

  it.each([
    ['Ä', 'ä'],
    ['Σ', 'σ'],
    ['Å', 'å'],
    ['Ａ', 'ａ'],
    ['İ', 'i'],
  ])('does not fold the non-ASCII %s into %s', (a, b) => {
    expect(parsed(`88.100/${a}`).key).not.toBe(parsed(`88.100/${b}`).key);
  });

  it.each(['Ä-泵', 'Ǖ', 'ệ', 'ᾇ', '한국', 'Å'])('gives NFC and NFD forms of %s the same key and NFC display', (text) => {
    const composed = parsed(`88.100/${text.normalize('NFC')}`);
    const decomposed = parsed(`88.100/${NFD(text)}`);
    expect(NFD(text)).not.toBe(text.normalize('NFC'));
    expect(decomposed.key).toBe(composed.key);
    expect(decomposed.suffix).toBe(text.normalize('NFC'));
    expect(decomposed.handle).toBe(composed.handle);
  });

  it('normalises before folding, so a decomposed capital compares like its precomposed form', () => {
    // A + COMBINING RING composes to Å, which is not ASCII and so keeps its case.
    expect(parsed('88.100/A\u030A').key).toBe(parsed('88.100/\u00C5').key);
    expect(parsed('88.100/A\u030A').key).not.toBe(parsed('88.100/a\u030A').key);
  });

  it('folds the ASCII case of a world prefix: 21.t14999/abc and 21.T14999/ABC are one handle', () => {
    const lower = parsed('21.t14999/abc');
    const upper = parsed('21.T14999/ABC');
    expect(lower.key).toBe(upper.key);
    expect([lower.prefix, upper.prefix]).toEqual(['21.T14999', '21.T14999']);
    expect([lower.handle, upper.handle]).toEqual(['21.T14999/abc', '21.T14999/ABC']);
    expect(parsed('21.T14999/x').key).not.toBe(parsed('21.T14998/x').key);
  });

  it('treats prefix segments as strings: leading zeros are significant', () => {
    expect(parsed('88.101.0042/x').key).not.toBe(parsed('88.101.42/x').key);
  });

  it('splits on the first slash only', () => {
    const h = parsed('88.100.1234/lot/2024/泵');
    expect([h.prefix, h.suffix]).toEqual(['88.100.1234', 'lot/2024/泵']);
  });

  it('does not percent-decode', () => {
    const h = parsed('88.100/%E6%B3%B5');
    expect(h.suffix).toBe('%E6%B3%B5');
    expect(h.key).not.toBe(parsed('88.100/泵').key);
  });
});

describe('parseHandle: limits', () => {
  it('has the documented limits (HANDLE_SYNTAX.md)', () => {
    expect([MAX_PREFIX_LENGTH, MAX_PREFIX_SEGMENTS, MAX_PREFIX_SEGMENT_LENGTH, MAX_SUFFIX_LENGTH]).toEqual([64, 16, 20, 1024]);
    expect(MAX_HANDLE_INPUT_LENGTH).toBe(2 * (64 + 1 + 1024));
  });

  it('accepts a prefix of exactly the maximum length and rejects one more character', () => {
    const longest = prefixOfLength(MAX_PREFIX_LENGTH);
    expect(longest).toHaveLength(MAX_PREFIX_LENGTH);
    expect(parsed(`${longest}/x`).prefix).toBe(longest);
    expect(rejected(`${prefixOfLength(MAX_PREFIX_LENGTH + 1)}/x`).problem).toBe('PREFIX_TOO_LONG');
  });

  it('accepts the maximum segment count and segment length', () => {
    expect(parsed(`${Array(MAX_PREFIX_SEGMENTS).fill('1').join('.')}/x`).prefix.split('.')).toHaveLength(MAX_PREFIX_SEGMENTS);
    expect(parsed(`88.${'9'.repeat(MAX_PREFIX_SEGMENT_LENGTH)}/x`).prefix).toBe(`88.${'9'.repeat(MAX_PREFIX_SEGMENT_LENGTH)}`);
  });

  it('measures the suffix in UTF-8 bytes, not characters', () => {
    expect(parsed(`88.100/${'a'.repeat(1024)}`).suffix).toHaveLength(1024);
    expect(parsed(`88.100/${'泵'.repeat(341)}`).suffix).toHaveLength(341); // 1023 bytes
    expect(rejected(`88.100/${'泵'.repeat(342)}`).message).toContain('1026 bytes');
    expect(parsed(`88.100/${'😀'.repeat(256)}`).suffix).toHaveLength(512); // 1024 bytes, 512 UTF-16 units
  });

  it('measures the suffix after NFC, so a decomposed suffix that fits when composed is accepted', () => {
    const composed = '\u01D6'.repeat(512); // ǖ: 2 UTF-8 bytes composed, 3 code points decomposed
    const decomposed = NFD(composed);
    expect(utf8ByteLength(composed)).toBe(MAX_SUFFIX_LENGTH);
    expect(decomposed.length).toBe(1536);
    expect(`88.100/${decomposed}`.length).toBeGreaterThan(MAX_PREFIX_LENGTH + 1 + MAX_SUFFIX_LENGTH);
    expect(parsed(`88.100/${decomposed}`).key).toBe(parsed(`88.100/${composed}`).key);
  });

  it('applies the length guard before looking at characters', () => {
    const input = `88.100/${'a'.repeat(MAX_HANDLE_INPUT_LENGTH)}\u0000`;
    expect(rejected(input).problem).toBe('HANDLE_TOO_LONG');
    expect(rejected(input.slice(0, MAX_HANDLE_INPUT_LENGTH - 1) + '\u0000').problem).toBe('INVALID_CHARACTER');
  });
});

describe('parseHandle: messages', () => {
  it('names the code point and its position, without echoing the character', () => {
    const error = rejected('88.100/ab\u0000c');
    expect(error.message).toContain('U+0000');
    expect(error.message).toContain('character 3');
    expect(error.message).toContain('suffix');
    expect(error.message).not.toContain('\u0000');
  });

  it('says the prefix when the bad character is there', () => {
    expect(rejected('88.1\u0001/x').message).toMatch(/^The prefix contains U\+0001 at character 5/);
  });

  it.each([
    ['88.100/a\uFFFDb', 'U+FFFD'],
    ['88.100/a\uD800b', 'U+D800'],
  ])('explains that %j comes from bad UTF-8', (input, codePoint) => {
    const error = rejected(input);
    expect(error.message).toContain(codePoint);
    expect(error.message).toContain('UTF-8');
  });

  it('explains an empty segment, a leading dot and a trailing dot differently', () => {
    expect(rejected('88..1/x').message).toContain("empty segment ('..')");
    expect(rejected('.88/x').message).toContain('starts with a dot');
    expect(rejected('88./x').message).toContain('ends with a dot');
  });

  it('names the offending prefix character', () => {
    expect(rejected('88.1ä/x').message).toContain('character 5 is U+00E4');
    expect(rejected('21.T 1/x').message).toContain('character 5 is U+0020 (spaces are not allowed in a prefix)');
  });

  it('points a prefix record at prefix resolution, and explains a bad one', () => {
    expect(rejected('0.NA/88.100').message).toContain('resolve it as a prefix');
    expect(rejected('0.NA/88..100').message).toContain('empty segment');
  });

  it('shows how a handle looks when the slash is missing', () => {
    expect(rejected('88.100').message).toContain("'88.100' has no '/'");
  });

  it('cuts long input in messages', () => {
    const error = rejected(`88.${'1'.repeat(30)}ä${'2'.repeat(100)}/y`);
    expect(error.problem).toBe('INVALID_PREFIX');
    expect(error.message).toContain('…');
    expect(error.message).not.toContain('2'.repeat(50));
  });
});

describe('parsePrefix', () => {
  it.each(['88', '88.100', '88.100.1234', '88.101.0042', '0', '20.500.12345', '21.T14999', '11500', '10.1045', 'NCSTRL.VATECH_CS'])(
    'accepts %s unchanged',
    (prefix) => {
      expect(parsePrefix(prefix)).toBe(prefix);
    },
  );

  it.each([
    ['21.t14999', '21.T14999'],
    ['ncstrl.vatech_cs', 'NCSTRL.VATECH_CS'],
    ['20.500.abc', '20.500.ABC'],
  ])('accepts %s in canonical case %s', (input, canonical) => {
    expect(parsePrefix(input)).toBe(canonical);
  });

  it('accepts a world prefix of exactly the maximum length and refuses one more character', () => {
    const longest = Array(4).fill('T'.repeat(MAX_PREFIX_SEGMENT_LENGTH)).join('.').slice(0, MAX_PREFIX_LENGTH);
    expect(longest).toHaveLength(MAX_PREFIX_LENGTH);
    expect(parsePrefix(longest)).toBe(longest);
    const over = parsePrefix(`${longest}T`);
    expect(isHandleSyntaxError(over) && over.problem).toBe('PREFIX_TOO_LONG');
  });

  it.each<[string, HandleSyntaxProblem]>([
    ['', 'EMPTY'],
    ['88..100', 'INVALID_PREFIX'],
    ['.88', 'INVALID_PREFIX'],
    ['88.', 'INVALID_PREFIX'],
    ['88.ä', 'INVALID_PREFIX'],
    ['21..T14999', 'INVALID_PREFIX'],
    ['21.T14999.', 'INVALID_PREFIX'],
    ['21.T 14999', 'INVALID_PREFIX'],
    ['21.T14999 ', 'SURROUNDING_WHITESPACE'],
    ['21.T\u000014999', 'INVALID_CHARACTER'],
    ['21.T\u202E14999', 'INVALID_CHARACTER'],
    ['21.Ｔ14999', 'INVALID_PREFIX'],
    ['88.100/x', 'INVALID_PREFIX'],
    ['0.NA/88.100', 'INVALID_PREFIX'],
    ['0.NA', 'INVALID_PREFIX'],
    ['0.na', 'INVALID_PREFIX'],
    [' 88.100', 'SURROUNDING_WHITESPACE'],
    ['88.100\n', 'INVALID_CHARACTER'],
    ['88.\uFFFD', 'INVALID_CHARACTER'],
    [prefixOfLength(MAX_PREFIX_LENGTH + 1), 'PREFIX_TOO_LONG'],
    [`88.${'1'.repeat(MAX_PREFIX_SEGMENT_LENGTH + 1)}`, 'PREFIX_TOO_LONG'],
  ])('rejects %j with %s', (input, problem) => {
    const result = parsePrefix(input);
    expect(isHandleSyntaxError(result) && result.problem).toBe(problem);
  });

  it('tells a caller who passed a handle to pass the prefix alone', () => {
    const result = parsePrefix('88.100/x');
    expect(isHandleSyntaxError(result) && result.message).toContain('pass the prefix alone');
  });
});

describe('prefix records', () => {
  it.each([
    ['0.NA/88.100.1234', '88.100.1234'],
    ['0.na/88.100', '88.100'],
    ['0.Na/88', '88'],
    ['0.NA/88.101.0042', '88.101.0042'],
    ['0.NA/21.T14999', '21.T14999'],
    ['0.na/21.t14999', '21.T14999'],
    ['0.NA/20.500.12345', '20.500.12345'],
    ['0.NA/11500', '11500'],
    ['0.NA/abc', 'ABC'],
  ])('parsePrefixRecord(%j) is %j', (input, prefix) => {
    expect(parsePrefixRecord(input)).toBe(prefix);
  });

  it.each([
    '0.NA/',
    '0.NA',
    '0.NA/a b',
    '0.NA/21.Ä1',
    '0.NA/21.T14999.',
    '0.NA/0.NA',
    '0.NA/88..1',
    '0.NA/88.100/x',
    '88.100/x',
    ' 0.NA/88',
    '0.NAX/88',
    '1.NA/88',
    '0.NA/ 88',
    '',
  ])('parsePrefixRecord(%j) is undefined', (input) => {
    expect(parsePrefixRecord(input)).toBeUndefined();
  });

  it('returns undefined for non-string input instead of throwing', () => {
    for (const value of [undefined, null, 42]) expect(parsePrefixRecord(value as unknown as string)).toBeUndefined();
  });

  it('builds the record handle and reads it back', () => {
    expect(prefixRecordHandle('88.100.1234')).toBe('0.NA/88.100.1234');
    expect(parsePrefixRecord(prefixRecordHandle('88.100.1234'))).toBe('88.100.1234');
  });

  it('refuses to build a record for something that is not a prefix', () => {
    expect(() => prefixRecordHandle('88..1')).toThrow(/empty segment/);
    expect(() => prefixRecordHandle('a b')).toThrow(/spaces are not allowed/);
  });

  it('builds the record of a world prefix in canonical case', () => {
    expect(prefixRecordHandle('21.t14999')).toBe('0.NA/21.T14999');
    expect(parseHandle('0.NA/21.T14999')).toMatchObject({ problem: 'INVALID_PREFIX' });
    expect(rejected('0.NA/21.T14999').message).toContain('resolve it as a prefix');
  });
});

describe('prefix hierarchy', () => {
  it.each<[string, string, boolean]>([
    ['88.100.1234', '88.100', true],
    ['88.100.1234', '88', true],
    ['88.100', '88.100', true],
    ['88.1001', '88.100', false],
    ['880.1', '88', false],
    ['88', '88.100', false],
    ['88.200.1', '88.100', false],
    ['88.100', '', false],
    ['21.T14999.1', '21.T14999', true],
    ['21.t14999.1', '21.T14999', true],
    ['21.T14999', '21.t14999', true],
    ['21.T149990', '21.T14999', false],
    ['21.T14999', '21', true],
    ['20.500.12345', '20.500', true],
    ['20.5001', '20.500', false],
  ])('isUnderPrefix(%j, %j) is %s', (prefix, ancestor, expected) => {
    expect(isUnderPrefix(prefix, ancestor)).toBe(expected);
  });

  it.each<[string, string[]]>([
    ['88.100.1234', ['88.100.1234', '88.100', '88']],
    ['88', ['88']],
    ['20.500.12345.6', ['20.500.12345.6', '20.500.12345', '20.500', '20']],
    ['21.t14999.ab', ['21.T14999.AB', '21.T14999', '21']],
    ['11500', ['11500']],
  ])('parentPrefixes(%j)', (prefix, expected) => {
    expect(parentPrefixes(prefix)).toEqual(expected);
  });

  it('lists only ancestors the prefix is under', () => {
    for (const parent of parentPrefixes('88.100.1234.5')) expect(isUnderPrefix('88.100.1234.5', parent)).toBe(true);
  });
});

describe('canonical prefix case', () => {
  it('upper-cases ASCII a-z only, and returns the same string when there is nothing to change', () => {
    expect(canonicalPrefix('21.t14999')).toBe('21.T14999');
    expect(canonicalPrefix('ab_c-d')).toBe('AB_C-D');
    const digits = '88.100.1234';
    expect(canonicalPrefix(digits)).toBe(digits);
  });

  it('gives every spelling of a world prefix the same key, parents and record handle', () => {
    const spellings = ['21.T14999/abc', '21.t14999/ABC', '21.T14999/Abc'].map(parsed);
    expect(new Set(spellings.map((h) => h.key)).size).toBe(1);
    expect(new Set(spellings.map((h) => parentPrefixes(h.prefix).join(','))).size).toBe(1);
    expect(prefixRecordHandle(parsed('21.t14999/x').prefix)).toBe('0.NA/21.T14999');
  });
});

describe('enterpriseAllocationProblem: this node allocates digits only', () => {
  it.each([
    ['88.100.1234', '88.100'],
    ['88.100.0042', '88.100'],
    ['88.100.1234.7', '88.100'],
    ['21.T14999.1', '21.T14999'], // a node hosting a world prefix still numbers what it allocates
    ['21.T14999.1', '21.t14999'],
  ])('allows %s under %s', (prefix, node) => {
    expect(enterpriseAllocationProblem(prefix, node)).toBeUndefined();
  });

  it.each<[string, string, string]>([
    ['21.T1', '88.100', 'NOT_UNDER_NODE_PREFIX'],
    ['88.100', '88.100', 'NOT_UNDER_NODE_PREFIX'],
    ['88.1001', '88.100', 'NOT_UNDER_NODE_PREFIX'],
    ['88.200.1', '88.100', 'NOT_UNDER_NODE_PREFIX'],
    ['88.100.T1', '88.100', 'NOT_NUMERIC'],
    ['88.100.t1', '88.100', 'NOT_NUMERIC'],
    ['88.100.1.A', '88.100', 'NOT_NUMERIC'],
    ['88.100.1-2', '88.100', 'NOT_NUMERIC'],
    ['21.T14999.X', '21.T14999', 'NOT_NUMERIC'],
  ])('refuses %s under %s: %s', (prefix, node, reason) => {
    const problem = enterpriseAllocationProblem(prefix, node);
    expect(problem?.reason).toBe(reason);
    expect(problem?.message).toContain(reason === 'NOT_NUMERIC' ? 'numeric prefixes only' : 'under');
  });
});

describe('helpers', () => {
  it('isHandleSyntaxError tells errors from results', () => {
    expect(isHandleSyntaxError(parseHandle(''))).toBe(true);
    expect(isHandleSyntaxError(parseHandle('88.100/x'))).toBe(false);
    expect(isHandleSyntaxError('88.100')).toBe(false);
    expect(isHandleSyntaxError(null)).toBe(false);
    expect(isHandleSyntaxError({ problem: 'NOT_A_PROBLEM', message: 'x' })).toBe(false);
    expect(isHandleSyntaxError({ problem: 'EMPTY' })).toBe(false);
    for (const problem of HANDLE_SYNTAX_PROBLEMS) expect(isHandleSyntaxError({ problem, message: 'm' })).toBe(true);
  });

  it('folds only ASCII letters', () => {
    expect(foldAsciiCase('ABCxyz-ÄÖÜ-ΣΑ-İ-Ｚ')).toBe('abcxyz-ÄÖÜ-ΣΑ-İ-Ｚ');
  });

  it.each<[string, number]>([
    ['a', 1],
    ['é', 2],
    ['泵', 3],
    ['😀', 4],
    ['a泵😀', 8],
  ])('utf8ByteLength(%j) is %d, as TextEncoder counts', (text, bytes) => {
    expect(utf8ByteLength(text)).toBe(bytes);
    expect(new TextEncoder().encode(text).length).toBe(bytes);
  });

  it('counts an unpaired surrogate as the 3 bytes of U+FFFD', () => {
    expect(utf8ByteLength('a\uD800b')).toBe(5);
  });
});
