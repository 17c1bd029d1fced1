import { decodeCursor, encodeCursor, pageOf } from './pagination';

describe('cursors', () => {
  it('round-trip', () => {
    const c = encodeCursor(['2026-01-01T00:00:00.000Z', 'abc']);
    expect(decodeCursor(c, 2)).toEqual(['2026-01-01T00:00:00.000Z', 'abc']);
  });
  it.each(['', 'notbase64json', encodeCursor(['only-one']), Buffer.from('{"a":1}').toString('base64url')])('rejects %p', (c) => {
    expect(decodeCursor(c, 2)).toBeUndefined();
  });
});

describe('pageOf', () => {
  it('keeps limit rows and points the cursor at the last one only when more rows exist', () => {
    const more = pageOf([1, 2, 3], 2, (n) => [n]);
    expect(more.rows).toEqual([1, 2]);
    expect(decodeCursor(more.nextCursor!, 1)).toEqual(['2']);
    expect(pageOf([1, 2], 2, (n) => [n]).nextCursor).toBeNull();
    expect(pageOf([], 2, (n: number) => [n])).toEqual({ rows: [], nextCursor: null });
  });
});
