import { INPUT_LIMITS, RequestValidationError } from '@iip/platform-errors';

/**
 * The version an If-Match header carries (`"3"`, `W/"3"` or `3`), for optimistic concurrency;
 * undefined when there is none; `min` is 0 where a document not written yet has version 0. Anything else is refused with `invalid()` (default: 400 naming If-Match).
 */
export function ifMatchVersion(header: string | undefined, invalid?: () => Error, min = 1): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,10})"?\s*$/.exec(header);
  const version = m ? Number(m[1]) : NaN;
  if (!(version >= min && version <= INPUT_LIMITS.int32Max)) {
    throw invalid
      ? invalid()
      : new RequestValidationError([
          { field: 'If-Match', message: `must carry the version read, e.g. "3": an integer from ${min} to ${INPUT_LIMITS.int32Max}` },
        ]);
  }
  return version;
}
