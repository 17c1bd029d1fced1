/**
 * The Handle protocol's challenge–response (RFC 3652 §3.5): the server answers an administration
 * request with a nonce and the request's digest; the client proves who it is by signing both with
 * its secret key (HS_SECKEY) or private key (HS_PUBKEY) and sends that back in a separate message
 * (OC_RESPONSE_TO_CHALLENGE) naming the challenge's session id. Challenges live in Redis, so the
 * answer may reach any instance (TCP and HTTP clients reconnect for it), and are taken once.
 */
import { KeyObject, createHash, createHmac, createPublicKey, pbkdf2, randomBytes, randomInt, timingSafeEqual, verify } from 'node:crypto';
import { promisify } from 'node:util';
import { Redis } from '@iip/platform-redis';
import { Envelope, RawRequest, Reader, WireError, decodeRequest } from './handle-wire';

const pbkdf2Async = promisify(pbkdf2);

/** How long a challenge can be answered. */
export const CHALLENGE_TTL_MS = 60_000;
const NONCE_BYTES = 16;
/** PBKDF2 work a client may ask of the server when it checks a secret-key answer (the Handle client uses 10,000). */
const MAX_PBKDF2_ITERATIONS = 100_000;

/** Hash codes of a secret-key answer (the Handle client's Common.HASH_CODE_*). */
const SecretKeyHash = { SHA1: 0x02, SHA256: 0x03, HMAC_SHA1: 0x12, HMAC_SHA256: 0x13, PBKDF2_HMAC_SHA1: 0x22 } as const;

export interface PendingChallenge {
  /** The request that was challenged, to carry out once the answer checks out. */
  request: RawRequest;
  nonce: Buffer;
}

interface StoredChallenge {
  envelope: Envelope;
  message: string;
  nonce: string;
}

/** Challenges issued and not yet answered, by session id. */
export class NativeChallenges {
  constructor(private readonly redis: Redis) {}

  async issue(request: RawRequest): Promise<{ sessionId: number; nonce: Buffer }> {
    const nonce = randomBytes(NONCE_BYTES);
    const sessionId = randomInt(1, 0x7fffffff);
    // Header and body are what the digest covers and all that is needed to carry the request out.
    const stored: StoredChallenge = {
      envelope: { ...request.envelope, messageLength: request.headerAndBody.length },
      message: request.headerAndBody.toString('base64'),
      nonce: nonce.toString('base64'),
    };
    await this.redis.set(this.key(sessionId), JSON.stringify(stored), CHALLENGE_TTL_MS);
    return { sessionId, nonce };
  }

  /** The challenge of this session, once: a second answer (a replay) finds nothing. */
  async take(sessionId: number): Promise<PendingChallenge | undefined> {
    const raw = await this.redis.take(this.key(sessionId));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredChallenge;
    return { request: decodeRequest(stored.envelope, Buffer.from(stored.message, 'base64')), nonce: Buffer.from(stored.nonce, 'base64') };
  }

  private key(sessionId: number): string {
    return `native-challenge:${sessionId}`;
  }
}

/** What the client signs: the nonce, then the request digest's hash bytes (without its hash code). */
export function signedData(nonce: Buffer, digestWithCode: Buffer): Buffer {
  return Buffer.concat([nonce, digestWithCode.subarray(1)]);
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether a secret-key answer signs `data` with `secret`. The Handle client (protocol 2.7 and
 * later) sends 0x22: PBKDF2-HMAC-SHA1 over the secret with its own salt and iterations, then
 * HMAC-SHA1 of the data under the derived key; older clients an HMAC or a keyed digest. MD5 is
 * refused.
 */
export async function secretKeySigned(secret: Buffer, data: Buffer, signedResponse: Buffer): Promise<boolean> {
  if (signedResponse.length < 2) return false;
  const code = signedResponse[0];
  const rest = signedResponse.subarray(1);
  switch (code) {
    case SecretKeyHash.PBKDF2_HMAC_SHA1: {
      const r = new Reader(rest);
      const salt = r.bytes('the salt');
      const iterations = r.int('the iterations');
      const keyBits = r.int('the key length');
      const mac = r.bytes('the MAC');
      if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS || keyBits < 128 || keyBits > 512 || keyBits % 8 !== 0) return false;
      // Java's PBEKeySpec takes the secret's bytes as chars and hashes them as UTF-8.
      const password = Buffer.from(secret.toString('latin1'), 'utf8');
      const derived = await pbkdf2Async(password, salt, iterations, keyBits / 8, 'sha1');
      return same(createHmac('sha1', derived).update(data).digest(), mac);
    }
    case SecretKeyHash.HMAC_SHA256:
      return same(createHmac('sha256', secret).update(data).digest(), rest);
    case SecretKeyHash.HMAC_SHA1:
      return same(createHmac('sha1', secret).update(data).digest(), rest);
    case SecretKeyHash.SHA256:
      return same(createHash('sha256').update(secret).update(data).update(secret).digest(), rest);
    case SecretKeyHash.SHA1:
      return same(createHash('sha1').update(secret).update(data).update(secret).digest(), rest);
    default:
      return false;
  }
}

/** A big-endian unsigned integer as JWK writes it: no leading zero bytes (Java's BigInteger adds a sign byte). */
function unsigned(b: Buffer): string {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i).toString('base64url');
}

/**
 * An HS_PUBKEY value's key (RFC 3651 §3.2.4 as the Handle software writes it): the key type, two
 * reserved octets, then RSA's exponent and modulus. DSA keys are not accepted here (RSA is what
 * the Handle tools generate by default); undefined for anything that is not a readable RSA key.
 */
export function handlePublicKey(data: Buffer): KeyObject | undefined {
  try {
    const r = new Reader(data);
    const type = r.bytes('the key type').toString('latin1');
    if (type !== 'RSA_PUB_KEY') return undefined;
    r.int2('reserved');
    const e = r.bytes('the exponent');
    const n = r.bytes('the modulus');
    return createPublicKey({ key: { kty: 'RSA', e: unsigned(e), n: unsigned(n) }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

const SIGNATURE_HASHES: Readonly<Record<string, string>> = { 'SHA-256': 'sha256', SHA256: 'sha256', SHA1: 'sha1', 'SHA-1': 'sha1' };

/** Whether a public-key answer (hash algorithm name, signature) signs `data` with the private half of `key`. */
export function publicKeySigned(key: KeyObject, data: Buffer, signedResponse: Buffer): boolean {
  let hashName: string;
  let signature: Buffer;
  try {
    const r = new Reader(signedResponse);
    hashName = r.bytes('the hash algorithm').toString('latin1');
    signature = r.bytes('the signature');
  } catch (err) {
    if (err instanceof WireError) return false;
    throw err;
  }
  return publicKeyVerifies(key, data, hashName, signature);
}

/** Whether `signature` (PKCS#1 v1.5 for RSA) signs `data` under `key` with the named hash (SHA-256 or SHA-1). */
export function publicKeyVerifies(key: KeyObject, data: Buffer, hashName: string, signature: Buffer): boolean {
  const hash = SIGNATURE_HASHES[hashName.toUpperCase()];
  if (!hash) return false;
  try {
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}
