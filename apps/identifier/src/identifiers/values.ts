import { prefixRecordHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { PrefixEntity } from '../prefixes/prefix.entity';
import { ADMIN_INDEX } from './dto/handle-value.dto';
import { HandleValueInput, MAX_STRING_VALUE_LENGTH } from './dto/handle-value.schema';
import { IdentifierValueEntity } from './identifier.entity';
import { checkReservedShape } from './reserved-values';

export { ADMIN_INDEX };

/**
 * Deepest nesting of arrays and objects in a value's `data.value`, on every transport. Below what
 * a REST body may nest in all (the value sits four levels down), so REST, batch and gRPC refuse
 * the same value with the same message.
 */
export const MAX_VALUE_DEPTH = 32;

export type NewValue = Omit<IdentifierValueEntity, 'key' | 'updatedAt'>;

/**
 * The Handle System's default permissions for a handle's administrator, as the Handle REST API
 * writes an admin value's 12 permission bits (RFC 3651 §3.2.3 AdminRef; HANDLE.NET's
 * AdminRecord), bit 11 first: list handles 0 · add admin, remove admin, modify admin, read value,
 * add value, remove value, modify value 1 · delete derived prefix, add derived prefix 0 · delete
 * handle, add handle 1. Derived prefixes are the node's to allocate, and no one lists handles
 * through an admin value here.
 */
export const ADMIN_PERMISSIONS = '011111110011';

/** Index of the key the prefix record 0.NA/<prefix> names its administrator by (the Handle System's customary 200). */
export const ADMIN_KEY_INDEX = 200;

/**
 * The public HS_ADMIN value (index 100) of every handle under `prefix` and of its prefix record:
 * the administrator is the prefix record. Who owns the prefix stays in the prefixes table — no
 * tenant id goes into a value anyone may read.
 */
export function adminValue(prefix: string): { handle: string; index: number; permissions: string } {
  return { handle: prefixRecordHandle(prefix), index: ADMIN_KEY_INDEX, permissions: ADMIN_PERMISSIONS };
}

/** True when `value` nests arrays/objects deeper than `max` (a scalar is 0, `[]` is 1). Iterative: no stack to overflow. */
export function valueDepthExceeds(value: unknown, max: number = MAX_VALUE_DEPTH): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node as Record<string, unknown>)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Checks the values a client sent and adds the admin value naming the owner. */
export function buildValues(input: HandleValueInput[], prefix: PrefixEntity, defaultTtl: number): NewValue[] {
  const seen = new Set<number>();
  const out: NewValue[] = [];
  for (const v of input) {
    if (seen.has(v.index)) throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Index ${v.index} appears twice`);
    seen.add(v.index);
    if (v.index === ADMIN_INDEX) {
      if (v.type !== 'HS_ADMIN')
        throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Index ${ADMIN_INDEX} is reserved for HS_ADMIN`);
      continue; // the server writes the admin value itself
    }
    if (['string', 'base64', 'hex'].includes(v.data.format) && typeof v.data.value !== 'string') {
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Value ${v.index}: format ${v.data.format} needs a string value`);
    }
    if (typeof v.data.value === 'string' && v.data.value.length > MAX_STRING_VALUE_LENGTH) {
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Value ${v.index} is longer than ${MAX_STRING_VALUE_LENGTH} characters`);
    }
    if (valueDepthExceeds(v.data.value)) {
      throw new IdentifierError(
        IdentifierErrorCode.INVALID_VALUE,
        `Value ${v.index}: data.value is nested deeper than ${MAX_VALUE_DEPTH} levels`,
      );
    }
    checkReservedShape(v);
    // A secret key is never public: unless the client says otherwise, only the owner reads it.
    const access = v.access ?? (v.type === 'HS_SECKEY' ? 'tenant' : 'public');
    if (access === 'granted' && !v.grantees?.length) {
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Value ${v.index} is "granted" but names no grantees`);
    }
    out.push({
      idx: v.index,
      type: v.type,
      format: v.data.format,
      value: v.data.value,
      ttl: v.ttl ?? defaultTtl,
      access,
      grantees: access === 'granted' ? (v.grantees ?? []) : [],
    });
  }
  out.push({
    idx: ADMIN_INDEX,
    type: 'HS_ADMIN',
    format: 'admin',
    value: adminValue(prefix.prefix),
    ttl: defaultTtl,
    // Public, as in the Handle System: clients and the global resolver read who administers a handle.
    access: 'public',
    grantees: [],
  });
  return out.sort((a, b) => a.idx - b.idx);
}
