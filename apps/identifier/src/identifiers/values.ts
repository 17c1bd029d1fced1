import { prefixRecordHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { PrefixEntity } from '../prefixes/prefix.entity';
import { HandleValueInput } from './dto/handle-value.schema';
import { IdentifierValueEntity } from './identifier.entity';

/** Index of the administrative value naming the owner, as in the Handle System. */
export const ADMIN_INDEX = 100;

export type NewValue = Omit<IdentifierValueEntity, 'key' | 'updatedAt'>;

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
    if (typeof v.data.value === 'string' && v.data.value.length > 65_536) {
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Value ${v.index} is longer than 65536 characters`);
    }
    const access = v.access ?? 'public';
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
    value: { handle: prefixRecordHandle(prefix.prefix), index: 200, permissions: '111111111111', tenantId: prefix.tenantId },
    ttl: defaultTtl,
    access: 'tenant',
    grantees: [],
  });
  return out.sort((a, b) => a.idx - b.idx);
}
