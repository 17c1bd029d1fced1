import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** The secret given to a {@link SecretBox} differs from the one that sealed a value (or the value was altered). */
export class SecretBoxMismatchError extends Error {}

/**
 * Secrets the service must use again later (a token signing key, a Handle identity's secret key
 * for challenge–response) stored encrypted at rest: AES-256-GCM under a key derived from one
 * configured key-encryption secret. The text form is `v1.<iv>.<tag>.<ciphertext>` (base64url).
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(encryptionSecret: string) {
    this.key = createHash('sha256').update(encryptionSecret, 'utf8').digest();
  }

  seal(plain: Buffer | string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  /** The sealed bytes; SecretBoxMismatchError when this box's secret did not seal them. */
  open(sealed: string): Buffer {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) {
      throw new SecretBoxMismatchError('Not a value sealed by SecretBox (v1)');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
    } catch {
      throw new SecretBoxMismatchError('The key-encryption secret differs from the one that sealed this value');
    }
  }
}
