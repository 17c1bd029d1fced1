/**
 * Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a
 * 31-character alphabet (no I, O, S, V, Z); position 1 is the registration authority,
 * 2 the organisation category, 3–8 the administrative division (digits), 9–17 the
 * organisation code, 18 a check character computed modulo 31.
 */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const AUTHORITIES = '123456789ANY';

export type CreditCodeProblem = 'length' | 'characters' | 'authority' | 'division' | 'check';

export function creditCodeCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = ALPHABET.indexOf(first17[i]);
    if (value < 0) throw new Error(`invalid character ${first17[i]}`);
    sum += value * WEIGHTS[i];
  }
  const check = (31 - (sum % 31)) % 31;
  return ALPHABET[check];
}

/** Returns what is wrong with a code, or undefined when it is valid. Lower case is not accepted. */
export function creditCodeProblem(code: string): CreditCodeProblem | undefined {
  if (code.length !== 18) return 'length';
  for (const ch of code) if (!ALPHABET.includes(ch)) return 'characters';
  if (!AUTHORITIES.includes(code[0])) return 'authority';
  if (!/^\d{6}$/.test(code.slice(2, 8))) return 'division';
  if (creditCodeCheckChar(code.slice(0, 17)) !== code[17]) return 'check';
  return undefined;
}

export function isValidCreditCode(code: string): boolean {
  return creditCodeProblem(code) === undefined;
}

export const creditCodeMessages: Record<CreditCodeProblem, string> = {
  length: 'must be exactly 18 characters',
  characters: 'may contain only digits and the capital letters A–Y except I, O, S, V, Z',
  authority: 'must start with a registration authority code (1–9, A, N or Y)',
  division: 'must have a 6-digit administrative division code in positions 3–8',
  check: 'has a wrong check character (GB 32100-2015)',
};
