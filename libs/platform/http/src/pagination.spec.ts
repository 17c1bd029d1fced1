import { decodeCursor, encodeCursor } from './pagination';

describe('cursors', () => {
  it('round-trip', () => {
    const c = encodeCursor(['2026-01-01T00:00:00.000Z', 'abc']);
    expect(decodeCursor(c, 2)).toEqual(['2026-01-01T00:00:00.000Z', 'abc']);
  });
  it.each(['', 'notbase64json', encodeCursor(['only-one']), Buffer.from('{"a":1}').toString('base64url')])('rejects %p', (c) => {
    expect(decodeCursor(c, 2)).toBeUndefined();
  });
});
