/**
 * Handle syntax of the identifier service: `prefix/suffix`, as in the Handle System
 * (RFC 3650/3651, the HANDLE.NET technical manual §1.1) and China's industrial internet
 * identifiers (`88.<industry>.<enterprise>/<suffix>`). Pure functions, no I/O.
 *
 * The rules and the reason for each are in the README, section "Handle syntax".
 * Percent-decoding is the HTTP layer's job; everything here works on decoded text.
 *
 * Prefixes are those of the whole Handle System, not only the national 88.x.y: RFC 3651 §2.1 lets a
 * naming-authority segment hold any printable character but '.' and '/' (we take ASCII letters,
 * digits, '-' and '_', see isPrefixCharacter), and HANDLE.NET compares
 * prefixes ignoring ASCII case, upper-casing them (hdllib Util.upperCasePrefix / getZeroNAHandle).
 * So this node can resolve, delegate to and cache `21.T14999`, `20.500.12345` or `11500`; what it
 * allocates itself stays digits ({@link enterpriseAllocationProblem}).
 */

/** Longest prefix, in characters (ASCII only, so also bytes). The national SNMS API takes enterprise prefixes of up to 64. */
export const MAX_PREFIX_LENGTH = 64;
/** Most dot-separated segments in a prefix (the national system uses 3: 88 / industry or region / enterprise). */
export const MAX_PREFIX_SEGMENTS = 16;
/** Longest prefix segment: 20 digits hold any unsigned 64-bit number, so any counter-allocated code fits; world prefixes' segments are far shorter. */
export const MAX_PREFIX_SEGMENT_LENGTH = 20;
/**
 * Longest suffix, in UTF-8 bytes of its NFC form (not characters: storage, index entries, URLs
 * and the Handle wire protocol are all bounded in bytes). 1024 covers any handle of up to 255
 * characters — the limit of the national enterprise-node API — since a character is at most 4 bytes.
 */
export const MAX_SUFFIX_LENGTH = 1024;
/**
 * Cheap guard on the raw input, in UTF-16 code units, checked before any other work. Twice
 * prefix + '/' + suffix, because a decomposed (NFD) suffix can have up to 1.5 code units per
 * UTF-8 byte of its NFC form (u + ¨ + ¯ → ǖ: 3 units, 2 bytes), and such input must not be
 * rejected when its NFC form fits.
 */
export const MAX_HANDLE_INPUT_LENGTH = 2 * (MAX_PREFIX_LENGTH + 1 + MAX_SUFFIX_LENGTH);

/** Prefix of the handles that hold prefix records (`0.NA/88.100.1234`); "NA" is the Handle System's old "naming authority". Not itself a prefix to resolve or delegate. */
export const PREFIX_RECORD_PREFIX = '0.NA';

export const HANDLE_SYNTAX_PROBLEMS = [
  'EMPTY',
  'HANDLE_TOO_LONG',
  'INVALID_CHARACTER',
  'SURROUNDING_WHITESPACE',
  'MISSING_SEPARATOR',
  'INVALID_PREFIX',
  'PREFIX_TOO_LONG',
  'EMPTY_SUFFIX',
  'SUFFIX_TOO_LONG',
] as const;

export type HandleSyntaxProblem = (typeof HANDLE_SYNTAX_PROBLEMS)[number];

export interface HandleSyntaxError {
  problem: HandleSyntaxProblem;
  /** User-facing English naming what is wrong. Never echoes a forbidden character raw. */
  message: string;
}

export interface ParsedHandle {
  /** Canonical prefix: as given with ASCII a–z upper-cased, as HANDLE.NET does ('21.t14999' → '21.T14999'; '88.100.1234' unchanged). */
  prefix: string;
  /** Unicode NFC, case preserved for display. */
  suffix: string;
  /** `${prefix}/${suffix}` for display: canonical prefix, suffix in the client's case. */
  handle: string;
  /** Lookup key: canonical prefix + '/' + NFC suffix with ASCII A–Z folded to a–z (only ASCII, as the Handle System does). */
  key: string;
}

const problemSet: ReadonlySet<string> = new Set(HANDLE_SYNTAX_PROBLEMS);

export function isHandleSyntaxError(x: unknown): x is HandleSyntaxError {
  if (typeof x !== 'object' || x === null) return false;
  const candidate = x as { problem?: unknown; message?: unknown };
  return typeof candidate.problem === 'string' && problemSet.has(candidate.problem) && typeof candidate.message === 'string';
}

/**
 * Parses `prefix/suffix`. Splits on the FIRST '/', so the suffix may contain '/'.
 * `0.NA/<prefix>` is not a handle here: try {@link parsePrefixRecord} first.
 */
export function parseHandle(input: string): ParsedHandle | HandleSyntaxError {
  if (typeof input !== 'string' || input.trim() === '') {
    return fail('EMPTY', 'No handle was given; a handle looks like 88.100.1234/PUMP-000042.');
  }
  if (input.length > MAX_HANDLE_INPUT_LENGTH) {
    return fail(
      'HANDLE_TOO_LONG',
      `The handle is too long (${input.length} UTF-16 code units); a handle has a prefix of at most ${MAX_PREFIX_LENGTH} characters and a suffix of at most ${MAX_SUFFIX_LENGTH} UTF-8 bytes.`,
    );
  }
  const badCharacter = findForbiddenCharacter(input, true);
  if (badCharacter) return badCharacter;
  if (startsWithWhitespace(input) || endsWithWhitespace(input)) {
    return fail(
      'SURROUNDING_WHITESPACE',
      `The handle ${startsWithWhitespace(input) ? 'starts' : 'ends'} with whitespace; remove it (spaces inside the suffix are allowed).`,
    );
  }

  const slash = input.indexOf('/');
  if (slash < 0) {
    return fail(
      'MISSING_SEPARATOR',
      `${quote(input)} has no '/': a handle is prefix/suffix, e.g. 88.100.1234/PUMP-000042 (to look up a prefix, use ${PREFIX_RECORD_PREFIX}/<prefix>).`,
    );
  }
  const prefix = input.slice(0, slash);
  const rawSuffix = input.slice(slash + 1);

  if (canonicalPrefix(prefix) === PREFIX_RECORD_PREFIX) {
    const inner = parsePrefix(rawSuffix);
    return fail(
      'INVALID_PREFIX',
      isHandleSyntaxError(inner)
        ? `${quote(input)} looks like a prefix record (${PREFIX_RECORD_PREFIX}/<prefix>), but what follows '${PREFIX_RECORD_PREFIX}/' is not a valid prefix: ${inner.message}`
        : `${quote(input)} is a prefix record (${PREFIX_RECORD_PREFIX}/<prefix>), not a handle; resolve it as a prefix.`,
    );
  }
  const prefixProblem = checkPrefix(prefix);
  if (prefixProblem) return prefixProblem;
  const canonical = canonicalPrefix(prefix);

  if (rawSuffix === '') {
    return fail('EMPTY_SUFFIX', `The suffix after '${canonical}/' is empty; a handle needs at least one character after the '/'.`);
  }
  if (startsWithWhitespace(rawSuffix)) {
    return fail('SURROUNDING_WHITESPACE', 'The suffix starts with whitespace; remove it (spaces inside the suffix are allowed).');
  }
  const suffix = rawSuffix.normalize('NFC');
  const bytes = utf8ByteLength(suffix);
  if (bytes > MAX_SUFFIX_LENGTH) {
    return fail(
      'SUFFIX_TOO_LONG',
      `The suffix is ${bytes} bytes long in UTF-8; at most ${MAX_SUFFIX_LENGTH} are allowed (a Chinese character takes 3 bytes, an ASCII character 1).`,
    );
  }
  return { prefix: canonical, suffix, handle: `${canonical}/${suffix}`, key: `${canonical}/${foldAsciiCase(suffix)}` };
}

/** Parses a bare prefix such as '88.100.1234' or '21.T14999'. Returns it in canonical form (ASCII letters upper-cased) when valid. */
export function parsePrefix(input: string): string | HandleSyntaxError {
  if (typeof input !== 'string' || input.trim() === '') {
    return fail('EMPTY', 'No prefix was given; a prefix looks like 88.100.1234 or 21.T14999.');
  }
  if (input.length > MAX_PREFIX_LENGTH) {
    return fail('PREFIX_TOO_LONG', `The prefix is ${input.length} characters long; at most ${MAX_PREFIX_LENGTH} are allowed.`);
  }
  const badCharacter = findForbiddenCharacter(input, false);
  if (badCharacter) return badCharacter;
  if (startsWithWhitespace(input) || endsWithWhitespace(input)) {
    return fail('SURROUNDING_WHITESPACE', `The prefix ${startsWithWhitespace(input) ? 'starts' : 'ends'} with whitespace; remove it.`);
  }
  return checkPrefix(input) ?? canonicalPrefix(input);
}

/** `0.NA/88.100.1234` (the '0.NA' in any case) → '88.100.1234', `0.na/21.t14999` → '21.T14999'; anything else → undefined. */
export function parsePrefixRecord(input: string): string | undefined {
  if (typeof input !== 'string') return undefined;
  const head = PREFIX_RECORD_PREFIX.length + 1;
  if (input.length <= head || canonicalPrefix(input.slice(0, head)) !== `${PREFIX_RECORD_PREFIX}/`) return undefined;
  const prefix = parsePrefix(input.slice(head));
  return isHandleSyntaxError(prefix) ? undefined : prefix;
}

/** '88.100.1234' → '0.NA/88.100.1234'. Throws on something that is not a valid prefix (a programming error). */
export function prefixRecordHandle(prefix: string): string {
  const parsed = parsePrefix(prefix);
  if (isHandleSyntaxError(parsed)) throw new Error(`prefixRecordHandle: ${parsed.message}`);
  return `${PREFIX_RECORD_PREFIX}/${parsed}`;
}

/**
 * True when `prefix` is `ancestor` or derived from it segment-wise, ignoring ASCII case: '88.100.1234'
 * is under '88.100', '21.t14999.1' under '21.T14999', '88.1001' not under '88.100'.
 */
export function isUnderPrefix(prefix: string, ancestor: string): boolean {
  const p = canonicalPrefix(prefix);
  const a = canonicalPrefix(ancestor);
  return p === a || p.startsWith(`${a}.`);
}

/** '88.100.1234' → ['88.100.1234', '88.100', '88'], most specific first (the order to look delegations up in); canonical case. */
export function parentPrefixes(prefix: string): string[] {
  const canonical = canonicalPrefix(prefix);
  const result: string[] = [];
  let end = canonical.length;
  while (end > 0) {
    result.push(canonical.slice(0, end));
    end = canonical.lastIndexOf('.', end - 1);
  }
  return result;
}

/** ASCII a–z → A–Z and nothing else, the prefix's canonical case (HANDLE.NET's upperCasePrefix). Returns `prefix` itself when it has no a–z. */
export function canonicalPrefix(prefix: string): string {
  return /[a-z]/.test(prefix) ? prefix.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32)) : prefix;
}

export interface AllocationProblem {
  reason: 'NOT_UNDER_NODE_PREFIX' | 'NOT_NUMERIC';
  message: string;
}

/**
 * Why this node may not allocate the (parsed) prefix `prefix` itself, or undefined when it may. An
 * allocated prefix is the node prefix plus one or more segments of ASCII digits, as the national system
 * numbers enterprises (88.100 → 88.100.1234, 88.100.1234.7). Prefixes with letters or punctuation
 * exist in the world (21.T14999) and are resolved and delegated, but never minted here: digits keep
 * our own prefixes free of case and lookalike questions and acceptable to the national SNMS API.
 */
export function enterpriseAllocationProblem(prefix: string, nodePrefix: string): AllocationProblem | undefined {
  const canonical = canonicalPrefix(prefix);
  const node = canonicalPrefix(nodePrefix);
  if (canonical === node || !isUnderPrefix(canonical, node)) {
    return { reason: 'NOT_UNDER_NODE_PREFIX', message: `This node allocates prefixes under ${node} only` };
  }
  const added = canonical.slice(node.length + 1).split('.');
  const bad = added.find((segment) => !/^[0-9]+$/.test(segment));
  if (bad !== undefined) {
    return {
      reason: 'NOT_NUMERIC',
      message: `This node allocates numeric prefixes only (${node}.<digits>, e.g. ${node}.1234); the segment ${quote(bad)} of ${quote(canonical)} is not ASCII digits`,
    };
  }
  return undefined;
}

/** Bytes of `text` in UTF-8 (an unpaired surrogate counts as the 3 bytes of U+FFFD). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A–Z → a–z and nothing else: not String#toLowerCase, which also folds Ä, Σ, İ (and İ into two code points). */
export function foldAsciiCase(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

// ---------------------------------------------------------------------------------------

function fail(problem: HandleSyntaxProblem, message: string): HandleSyntaxError {
  return { problem, message };
}

/**
 * A prefix character: '.' between segments, or an ASCII letter, digit, '-' or '_'. RFC 3651 §2.1 allows
 * any printable character but '.' and '/' in a segment; we take the part every prefix in use has
 * (numeric ones, 21.T14999, RFC 3650's ncstrl.vatech_cs). Non-ASCII would need Unicode normalisation
 * and lookalike rules in routing (the Handle System folds case for ASCII only), and other punctuation
 * would make URLs ('http://x'), admin references ('300:0.NA/…') and percent-escapes read as handles.
 */
function isPrefixCharacter(ch: string): boolean {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '.' || ch === '-' || ch === '_';
}

function checkPrefix(prefix: string): HandleSyntaxError | undefined {
  if (prefix === '') {
    return fail('INVALID_PREFIX', "The prefix is empty: a handle starts with its prefix, e.g. 88.100.1234/PUMP-000042, not with '/'.");
  }
  let position = 0;
  for (const ch of prefix) {
    position++;
    if (isPrefixCharacter(ch)) continue;
    const hint =
      ch === '/' ? ' (pass the prefix alone, not a handle or a prefix record)' : ch === ' ' ? ' (spaces are not allowed in a prefix)' : '';
    return fail(
      'INVALID_PREFIX',
      `The prefix ${quote(prefix)} may contain only ASCII letters, digits, '-' and '_', in segments separated by dots; character ${position} is ${describe(ch)}${hint}.`,
    );
  }
  if (prefix.startsWith('.'))
    return fail('INVALID_PREFIX', `The prefix ${quote(prefix)} starts with a dot; a prefix starts with a segment.`);
  if (prefix.endsWith('.')) return fail('INVALID_PREFIX', `The prefix ${quote(prefix)} ends with a dot; a prefix ends with a segment.`);
  if (prefix.includes('..'))
    return fail('INVALID_PREFIX', `The prefix ${quote(prefix)} has an empty segment ('..'); segments are separated by single dots.`);
  if (prefix.length > MAX_PREFIX_LENGTH) {
    return fail('PREFIX_TOO_LONG', `The prefix is ${prefix.length} characters long; at most ${MAX_PREFIX_LENGTH} are allowed.`);
  }
  const segments = prefix.split('.');
  if (segments.length > MAX_PREFIX_SEGMENTS) {
    return fail('PREFIX_TOO_LONG', `The prefix has ${segments.length} dot-separated segments; at most ${MAX_PREFIX_SEGMENTS} are allowed.`);
  }
  const long = segments.find((s) => s.length > MAX_PREFIX_SEGMENT_LENGTH);
  if (long !== undefined) {
    return fail(
      'PREFIX_TOO_LONG',
      `The prefix segment ${quote(long)} has ${long.length} characters; at most ${MAX_PREFIX_SEGMENT_LENGTH} are allowed.`,
    );
  }
  if (canonicalPrefix(prefix) === PREFIX_RECORD_PREFIX) {
    return fail(
      'INVALID_PREFIX',
      `${PREFIX_RECORD_PREFIX} holds the prefix records (${PREFIX_RECORD_PREFIX}/<prefix>); it is not a prefix to resolve under or delegate.`,
    );
  }
  return undefined;
}

/**
 * The first character no handle may contain, anywhere: controls, unpaired surrogates, U+FFFD,
 * line/paragraph separators, bidirectional embedding/override/isolate controls, noncharacters.
 */
function findForbiddenCharacter(text: string, isHandle: boolean): HandleSyntaxError | undefined {
  let inSuffix = false;
  let position = 0;
  for (const ch of text) {
    position++;
    if (isHandle && !inSuffix && ch === '/') {
      inSuffix = true;
      position = 0;
      continue;
    }
    const cp = ch.codePointAt(0) ?? 0;
    const reason = forbiddenReason(cp);
    if (reason === undefined) continue;
    const part = !isHandle ? 'prefix' : inSuffix ? 'suffix' : 'prefix';
    return fail('INVALID_CHARACTER', `The ${part} contains ${codePoint(cp)} at character ${position}: ${reason}.`);
  }
  return undefined;
}

function forbiddenReason(cp: number): string | undefined {
  if (cp <= 0x1f || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f)) return 'control characters are not allowed in handles';
  if (cp >= 0xd800 && cp <= 0xdfff) {
    return 'this is an unpaired surrogate, so the text was not valid Unicode (usually invalid UTF-8 upstream or a string cut inside a character); send the handle as valid UTF-8';
  }
  if (cp === 0xfffd) {
    return 'this is the replacement character a decoder substitutes for invalid UTF-8, so the handle was most likely damaged before it arrived; send it as valid UTF-8';
  }
  if (cp === 0x2028 || cp === 0x2029) return 'line and paragraph separators are not allowed in handles';
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
    return 'bidirectional formatting controls are not allowed because they make a handle display differently from what it is';
  }
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return 'Unicode noncharacters are not allowed in handles';
  return undefined;
}

const LEADING_WHITESPACE = /^[\p{White_Space}\uFEFF]/u;
const TRAILING_WHITESPACE = /[\p{White_Space}\uFEFF]$/u;

function startsWithWhitespace(text: string): boolean {
  return LEADING_WHITESPACE.test(text);
}

function endsWithWhitespace(text: string): boolean {
  return TRAILING_WHITESPACE.test(text);
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

function codePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function describe(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return cp > 0x20 && cp < 0x7f ? `'${ch}' (${codePoint(cp)})` : codePoint(cp);
}

/** Quotes user input for a message, cut to 40 code points (it has passed the forbidden-character check). */
function quote(text: string): string {
  const chars = Array.from(text);
  return `'${chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : text}'`;
}
