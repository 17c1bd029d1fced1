import { BulkInputError, MAX_BULK_ROWS, parseCsv, parseNdjson } from './bulk-input';

describe('bulk onboarding input', () => {
  it('reads NDJSON line by line and keeps bad lines as failures', () => {
    const rows = parseNdjson('{"kind":"subsidiary","name":"A"}\n\nnot json\n[1,2]\n{"kind":"subsidiary","name":"B"}\n');
    expect(rows.map((r) => [r.line, r.parseError === null])).toEqual([
      [1, true],
      [3, false],
      [4, false],
      [5, true],
    ]);
    expect(rows[3].input).toEqual({ kind: 'subsidiary', name: 'B' });
  });

  it('fails NDJSON rows that decode to U+0000, a lone surrogate or nesting past the limit, naming the field', () => {
    const rows = parseNdjson(
      [
        '{"kind":"subsidiary","name":"ok"}',
        '{"name":"a\\u0000b"}',
        '{"contact":{"name":"\\ud800"}}',
        `{"a":${'['.repeat(100)}${']'.repeat(100)}}`,
      ].join('\n'),
    );
    expect(rows.map((r) => r.parseError)).toEqual([
      null,
      'name must not contain the character U+0000',
      'contact.name must be valid Unicode (it contains a lone surrogate)',
      'The JSON is nested deeper than 64 levels',
    ]);
  });

  it('maps CSV columns onto the JSON shape', () => {
    const rows = parseCsv(
      'kind,name,creditCode,contactEmail,maxDevices,maxTelemetryPointsPerSecond\nsubsidiary,"Plant, Ltd",91350100M000100Y43,ops@example.com,50,200\nsubsidiary,Short\n',
    );
    expect(rows[0]).toEqual({
      line: 2,
      parseError: null,
      input: {
        kind: 'subsidiary',
        name: 'Plant, Ltd',
        creditCode: '91350100M000100Y43',
        contact: { email: 'ops@example.com' },
        quotas: { maxDevices: 50, maxTelemetryPointsPerSecond: 200 },
      },
    });
    expect(rows[1].parseError).toMatch(/expected 6 columns/);
  });

  it.each([
    ['an unknown column', () => parseCsv('kind,colour\nsubsidiary,red\n')],
    ['an empty CSV', () => parseCsv('')],
    ['a header only', () => parseCsv('kind,name\n')],
    ['broken quoting', () => parseCsv('kind,name\nsubsidiary,"unterminated\n')],
    ['empty NDJSON', () => parseNdjson('\n\n')],
    ['too many rows', () => parseNdjson('{}\n'.repeat(MAX_BULK_ROWS + 1))],
  ])('rejects %s as a whole', (_, run) => {
    expect(run).toThrow(BulkInputError);
  });
});
