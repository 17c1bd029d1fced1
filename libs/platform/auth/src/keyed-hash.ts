import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 under a server key, for machine secrets of 256 random bits: nothing can guess
 * those, so a slow hash (scrypt) would only make every connection slow; the key means a
 * copy of the database alone does not let anyone check a candidate secret either.
 */
export class KeyedSecretHash {
  private readonly key: Buffer;

  constructor(key: string) {
    if (key.length < 32) throw new Error('the keyed-hash key must be at least 32 characters');
    this.key = Buffer.from(key, 'utf8');
  }

  hash(secret: string): Buffer {
    return createHmac('sha256', this.key).update(secret, 'utf8').digest();
  }

  /** Constant time in the secret's content. */
  matches(secret: string, stored: Buffer): boolean {
    const candidate = this.hash(secret);
    return candidate.length === stored.length && timingSafeEqual(candidate, stored);
  }
}
