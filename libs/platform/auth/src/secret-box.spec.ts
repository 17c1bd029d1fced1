import { SecretBox, SecretBoxMismatchError } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox('a key-encryption secret of at least 32 characters');

  it('opens what it sealed, with a fresh IV each time', () => {
    const a = box.seal(Buffer.from([0, 1, 2, 255]));
    const b = box.seal(Buffer.from([0, 1, 2, 255]));
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toBe(b);
    expect(box.open(a)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(box.open(box.seal('text')).toString()).toBe('text');
  });

  it('refuses another secret, an altered value and what it did not write', () => {
    const sealed = box.seal('secret');
    expect(() => new SecretBox('another key-encryption secret, 32+ chars').open(sealed)).toThrow(SecretBoxMismatchError);
    const [v, iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] ^= 1;
    expect(() => box.open([v, iv, tag, flipped.toString('base64url')].join('.'))).toThrow(SecretBoxMismatchError);
    expect(() => box.open('scrypt$1$2$3')).toThrow(SecretBoxMismatchError);
  });
});
