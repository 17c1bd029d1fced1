import { isSecretHash } from '@iip/platform-auth';
import { isHandleSyntaxError, parseHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { INT32_MAX } from '../identifiers/dto/handle-value.schema';
import { IdentifierValueEntity } from '../identifiers/identifier.entity';

/** A handle identity: the value at `index` of `handle` (`300:88.100.1000/ADMIN`), an HS_SECKEY here. */
export interface HandleIdentity {
  index: number;
  handle: string;
  /** The handle's comparison key (ASCII case folded), as references are matched. */
  key: string;
}

/**
 * What every read shows instead of a secret key, to the owner too (others do not see the value).
 * A PUT that sends it back at the same index keeps the stored key, so a Handle client's
 * read-modify-write of a whole record does not lose it.
 */
export const SECRET_KEY_MARKER = '<HS_SECKEY: stored as a hash, never shown>';

type StoredValue = Pick<IdentifierValueEntity, 'idx' | 'type' | 'format' | 'value' | 'sealedSecret'>;

/** How a secret key is kept: a slow hash (HTTP Basic checks it) and a sealed copy (native challenge–response needs the secret). */
export interface SecretKeySealer {
  hash(secret: Buffer): Promise<string>;
  seal(secret: Buffer): string;
}

/**
 * The identity a Basic user names, `index:handle`, percent-encoded as Handle clients send it
 * (`300%3A88.100.1000%2FADMIN`); a string saying what is wrong otherwise.
 */
export function parseHandleIdentity(user: string): HandleIdentity | string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(user);
  } catch {
    return 'the user is not valid percent-encoding';
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'the user must be index:handle, e.g. 300:88.100.1000/ADMIN';
  const index = decoded.slice(0, colon);
  if (!/^[1-9]\d{0,9}$/.test(index) || Number(index) > INT32_MAX) return `the index must be an integer from 1 to ${INT32_MAX}`;
  const parsed = parseHandle(decoded.slice(colon + 1));
  if (isHandleSyntaxError(parsed)) return `the handle is not valid: ${parsed.message}`;
  return { index: Number(index), handle: parsed.handle, key: parsed.key };
}

/** The password of a Basic header, percent-decoded as Handle clients encode it; undefined when it does not decode. */
export function decodeSecret(password: string): string | undefined {
  try {
    return decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

/** The bytes a key value stands for: the text of a `string` value, the decoded bytes of `base64` / `key` / `hex`. */
export function valueBytes(format: string, value: unknown): Buffer {
  const text = typeof value === 'string' ? value : '';
  if (format === 'base64' || format === 'key') return Buffer.from(text, 'base64');
  if (format === 'hex') return Buffer.from(text, 'hex');
  return Buffer.from(text, 'utf8');
}

/** A stored secret key as reads show it: the marker, never the hash or the sealed copy (nor a plaintext left by an older release). */
export function maskedSecretKey<V extends { type: string; format: string; value: unknown; sealedSecret?: string | null }>(v: V): V {
  if (v.type !== 'HS_SECKEY') return v;
  const { sealedSecret: _sealed, ...rest } = v;
  return { ...rest, format: 'string', value: SECRET_KEY_MARKER } as V;
}

/**
 * The values to write with every HS_SECKEY hashed and sealed: a new secret is hashed and sealed,
 * the marker keeps the key stored at that index (a plaintext one left by an older release is
 * hashed and sealed now).
 */
export async function sealSecretKeys<V extends StoredValue>(
  values: V[],
  stored: readonly StoredValue[],
  keys: SecretKeySealer,
): Promise<V[]> {
  const sealed = async (v: V, secret: Buffer, format: string): Promise<V> => ({
    ...v,
    format,
    value: await keys.hash(secret),
    sealedSecret: keys.seal(secret),
  });
  return Promise.all(
    values.map(async (v) => {
      if (v.type !== 'HS_SECKEY') return v;
      if (v.value !== SECRET_KEY_MARKER) return sealed(v, valueBytes(v.format, v.value), v.format);
      const kept = stored.find((s) => s.idx === v.idx && s.type === 'HS_SECKEY');
      if (!kept) {
        throw new IdentifierError(
          IdentifierErrorCode.INVALID_VALUE,
          `Value ${v.idx}: ${JSON.stringify(SECRET_KEY_MARKER)} stands for the secret key stored there, and there is none`,
        );
      }
      if (isSecretHash(kept.value)) return { ...v, format: kept.format, value: kept.value, sealedSecret: kept.sealedSecret ?? null };
      return sealed(v, valueBytes(kept.format, kept.value), kept.format);
    }),
  );
}

/** Whether `ref` (a handle and index an HS_ADMIN or HS_VLIST names) is the identity. */
function isIdentity(ref: { handle: string; index: number }, identity: HandleIdentity): boolean {
  if (ref.index !== identity.index) return false;
  const parsed = parseHandle(ref.handle);
  return !isHandleSyntaxError(parsed) && parsed.key === identity.key;
}

/**
 * Admin permissions (RFC 3651 §3.2.2, HANDLE.NET AdminRecord), by bit number; the REST form of an
 * HS_ADMIN writes the twelve flags bit 11 first (`011111110011`: all but list handles and derived prefixes).
 */
export const AdminPermission = {
  ADD_HANDLE: 0,
  DELETE_HANDLE: 1,
  MODIFY_VALUE: 4,
  REMOVE_VALUE: 5,
  ADD_VALUE: 6,
  MODIFY_ADMIN: 7,
  REMOVE_ADMIN: 8,
  ADD_ADMIN: 9,
} as const;

const PERMISSION_NAMES: Record<number, string> = {
  0: 'add handle',
  1: 'delete handle',
  4: 'modify value',
  5: 'remove value',
  6: 'add value',
  7: 'modify admin',
  8: 'remove admin',
  9: 'add admin',
};

export function permissionNames(bits: readonly number[]): string {
  return bits.map((b) => PERMISSION_NAMES[b] ?? `bit ${b}`).join(', ');
}

/** An HS_ADMIN's (or an HS_VLIST entry's) reference; an HS_VLIST entry carries no permissions of its own: all. */
interface AdminRef {
  handle: string;
  index: number;
  permissions?: string;
}

function grants(ref: AdminRef, needed: readonly number[]): boolean {
  if (ref.permissions === undefined) return true;
  const bits = ref.permissions;
  return bits.length === 12 && needed.every((b) => bits[11 - b] === '1');
}

/** The handle and index every HS_ADMIN and HS_VLIST value among `values` names (with the HS_ADMIN's permissions). */
export function adminReferences(values: readonly StoredValue[]): AdminRef[] {
  const refs: AdminRef[] = [];
  for (const v of values) {
    if (v.type === 'HS_ADMIN' && v.format === 'admin') refs.push(v.value as AdminRef);
    if (v.type === 'HS_VLIST' && v.format === 'vlist') {
      refs.push(...(v.value as AdminRef[]).map((r) => ({ handle: r?.handle, index: r?.index })));
    }
  }
  return refs.filter((r) => typeof r?.handle === 'string' && typeof r.index === 'number');
}

type ComparedValue = Pick<IdentifierValueEntity, 'idx' | 'type' | 'format' | 'value'> &
  Partial<Pick<IdentifierValueEntity, 'ttl' | 'access' | 'grantees'>>;

function sameValue(before: ComparedValue, after: ComparedValue): boolean {
  // The marker stands for the stored key: sending it back changes nothing.
  if (after.type === 'HS_SECKEY' && before.type === 'HS_SECKEY' && after.value === SECRET_KEY_MARKER) return true;
  return (
    before.type === after.type &&
    before.format === after.format &&
    JSON.stringify(before.value) === JSON.stringify(after.value) &&
    before.ttl === after.ttl &&
    before.access === after.access &&
    JSON.stringify(before.grantees ?? []) === JSON.stringify(after.grantees ?? [])
  );
}

/**
 * The admin permissions a change from `before` to `after` (the values at the indexes it touches)
 * needs: adding, modifying and removing values, the admin variants for HS_ADMIN values. Index 100
 * is the server's and never counts.
 */
export function changePermissions(before: readonly ComparedValue[], after: readonly ComparedValue[]): number[] {
  const needed = new Set<number>();
  const isAdmin = (v: ComparedValue) => v.type === 'HS_ADMIN';
  const old = new Map(before.filter((v) => v.idx !== 100).map((v) => [v.idx, v]));
  const next = new Map(after.filter((v) => v.idx !== 100).map((v) => [v.idx, v]));
  for (const [idx, v] of next) {
    const was = old.get(idx);
    if (!was) needed.add(isAdmin(v) ? AdminPermission.ADD_ADMIN : AdminPermission.ADD_VALUE);
    else if (!sameValue(was, v)) needed.add(isAdmin(v) || isAdmin(was) ? AdminPermission.MODIFY_ADMIN : AdminPermission.MODIFY_VALUE);
  }
  for (const [idx, v] of old) {
    if (!next.has(idx)) needed.add(isAdmin(v) ? AdminPermission.REMOVE_ADMIN : AdminPermission.REMOVE_VALUE);
  }
  return [...needed].sort((a, b) => a - b);
}

/** How many groups (HS_VLIST values elsewhere) one authorisation looks into at most. */
const MAX_GROUPS = 20;

/**
 * Whether the identity administers a record with the `needed` permissions: an HS_ADMIN or HS_VLIST
 * value of it names the identity, or an HS_ADMIN names an HS_VLIST (a group, one level deep) that
 * lists it; the HS_ADMIN that does so must grant every needed permission. `valueAt` reads a value
 * of another handle (by comparison key).
 */
export async function administers(
  identity: HandleIdentity,
  record: { key: string; values: readonly StoredValue[] },
  valueAt: (key: string, index: number) => Promise<StoredValue | undefined>,
  needed: readonly number[] = [],
): Promise<boolean> {
  const refs = adminReferences(record.values).filter((r) => grants(r, needed));
  if (refs.some((r) => isIdentity(r, identity))) return true;
  for (const ref of refs.slice(0, MAX_GROUPS)) {
    const parsed = parseHandle(ref.handle);
    if (isHandleSyntaxError(parsed)) continue; // 0.NA/<prefix>: the node's made-up prefix record holds no groups
    const group = parsed.key === record.key ? record.values.find((v) => v.idx === ref.index) : await valueAt(parsed.key, ref.index);
    if (group?.type === 'HS_VLIST' && adminReferences([group]).some((m) => isIdentity(m, identity))) return true;
  }
  return false;
}
