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

/** The bytes a secret key stands for: the text of a `string` value, the decoded bytes of `base64` / `hex`. */
export function secretKeyBytes(format: string, value: unknown): Buffer {
  const text = typeof value === 'string' ? value : '';
  if (format === 'base64') return Buffer.from(text, 'base64');
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
      if (v.value !== SECRET_KEY_MARKER) return sealed(v, secretKeyBytes(v.format, v.value), v.format);
      const kept = stored.find((s) => s.idx === v.idx && s.type === 'HS_SECKEY');
      if (!kept) {
        throw new IdentifierError(
          IdentifierErrorCode.INVALID_VALUE,
          `Value ${v.idx}: ${JSON.stringify(SECRET_KEY_MARKER)} stands for the secret key stored there, and there is none`,
        );
      }
      if (isSecretHash(kept.value)) return { ...v, format: kept.format, value: kept.value, sealedSecret: kept.sealedSecret ?? null };
      return sealed(v, secretKeyBytes(kept.format, kept.value), kept.format);
    }),
  );
}

/** Whether `ref` (a handle and index an HS_ADMIN or HS_VLIST names) is the identity. */
function isIdentity(ref: { handle: string; index: number }, identity: HandleIdentity): boolean {
  if (ref.index !== identity.index) return false;
  const parsed = parseHandle(ref.handle);
  return !isHandleSyntaxError(parsed) && parsed.key === identity.key;
}

/** The handle and index every HS_ADMIN and HS_VLIST value among `values` names. */
export function adminReferences(values: readonly StoredValue[]): { handle: string; index: number }[] {
  const refs: { handle: string; index: number }[] = [];
  for (const v of values) {
    if (v.type === 'HS_ADMIN' && v.format === 'admin') refs.push(v.value as { handle: string; index: number });
    if (v.type === 'HS_VLIST' && v.format === 'vlist') refs.push(...(v.value as { handle: string; index: number }[]));
  }
  return refs.filter((r) => typeof r?.handle === 'string' && typeof r.index === 'number');
}

/** How many groups (HS_VLIST values elsewhere) one authorisation looks into at most. */
const MAX_GROUPS = 20;

/**
 * Whether the identity administers a record: an HS_ADMIN or HS_VLIST value of it names the
 * identity, or names an HS_VLIST (a group, one level deep) that lists it. `valueAt` reads a
 * value of another handle (by comparison key).
 */
export async function administers(
  identity: HandleIdentity,
  record: { key: string; values: readonly StoredValue[] },
  valueAt: (key: string, index: number) => Promise<StoredValue | undefined>,
): Promise<boolean> {
  const refs = adminReferences(record.values);
  if (refs.some((r) => isIdentity(r, identity))) return true;
  for (const ref of refs.slice(0, MAX_GROUPS)) {
    const parsed = parseHandle(ref.handle);
    if (isHandleSyntaxError(parsed)) continue; // 0.NA/<prefix>: the node's made-up prefix record holds no groups
    const group = parsed.key === record.key ? record.values.find((v) => v.idx === ref.index) : await valueAt(parsed.key, ref.index);
    if (group?.type === 'HS_VLIST' && adminReferences([group]).some((m) => isIdentity(m, identity))) return true;
  }
  return false;
}
