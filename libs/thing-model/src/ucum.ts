import { UcumLhcUtils } from '@lhncbc/ucum-lhc';

let utils: UcumLhcUtils | undefined;
const known = new Map<string, boolean>();

/** Whether `code` is a valid UCUM unit expression (case-sensitive UCUM, as the NLM library reads it). */
export function isUcumUnit(code: string): boolean {
  let valid = known.get(code);
  if (valid === undefined) {
    utils ??= UcumLhcUtils.getInstance();
    // The library logs (console) what it cannot parse; blanks are never valid, so they are refused first.
    valid = code.length > 0 && !/\s/.test(code) && utils.validateUnitString(code, false).status === 'valid';
    if (known.size < 10_000) known.set(code, valid);
  }
  return valid;
}

/**
 * `value` in `from` expressed in `to` (both UCUM codes): `{ value }`, or `{ error }` when either
 * is not a unit or they measure different things (`kPa` cannot become `Cel`).
 */
export function convertUnit(value: number, from: string, to: string): { value: number } | { error: string } {
  if (from === to) return { value };
  if (!isUcumUnit(from)) return { error: `${JSON.stringify(from)} is not a UCUM unit` };
  utils ??= UcumLhcUtils.getInstance();
  const result = utils.convertUnitTo(from, value, to);
  if (result.status !== 'succeeded' || typeof result.toVal !== 'number' || !Number.isFinite(result.toVal)) {
    return { error: `${from} cannot be converted to ${to}, the model's unit` };
  }
  return { value: result.toVal };
}
