// @lhncbc/ucum-lhc ships no type declarations; this is the part of its API the platform uses.
declare module '@lhncbc/ucum-lhc' {
  export class UcumLhcUtils {
    static getInstance(): UcumLhcUtils;
    validateUnitString(unit: string, suggest?: boolean): { status: 'valid' | 'invalid' | 'error'; ucumCode: string | null; msg: string[] };
    convertUnitTo(
      fromUnit: string,
      fromValue: number,
      toUnit: string,
    ): { status: 'succeeded' | 'invalid' | 'failed' | 'error'; toVal: number | null; msg: string[] };
  }
}
