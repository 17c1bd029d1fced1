import { Principal } from '@iip/platform-auth';
import { isHandleSyntaxError, parseHandle, parsePrefixRecord } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { ADMIN_INDEX } from './dto/handle-value.dto';
import { HandleValueInput } from './dto/handle-value.schema';

/**
 * Handle System types that Handle software acts on (RFC 3651 §3.2, RFC 3652): who administers a
 * record, with which keys, at which sites. Each has a fixed representation in the Handle REST
 * API — the formats listed — and only the server, an authorised admin or the platform operator
 * writes them. The value's shape per format is the schema's (handle-value.schema.ts).
 */
export const RESERVED_TYPE_FORMATS: Readonly<Record<string, readonly string[]>> = {
  HS_ADMIN: ['admin'],
  HS_VLIST: ['vlist'],
  HS_PUBKEY: ['key', 'base64', 'hex'],
  HS_SECKEY: ['string', 'base64', 'hex'],
  HS_SITE: ['site'],
  // A service handle (RFC 3651 §3.2.5); a delegation names a site or a service handle.
  HS_SERV: ['string'],
  HS_NA_DELEGATE: ['site', 'string'],
};

/** Types describing the node itself (its sites and services): the platform operator's to write. */
export const NODE_LEVEL_TYPES: ReadonlySet<string> = new Set(['HS_SITE', 'HS_SERV', 'HS_NA_DELEGATE']);

/**
 * The admin, value-list and key formats are those of their reserved types only, so nothing that
 * looks like an admin reference escapes the checks below. "site" stays open to every type: it is
 * also how a value carries a JSON object.
 */
const FORMAT_TYPES: Readonly<Record<string, readonly string[]>> = {
  admin: ['HS_ADMIN'],
  vlist: ['HS_VLIST'],
  key: ['HS_PUBKEY'],
};

const invalid = (message: string) => new IdentifierError(IdentifierErrorCode.INVALID_VALUE, message);

/** The prefix a referenced handle (`prefix/suffix` or a prefix record `0.NA/prefix`) is under; undefined when it is neither. */
export function referencedPrefix(handle: string): string | undefined {
  const prefixRecord = parsePrefixRecord(handle);
  if (prefixRecord !== undefined) return prefixRecord;
  const parsed = parseHandle(handle);
  return isHandleSyntaxError(parsed) ? undefined : parsed.prefix;
}

/** The handles an HS_ADMIN or HS_VLIST value points at (shapes already checked by the schema). */
export function referencedHandles(v: Pick<HandleValueInput, 'type' | 'data'>): string[] {
  if (v.type === 'HS_ADMIN' && v.data.format === 'admin') return [(v.data.value as { handle: string }).handle];
  if (v.type === 'HS_VLIST' && v.data.format === 'vlist') return (v.data.value as { handle: string }[]).map((r) => r.handle);
  return [];
}

/** Throws INVALID_VALUE unless a value of a reserved type (or format) has its Handle System shape. */
export function checkReservedShape(v: HandleValueInput): void {
  const canonical = v.type.toUpperCase();
  const formats = RESERVED_TYPE_FORMATS[canonical];
  if (formats && v.type !== canonical) {
    // Handle clients compare types without regard to case: hs_admin would be read as HS_ADMIN.
    throw invalid(`Value ${v.index}: type ${v.type} is the reserved type ${canonical}; write it as ${canonical}`);
  }
  const owners = FORMAT_TYPES[v.data.format];
  if (owners && !owners.includes(v.type)) {
    throw invalid(`Value ${v.index}: format "${v.data.format}" is for values of type ${owners.join(' or ')}, not ${v.type}`);
  }
  if (!formats) return;
  if (!formats.includes(v.data.format)) {
    throw invalid(`Value ${v.index}: ${v.type} values have format ${formats.map((f) => `"${f}"`).join(' or ')}, not "${v.data.format}"`);
  }
  if ((v.type === 'HS_SERV' || v.type === 'HS_NA_DELEGATE') && v.data.format === 'string') {
    if (referencedPrefix(v.data.value as string) === undefined) {
      throw invalid(`Value ${v.index}: ${v.type} values name a service handle, e.g. 0.NA/88.100`);
    }
  }
  for (const handle of referencedHandles(v)) {
    if (referencedPrefix(handle) === undefined) {
      throw invalid(`Value ${v.index}: ${v.type} names ${JSON.stringify(handle)}, which is neither a handle nor a prefix record`);
    }
  }
  if (v.type === 'HS_SECKEY' && v.access === 'public') {
    throw invalid(`Value ${v.index}: an HS_SECKEY value is a secret and cannot be public`);
  }
}

/**
 * Throws VALUE_NOT_PERMITTED unless the caller may write the reserved values among `input`:
 * node-level types only the platform operator; HS_ADMIN and HS_VLIST only pointing at handles
 * (or the prefix records) under prefixes the caller manages, so no one names another's admin.
 * `manages` answers for one prefix, read fresh.
 */
export async function authoriseReservedValues(
  actor: Principal,
  input: readonly HandleValueInput[],
  manages: (prefix: string) => Promise<boolean>,
): Promise<void> {
  for (const v of input) {
    if (v.index === ADMIN_INDEX) continue; // the server's own, dropped from what the client sent
    if (NODE_LEVEL_TYPES.has(v.type) && actor.tenant.kind !== 'platform') {
      throw new IdentifierError(
        IdentifierErrorCode.VALUE_NOT_PERMITTED,
        `Value ${v.index}: only the platform operator writes ${v.type} values, which describe the node`,
      );
    }
    for (const handle of referencedHandles(v)) {
      const prefix = referencedPrefix(handle);
      if (prefix === undefined || !(await manages(prefix))) {
        throw new IdentifierError(
          IdentifierErrorCode.VALUE_NOT_PERMITTED,
          `Value ${v.index}: ${v.type} may only name handles under prefixes you manage, not ${handle}`,
        );
      }
    }
  }
}
