import { createHash, createHmac, generateKeyPairSync, pbkdf2Sync, sign } from 'node:crypto';
import { Writer } from './handle-wire';
import { handlePublicKey, publicKeySigned, secretKeySigned, signedData } from './native-auth';

const secret = Buffer.from('s3cret-ключ', 'utf8');
const data = signedData(Buffer.alloc(16, 9), Buffer.concat([Buffer.from([3]), Buffer.alloc(32, 5)]));

/** A 0x22 answer as the Handle client builds it (salt, iterations, key bits, MAC). */
function pbkdf2Answer(iterations = 10_000, keyBits = 160, key = secret): Buffer {
  const salt = Buffer.alloc(16, 1);
  const derived = pbkdf2Sync(Buffer.from(key.toString('latin1'), 'utf8'), salt, iterations, keyBits / 8, 'sha1');
  const mac = createHmac('sha1', derived).update(data).digest();
  return Buffer.concat([Buffer.from([0x22]), new Writer().bytes(salt).int(iterations).int(keyBits).bytes(mac).toBuffer()]);
}

describe('secret-key answers', () => {
  it('checks the digests the Handle client sends by protocol version', async () => {
    expect(signedData(Buffer.from([1, 2]), Buffer.from([3, 7, 8]))).toEqual(Buffer.from([1, 2, 7, 8]));
    await expect(secretKeySigned(secret, data, pbkdf2Answer())).resolves.toBe(true);
    const hmac256 = Buffer.concat([Buffer.from([0x13]), createHmac('sha256', secret).update(data).digest()]);
    await expect(secretKeySigned(secret, data, hmac256)).resolves.toBe(true);
    const sha1 = Buffer.concat([Buffer.from([0x02]), createHash('sha1').update(secret).update(data).update(secret).digest()]);
    await expect(secretKeySigned(secret, data, sha1)).resolves.toBe(true);
  });

  it('refuses another secret, other data, MD5, and PBKDF2 work beyond its cap', async () => {
    await expect(secretKeySigned(Buffer.from('other'), data, pbkdf2Answer())).resolves.toBe(false);
    await expect(secretKeySigned(secret, Buffer.from('other data'), pbkdf2Answer())).resolves.toBe(false);
    const md5 = Buffer.concat([Buffer.from([0x01]), createHash('md5').update(secret).update(data).update(secret).digest()]);
    await expect(secretKeySigned(secret, data, md5)).resolves.toBe(false);
    await expect(secretKeySigned(secret, data, pbkdf2Answer(100_001))).resolves.toBe(false);
    await expect(secretKeySigned(secret, data, pbkdf2Answer(10_000, 96))).resolves.toBe(false);
    await expect(secretKeySigned(secret, data, Buffer.from([0x22]))).resolves.toBe(false);
  });
});

describe('public-key answers', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  // HS_PUBKEY as the Handle software writes it; BigInteger bytes carry a leading sign byte.
  const encoded = new Writer()
    .bytes('RSA_PUB_KEY')
    .int2(0)
    .bytes(Buffer.from(jwk.e as string, 'base64url'))
    .bytes(Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n as string, 'base64url')]))
    .toBuffer();
  const answer = (hash: string, signature: Buffer) => new Writer().bytes(hash).bytes(signature).toBuffer();

  it('reads an RSA HS_PUBKEY and checks SHA-256 and SHA-1 signatures', () => {
    const key = handlePublicKey(encoded);
    expect(key?.asymmetricKeyType).toBe('rsa');
    expect(publicKeySigned(key!, data, answer('SHA-256', sign('sha256', data, privateKey)))).toBe(true);
    expect(publicKeySigned(key!, data, answer('SHA1', sign('sha1', data, privateKey)))).toBe(true);
  });

  it('refuses a signature over other data, a mismatched hash, an unknown hash and keys it cannot read', () => {
    const key = handlePublicKey(encoded)!;
    expect(publicKeySigned(key, data, answer('SHA-256', sign('sha256', Buffer.from('other'), privateKey)))).toBe(false);
    expect(publicKeySigned(key, data, answer('SHA1', sign('sha256', data, privateKey)))).toBe(false);
    expect(publicKeySigned(key, data, answer('MD5', sign('md5', data, privateKey)))).toBe(false);
    expect(publicKeySigned(key, data, Buffer.from([0, 0]))).toBe(false);
    expect(handlePublicKey(Buffer.from('not a key'))).toBeUndefined();
    expect(handlePublicKey(new Writer().bytes('DSA_PUB_KEY').int2(0).toBuffer())).toBeUndefined();
  });
});
