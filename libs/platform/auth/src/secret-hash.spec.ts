import { generateSecret, hashSecret, verifySecret } from './secret-hash';

describe('client secret hashing', () => {
  it('verifies the right secret and rejects a wrong one', async () => {
    const secret = generateSecret();
    const stored = await hashSecret(secret);
    expect(stored).not.toContain(secret);
    await expect(verifySecret(secret, stored)).resolves.toBe(true);
    await expect(verifySecret(secret + 'x', stored)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    const secret = generateSecret();
    expect(await hashSecret(secret)).not.toBe(await hashSecret(secret));
  });

  it('rejects a stored value it does not understand', async () => {
    await expect(verifySecret('x', 'plain-text')).resolves.toBe(false);
  });
});
