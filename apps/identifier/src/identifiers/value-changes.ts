import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { ADMIN_INDEX } from './dto/handle-value.dto';
import { HandleValueInput, INT32_MAX } from './dto/handle-value.schema';
import { IdentifierValueEntity } from './identifier.entity';

/*
 * The Handle REST API's writes of single values (`PUT …?index=`, `DELETE …?index=`) and of a
 * server-minted suffix (`PUT {prefix}/?mintNewSuffix=true`), as pure rules.
 */

/** `index=various` on a PUT: add or replace whatever values the body carries. */
export const VARIOUS = 'various';
export type ListedIndexes = readonly number[] | typeof VARIOUS;

/** `index=` of a PUT as a query string brings it (decimal digits or `various`, checked at the edge): numbers, or `various` alone. */
export function listedIndexes(raw: readonly string[]): ListedIndexes {
  if (raw.includes(VARIOUS)) {
    if (raw.some((i) => i !== VARIOUS)) {
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, 'index=various stands alone: it means the indexes of the values sent');
    }
    return VARIOUS;
  }
  const indexes = raw.map(Number);
  if (indexes.some((i) => !Number.isInteger(i) || i < 1 || i > INT32_MAX)) {
    throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `each index must be an integer from 1 to ${INT32_MAX}`);
  }
  return indexes;
}

/**
 * The indexes a per-index PUT changes. The Handle API: "the indices must match the indices of the
 * handle values in the request entity", so each listed index has a value in the body and each
 * value is listed; `index=various` takes the body's indexes.
 */
export function changedIndexes(listed: ListedIndexes, values: readonly Pick<HandleValueInput, 'index'>[]): number[] {
  const sent = [...new Set(values.map((v) => v.index))].sort((a, b) => a - b);
  if (listed === VARIOUS) return sent;
  const wanted = [...new Set(listed)].sort((a, b) => a - b);
  const unlisted = sent.filter((i) => !wanted.includes(i));
  const missing = wanted.filter((i) => !sent.includes(i));
  if (unlisted.length > 0 || missing.length > 0) {
    const parts = [
      missing.length > 0 ? `index ${missing.join(', ')} is listed but has no value in the body` : '',
      unlisted.length > 0 ? `the body has values at ${unlisted.join(', ')}, which are not listed` : '',
    ].filter(Boolean);
    throw new IdentifierError(
      IdentifierErrorCode.INVALID_VALUE,
      `The index= parameters must name exactly the indexes of the values sent: ${parts.join('; ')}`,
    );
  }
  return wanted;
}

/** A stored value as a client would send it, to check a whole record (e.g. against its template) after a partial change. */
export function storedAsInput(v: Omit<IdentifierValueEntity, 'key' | 'updatedAt'>): HandleValueInput {
  return {
    index: v.idx,
    type: v.type,
    data: { format: v.format as HandleValueInput['data']['format'], value: v.value },
    ttl: v.ttl,
    access: v.access,
    grantees: v.grantees,
  };
}

/** The record after a per-index PUT: the stored values with those at `changed` indexes replaced or added, in index order. */
export function mergedValues(stored: readonly HandleValueInput[], changed: readonly HandleValueInput[]): HandleValueInput[] {
  const replaced = new Set(changed.map((v) => v.index));
  return [...stored.filter((v) => !replaced.has(v.index)), ...changed].sort((a, b) => a.index - b.index);
}

/** `overwrite=false` with `index=`: refuse (Handle code 201, value already exists) when any listed index holds a value. */
export function checkNotOverwriting(handle: string, indexes: readonly number[], stored: ReadonlySet<number>): void {
  const taken = indexes.filter((i) => stored.has(i));
  if (taken.length > 0) {
    throw new IdentifierError(
      IdentifierErrorCode.VALUE_ALREADY_EXISTS,
      `${handle} already has values at index ${taken.join(', ')} (overwrite=false)`,
      { indexes: taken },
    );
  }
}

/**
 * The indexes a `DELETE …?index=` removes. Index 100 is the server's HS_ADMIN naming the owner: it
 * goes only with the whole handle. All listed indexes must hold a value, else nothing is removed
 * (Handle code 200, values not found).
 */
export function removableIndexes(handle: string, listed: readonly number[], stored: ReadonlySet<number>): number[] {
  const indexes = [...new Set(listed)].sort((a, b) => a - b);
  if (indexes.includes(ADMIN_INDEX)) {
    throw new IdentifierError(
      IdentifierErrorCode.VALUE_NOT_PERMITTED,
      `Index ${ADMIN_INDEX} is the server's HS_ADMIN value naming the owner; it is removed only with the whole handle`,
    );
  }
  checkExisting(handle, indexes, stored);
  return indexes;
}

/** Every listed index holds a value (a removal, a native MODIFY_VALUE), else Handle code 200, values not found. */
export function checkExisting(handle: string, indexes: readonly number[], stored: ReadonlySet<number>): void {
  const missing = indexes.filter((i) => !stored.has(i));
  if (missing.length > 0) {
    throw new IdentifierError(IdentifierErrorCode.VALUES_NOT_FOUND, `${handle} has no values at index ${missing.join(', ')}`, {
      indexes: missing,
    });
  }
}

/**
 * `PUT /api/handles/{prefix}/?mintNewSuffix=true`: the Handle API appends a server-generated string
 * to the path as given, whose slash the client includes (`88.100.1000/` or `88.100.1000/pump-`).
 * Without a slash there is nothing to append to; refused rather than guessing one.
 */
export function mintedHandleName(base: string, suffix: string): string {
  if (!base.includes('/')) {
    throw new IdentifierError(
      IdentifierErrorCode.INVALID_HANDLE,
      `mintNewSuffix=true appends a suffix to the path given, which must include the slash: PUT /api/handles/${base}/?mintNewSuffix=true`,
      { problem: 'MISSING_SLASH' },
    );
  }
  return `${base}${suffix}`;
}
