import { KeyedSecretHash } from './keyed-hash';

describe('KeyedSecretHash', () => {
  const keyed = new KeyedSecretHash('a-server-key-of-at-least-32-characters!');

  it('matches the secret it hashed and nothing else', () => {
    const stored = keyed.hash('device-secret-1');
    expect(keyed.matches('device-secret-1', stored)).toBe(true);
    expect(keyed.matches('device-secret-2', stored)).toBe(false);
    expect(keyed.matches('device-secret-1', stored.subarray(1))).toBe(false);
  });

  it('depends on the key', () => {
    const other = new KeyedSecretHash('another-server-key-of-32-characters!!');
    expect(other.matches('device-secret-1', keyed.hash('device-secret-1'))).toBe(false);
  });

  it('refuses a short key', () => {
    expect(() => new KeyedSecretHash('short')).toThrow('at least 32');
  });
});
