import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (
  password: string | Buffer,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** scrypt cost: ~50 ms per check on a server core, so guessing secrets offline is expensive. */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const MAX_MEM = 64 * 1024 * 1024;

/** A slow salted hash of a secret (OAuth2 client secrets, Handle secret keys): `scrypt$N$r$p$salt$hash`. */
export async function hashSecret(secret: string | Buffer): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, KEY_LENGTH, { ...PARAMS, maxmem: MAX_MEM });
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Whether `stored` is a hash {@link hashSecret} wrote (not, e.g., a secret stored in plain text). */
export function isSecretHash(stored: unknown): stored is string {
  return typeof stored === 'string' && /^scrypt\$\d{1,8}\$\d{1,3}\$\d{1,3}\$[A-Za-z0-9_-]{16,64}\$[A-Za-z0-9_-]{16,128}$/.test(stored);
}

/** Checks a secret against its hash in constant time; false for anything that is not such a hash. */
export async function verifySecret(secret: string | Buffer, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, expected] = parts;
  const expectedBuf = Buffer.from(expected, 'base64url');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64url'), expectedBuf.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEM,
  });
  return actual.length === expectedBuf.length && timingSafeEqual(actual, expectedBuf);
}

/**
 * A valid hash of a random value: checking an unknown identity against it costs the same as a
 * real check, so timing does not tell which identities exist.
 */
export const DUMMY_SECRET_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** A new client secret: 32 random bytes, URL-safe. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}
