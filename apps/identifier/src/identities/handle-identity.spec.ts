import { SecretBox, hashSecret, verifySecret } from '@iip/platform-auth';
import { ParsedHandle, parseHandle } from '../handles/handle-syntax';
import { IdentifierError } from '../identifier.errors';
import {
  AdminPermission,
  SECRET_KEY_MARKER,
  administers,
  changePermissions,
  decodeSecret,
  maskedSecretKey,
  parseHandleIdentity,
  sealSecretKeys,
} from './handle-identity';

/** A handle's comparison key, as the node computes it. */
const keyOf = (handle: string) => (parseHandle(handle) as ParsedHandle).key;

describe('handle identities in Basic credentials', () => {
  it('reads index:handle percent-encoded, as Handle clients send it', () => {
    expect(parseHandleIdentity('300%3A88.100.1000%2FADMIN')).toEqual({
      index: 300,
      handle: '88.100.1000/ADMIN',
      key: keyOf('88.100.1000/ADMIN'),
    });
    // Percent-encoding is optional where a character needs none; the key folds ASCII case as handles compare.
    expect(parseHandleIdentity('301:88.100.1000/admin')).toMatchObject({
      index: 301,
      handle: '88.100.1000/admin',
      key: keyOf('88.100.1000/ADMIN'),
    });
    expect(parseHandleIdentity('300%3A88.100.1000%2FA%C3%84')).toMatchObject({ handle: '88.100.1000/AÄ' });
  });

  it.each([
    ['no colon', '88.100.1000%2FADMIN', /index:handle/],
    ['a non-numeric index', 'admin%3A88.100.1000%2FADMIN', /index must be an integer/],
    ['index 0', '0%3A88.100.1000%2FADMIN', /index must be an integer/],
    ['a negative index', '-1%3A88.100.1000%2FADMIN', /index must be an integer/],
    ['an index past int32', '2147483648%3A88.100.1000%2FADMIN', /index must be an integer/],
    ['an empty handle', '300%3A', /handle is not valid/],
    ['a handle without a suffix', '300%3A88.100.1000', /handle is not valid/],
    ['broken percent-encoding', '300%3A88.100.1000%2', /percent-encoding/],
  ])('refuses a user with %s', (_case, user, message) => {
    const parsed = parseHandleIdentity(user);
    expect(typeof parsed).toBe('string');
    expect(parsed).toMatch(message);
  });

  it('percent-decodes the secret key, and refuses one that does not decode', () => {
    expect(decodeSecret('s3cr%C3%A9t%3A%25')).toBe('s3crét:%');
    expect(decodeSecret('plain-secret')).toBe('plain-secret');
    expect(decodeSecret('50%')).toBeUndefined();
  });
});

describe('secret keys at rest', () => {
  const seckey = (idx: number, value: unknown, format = 'string', sealedSecret?: string) => ({
    idx,
    type: 'HS_SECKEY',
    format,
    value,
    sealedSecret,
  });
  const box = new SecretBox('a key-encryption secret for this spec only');
  const keys = { hash: hashSecret, seal: (secret: Buffer) => box.seal(secret) };

  it('stores a new secret key as a slow hash of its bytes, and reads show only the marker', async () => {
    const [url, sealed] = await sealSecretKeys(
      [{ idx: 1, type: 'URL', format: 'string', value: 'https://x', sealedSecret: undefined as string | undefined }, seckey(300, 's3cret')],
      [],
      keys,
    );
    expect(url.value).toBe('https://x');
    expect(sealed.value).toMatch(/^scrypt\$/);
    await expect(verifySecret(Buffer.from('s3cret'), sealed.value as string)).resolves.toBe(true);
    // The sealed copy opens to the secret's bytes (what native challenge–response uses); reads show neither.
    expect(box.open(sealed.sealedSecret as string).toString()).toBe('s3cret');
    expect(maskedSecretKey(sealed)).toEqual({ idx: 300, type: 'HS_SECKEY', format: 'string', value: SECRET_KEY_MARKER });
    // hex and base64 keys stand for their bytes: the same secret either way.
    const [hex] = await sealSecretKeys([seckey(300, Buffer.from('s3cret').toString('hex'), 'hex')], [], keys);
    await expect(verifySecret(Buffer.from('s3cret'), hex.value as string)).resolves.toBe(true);
  });

  it('keeps the stored key when a client sends the marker back, hashing a plaintext one an older release left', async () => {
    const hashed = await hashSecret('kept');
    const [kept] = await sealSecretKeys([seckey(300, SECRET_KEY_MARKER)], [seckey(300, hashed, 'string', box.seal('kept'))], keys);
    expect(kept.value).toBe(hashed);
    expect(box.open(kept.sealedSecret as string).toString()).toBe('kept');
    const [upgraded] = await sealSecretKeys([seckey(300, SECRET_KEY_MARKER)], [seckey(300, 'legacy-plain')], keys);
    expect(upgraded.value).toMatch(/^scrypt\$/);
    await expect(verifySecret(Buffer.from('legacy-plain'), upgraded.value as string)).resolves.toBe(true);
    expect(box.open(upgraded.sealedSecret as string).toString()).toBe('legacy-plain');
  });

  it('refuses the marker where no key is stored', async () => {
    await expect(sealSecretKeys([seckey(301, SECRET_KEY_MARKER)], [seckey(300, 'x')], keys)).rejects.toThrow(IdentifierError);
  });
});

describe('who a handle identity administers', () => {
  const identity = { index: 300, handle: '88.100.1000/ADMIN', key: keyOf('88.100.1000/ADMIN') };
  const admin = (idx: number, handle: string, index: number) => ({
    idx,
    type: 'HS_ADMIN',
    format: 'admin',
    value: { handle, index, permissions: '011111110011' },
  });
  const vlist = (idx: number, members: { handle: string; index: number }[]) => ({ idx, type: 'HS_VLIST', format: 'vlist', value: members });
  const serverAdmin = admin(100, '0.NA/88.100.1000', 200);
  const none = () => Promise.resolve(undefined);

  it('is named by an HS_ADMIN or HS_VLIST value of the record (handles compared without ASCII case)', async () => {
    await expect(administers(identity, { key: 'K', values: [serverAdmin, admin(101, '88.100.1000/admin', 300)] }, none)).resolves.toBe(
      true,
    );
    await expect(administers(identity, { key: 'K', values: [vlist(102, [identity])] }, none)).resolves.toBe(true);
  });

  it('is listed in a group an HS_ADMIN names, one level deep, in the record itself or another', async () => {
    await expect(
      administers(
        identity,
        { key: 'K', values: [admin(101, '88.100.1000/X', 200), vlist(200, [{ handle: '88.100.1000/Y', index: 300 }])] },
        none,
      ),
    ).resolves.toBe(false); // 88.100.1000/X is another handle: its index 200 is asked for, and there is none
    const groups = jest.fn((key: string, idx: number) =>
      Promise.resolve(key === keyOf('88.100.1000/GROUP') && idx === 200 ? vlist(200, [identity]) : undefined),
    );
    await expect(administers(identity, { key: 'K', values: [admin(101, '88.100.1000/GROUP', 200)] }, groups)).resolves.toBe(true);
    await expect(
      administers(identity, { key: keyOf('88.100.1000/X'), values: [admin(101, '88.100.1000/X', 200), vlist(200, [identity])] }, none),
    ).resolves.toBe(true);
  });

  it('is not named: another index, another handle, the server admin only, or a group two levels down', async () => {
    await expect(administers(identity, { key: 'K', values: [serverAdmin] }, none)).resolves.toBe(false);
    await expect(administers(identity, { key: 'K', values: [admin(101, '88.100.1000/ADMIN', 301)] }, none)).resolves.toBe(false);
    await expect(administers(identity, { key: 'K', values: [admin(101, '88.100.2000/ADMIN', 300)] }, none)).resolves.toBe(false);
    const nested = (key: string) =>
      Promise.resolve(
        key === keyOf('88.100.1000/OUTER') ? vlist(200, [{ handle: '88.100.1000/INNER', index: 200 }]) : vlist(200, [identity]),
      );
    await expect(administers(identity, { key: 'K', values: [admin(101, '88.100.1000/OUTER', 200)] }, nested)).resolves.toBe(false);
  });
});

describe('admin permissions', () => {
  const identity = { index: 300, handle: '88.100.1000/ADMIN', key: keyOf('88.100.1000/ADMIN') };
  const none = () => Promise.resolve(undefined);
  const url = (idx: number, value: string) => ({
    idx,
    type: 'URL',
    format: 'string',
    value,
    ttl: 86400,
    access: 'public' as const,
    grantees: [],
  });
  const hsAdmin = (idx: number, permissions: string) => ({
    idx,
    type: 'HS_ADMIN',
    format: 'admin',
    value: { handle: '88.100.1000/ADMIN', index: 300, permissions },
  });

  it('names what a change needs: add, modify, remove, and the admin variants for HS_ADMIN values', () => {
    expect(changePermissions([url(1, 'a')], [url(1, 'a')])).toEqual([]);
    expect(changePermissions([url(1, 'a')], [url(1, 'b'), url(2, 'c')])).toEqual([AdminPermission.MODIFY_VALUE, AdminPermission.ADD_VALUE]);
    expect(changePermissions([url(1, 'a'), hsAdmin(101, '011111110011')], [])).toEqual([
      AdminPermission.REMOVE_VALUE,
      AdminPermission.REMOVE_ADMIN,
    ]);
    expect(changePermissions([], [hsAdmin(101, '011111110011')])).toEqual([AdminPermission.ADD_ADMIN]);
    // Index 100 is the server's; the marker keeps a stored secret key.
    expect(changePermissions([hsAdmin(100, '011111110011')], [])).toEqual([]);
    const seckey = { idx: 300, type: 'HS_SECKEY', format: 'string', value: 'scrypt$hash', ttl: 1, access: 'tenant' as const, grantees: [] };
    expect(changePermissions([seckey], [{ ...seckey, value: SECRET_KEY_MARKER }])).toEqual([]);
  });

  it('holds an identity to the permission bits of the HS_ADMIN naming it (bit 11 written first)', async () => {
    // 011111010011: everything the default grants except remove value (bit 5).
    const record = { key: 'K', values: [hsAdmin(101, '011111010011')] };
    await expect(administers(identity, record, none, [AdminPermission.MODIFY_VALUE, AdminPermission.ADD_VALUE])).resolves.toBe(true);
    await expect(administers(identity, record, none, [AdminPermission.REMOVE_VALUE])).resolves.toBe(false);
    await expect(
      administers(identity, { key: 'K', values: [hsAdmin(101, '011111110001')] }, none, [AdminPermission.DELETE_HANDLE]),
    ).resolves.toBe(false);
    await expect(
      administers(identity, { key: 'K', values: [hsAdmin(101, '011111110011')] }, none, [AdminPermission.DELETE_HANDLE]),
    ).resolves.toBe(true);
  });
});
