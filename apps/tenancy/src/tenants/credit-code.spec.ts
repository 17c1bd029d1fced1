import { creditCodeCheckChar, creditCodeProblem, isValidCreditCode } from './credit-code';

describe('unified social credit code (GB 32100-2015)', () => {
  // Real registered codes (their check characters were computed by the issuing authority).
  it.each(['91350100M000100Y43', '91110000802100433B', '914403001922038216', '91440300708461136T', '911100007109255774'])(
    'accepts the published code %s',
    (code) => {
      expect(creditCodeProblem(code)).toBeUndefined();
    },
  );

  it.each([
    ['91350100M000100Y44', 'check'],
    ['91350100M000100Y4', 'length'],
    ['91350100M000100Y433', 'length'],
    ['91350100M000100I43', 'characters'],
    ['91350100m000100Y43', 'characters'],
    ['01350100M000100Y43', 'authority'],
    ['9135A100M000100Y43', 'division'],
  ])('rejects %s (%s)', (code, problem) => {
    expect(creditCodeProblem(code)).toBe(problem);
  });

  it('detects every single-character substitution', () => {
    const valid = '91350100M000100Y43';
    const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
    for (let pos = 0; pos < 17; pos++) {
      for (const ch of alphabet) {
        if (ch === valid[pos]) continue;
        const mutated = valid.slice(0, pos) + ch + valid.slice(pos + 1);
        expect(creditCodeCheckChar(mutated.slice(0, 17))).not.toBe(valid[17]);
      }
    }
  });

  it('rejects an empty string', () => {
    expect(isValidCreditCode('')).toBe(false);
  });
});
