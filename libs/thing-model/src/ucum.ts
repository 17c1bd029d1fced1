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
