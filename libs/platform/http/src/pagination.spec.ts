import { RequestValidationError } from '@iip/platform-errors';
import { decodeCursor, encodeCursor, pageOf, readCursor } from './pagination';

const raw = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('cursors', () => {
  it('round-trip', () => {
    const c = encodeCursor(['2026-01-01T00:00:00.000Z', 'abc']);
    expect(decodeCursor(c, ['timestamp', 'key'])).toEqual(['2026-01-01T00:00:00.000Z', 'abc']);
    const u = encodeCursor(['2026-01-01T00:00:00.000Z', '0f0e0d0c-0b0a-4908-8706-050403020100', 7]);
    expect(decodeCursor(u, ['timestamp', 'uuid', 'int'])).toEqual(['2026-01-01T00:00:00.000Z', '0f0e0d0c-0b0a-4908-8706-050403020100', 7]);
  });
  it.each([
    ['empty', ''],
    ['not base64 JSON', 'notbase64json'],
    ['too short', encodeCursor(['only-one'])],
    ['an object', raw('{"a":1}')],
    ['forged date and uuid', encodeCursor(['not-a-date', 'not-a-uuid'])],
    ['a NUL', raw('["\\u0000","x"]')],
    ['a lone surrogate', raw('["2026-01-01T00:00:00.000Z","\\ud800"]')],
    ['a non-canonical date', encodeCursor(['2026-01-01', 'abc'])],
    ['a number where text belongs', raw('["2026-01-01T00:00:00.000Z",5]')],
    ['characters outside base64url', 'ab+/=='],
  ])('rejects %s', (_name, c) => {
    expect(decodeCursor(c, ['timestamp', 'key'])).toBeUndefined();
  });
  it.each([[encodeCursor([-1])], [encodeCursor([2147483648])], [encodeCursor([1.5])], [encodeCursor(['1'])]])('rejects int %p', (c) => {
    expect(decodeCursor(c, ['int'])).toBeUndefined();
  });
  it('readCursor names the parameter it refuses', () => {
    expect(() => readCursor(encodeCursor(['\u0000']), ['key'])).toThrow(RequestValidationError);
    const refused = (() => {
      try {
        readCursor('garbage!', ['key']);
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(RequestValidationError);
    expect((refused as RequestValidationError).fieldErrors[0].field).toBe('cursor');
  });
});

describe('pageOf', () => {
  it('keeps limit rows and points the cursor at the last one only when more rows exist', () => {
    const more = pageOf([1, 2, 3], 2, (n) => [n]);
    expect(more.rows).toEqual([1, 2]);
    expect(decodeCursor(more.nextCursor!, ['int'])).toEqual([2]);
    expect(pageOf([1, 2], 2, (n) => [n]).nextCursor).toBeNull();
    expect(pageOf([], 2, (n: number) => [n])).toEqual({ rows: [], nextCursor: null });
  });
});
