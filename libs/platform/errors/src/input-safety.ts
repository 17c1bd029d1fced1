import { FieldError } from './problem';
import { RequestValidationError } from './validation';

/**
 * Limits every transport applies before any rule or query sees the input. They are stated in
 * the README ("Limits"); services may lower them, not raise them past what the stores take.
 */
export const INPUT_LIMITS = {
  /** Arrays and objects nested deeper than this are refused while parsing. */
  maxJsonDepth: 64,
  /** PostgreSQL `integer`, the column type of versions, indexes and counters. */
  int32Max: 2_147_483_647,
  int32Min: -2_147_483_648,
  /** Problems reported per request: enough to fix the input, bounded for a hostile one. */
  maxReported: 20,
} as const;

/** Thrown by {@link parseBoundedJson} and the body parsers for input nested past the limit. */
export class JsonTooDeepError extends Error {
  readonly status = 400;
  readonly type = 'json.too.deep';
  constructor(readonly limit: number) {
    super(`The JSON is nested deeper than ${limit} levels`);
    this.name = 'JsonTooDeepError';
  }
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when JSON text nests arrays/objects deeper than `max`. One pass over the bytes, strings
 * skipped, so the parser (and the validators after it, which recurse) never meet such input.
 */
export function jsonDepthExceeds(text: Buffer | string, max: number = INPUT_LIMITS.maxJsonDepth): boolean {
  // The structural characters are ASCII and UTF-8 never uses ASCII bytes inside a multi-byte
  // character, so the bytes tell the nesting; indexed directly (the hot case: Kafka messages, HTTP bodies).
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** JSON.parse that refuses input nested past `max` (JsonTooDeepError) before parsing it. */
export function parseBoundedJson(text: string, max: number = INPUT_LIMITS.maxJsonDepth): unknown {
  if (jsonDepthExceeds(text, max)) throw new JsonTooDeepError(max);
  return JSON.parse(text) as unknown;
}

// A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
/** Cheap to test, and false for nearly every string: only one holding a surrogate needs LONE_SURROGATE's look-arounds. */
const ANY_SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored or sent on (PostgreSQL refuses U+0000; lone surrogates are not Unicode), or undefined. */
export function unsafeStringReason(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain the character U+0000';
  if (ANY_SURROGATE.test(value) && LONE_SURROGATE.test(value)) return 'must be valid Unicode (it contains a lone surrogate)';
  return undefined;
}

/**
 * Walks a decoded input (body, query, path parameters, a gRPC message, an event) and lists the
 * strings — values and keys — that no store or peer accepts, by field path.
 */
export function findUnsafeStrings(value: unknown, field: string, out: FieldError[] = []): FieldError[] {
  // Almost every input is clean: a first pass builds no field paths; only a dirty one is walked again to name them.
  if (holdsUnsafe(value, 0)) walk(value, field, out, 0);
  return out;
}

function holdsUnsafe(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return unsafeStringReason(value) !== undefined;
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return false;
  if (depth > INPUT_LIMITS.maxJsonDepth) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (holdsUnsafe(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (unsafeStringReason(key) !== undefined || holdsUnsafe((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

function walk(value: unknown, field: string, out: FieldError[], depth: number): void {
  if (out.length >= INPUT_LIMITS.maxReported) return;
  if (typeof value === 'string') {
    const reason = unsafeStringReason(value);
    if (reason) out.push({ field, message: reason });
    return;
  }
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return;
  if (depth > INPUT_LIMITS.maxJsonDepth) {
    out.push({ field, message: `is nested deeper than ${INPUT_LIMITS.maxJsonDepth} levels` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, `${field}[${i}]`, out, depth + 1));
    return;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const reason = unsafeStringReason(key);
    // A bad name is shown escaped: the answer must not carry the character it refuses.
    const name = reason ? JSON.stringify(key) : key;
    const path = field ? `${field}.${name}` : name;
    if (reason) out.push({ field: path, message: `has a name that ${reason}` });
    walk(item, path, out, depth + 1);
  }
}

/** Throws a validation error naming every unsafe string among the given named parts of a request. */
export function assertSafeInput(parts: Record<string, unknown>): void {
  const problems: FieldError[] = [];
  for (const [name, value] of Object.entries(parts)) findUnsafeStrings(value, name, problems);
  if (problems.length > 0) throw new RequestValidationError(problems);
}
