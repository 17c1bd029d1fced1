import { applyMergePatch, twinDelta } from './twin-document';

describe('twin documents', () => {
  const t1 = '2026-12-03T10:00:00.000Z';
  const t2 = '2026-12-03T10:05:00.000Z';

  it('merges as RFC 7396 says and times each changed leaf', () => {
    const first = applyMergePatch({}, {}, { speed: 100, mode: 'auto', bearing: { temp: 40, load: 3 } }, t1);
    expect(first).toEqual({
      document: { speed: 100, mode: 'auto', bearing: { temp: 40, load: 3 } },
      metadata: { speed: t1, mode: t1, bearing: { temp: t1, load: t1 } },
      changed: true,
    });
    const second = applyMergePatch(first.document, first.metadata, { speed: 100, mode: null, bearing: { temp: 42 } }, t2);
    expect(second).toEqual({
      document: { speed: 100, bearing: { temp: 42, load: 3 } },
      metadata: { speed: t1, bearing: { temp: t2, load: t1 } },
      changed: true,
    });
    expect(applyMergePatch(second.document, second.metadata, { speed: 100, gone: null }, t2).changed).toBe(false);
    // An array is a value: replaced whole.
    expect(applyMergePatch({ a: [1, 2] }, { a: t1 }, { a: [3] }, t2).document).toEqual({ a: [3] });
  });

  it('computes the delta: desired leaves reported does not match', () => {
    expect(
      twinDelta({ speed: 200, mode: 'auto', bearing: { limit: 90, fan: true } }, { speed: 100, mode: 'auto', bearing: { limit: 90 } }),
    ).toEqual({
      speed: 200,
      bearing: { fan: true },
    });
    expect(twinDelta({ speed: 100 }, { speed: 100, extra: 1 })).toEqual({});
  });
});
