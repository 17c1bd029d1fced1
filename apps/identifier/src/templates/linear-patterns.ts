import type { RegExpEngine, RegExpLike } from 'ajv/dist/types';
import { RE2JS } from 're2js';

/** A template pattern RE2 cannot run: lookaround, backreferences, a repeat count above 1000, or bad syntax. */
export class UnsupportedPatternError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`pattern ${JSON.stringify(pattern)} cannot be used: ${reason}`);
    this.name = 'UnsupportedPatternError';
  }
}

/**
 * Ajv's regular expression engine for user-supplied schemas (`code.regExp`): RE2, whose matching
 * takes time linear in the input, so a pattern like ^(a+)+$ cannot stall the event loop. Patterns
 * are written in ECMA-262 syntax, as JSON Schema says, and translated to RE2's (\u{…}, named
 * groups); what RE2 cannot express throws UnsupportedPatternError while the schema compiles.
 */
export const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string): RegExpLike => {
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
    } catch (err) {
      throw new UnsupportedPatternError(pattern, err instanceof Error ? err.message : String(err));
    }
    // Ajv keys compiled patterns by toString(): one per pattern source.
    return { test: (input: string) => compiled.test(input), toString: () => `/${pattern}/u` } as RegExpLike;
  },
  { code: 'require("re2js").RE2JS' },
);
