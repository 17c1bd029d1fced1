import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { HandleJavaClient, enterprisePrefixOf, nativeServerOf, startHandleJavaClient, startTestIdentifier } from '@iip/identifier-testing';

const SCOPES = ['tenants:read', 'identifiers:write'];
const SECRET = 'native secret key: correct horse';

interface RestValue {
  index: number;
  type: string;
  data: { format: string; value: unknown };
}

describe('identifier node: native Handle administration with challenge–response, driven by the Java client', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let owner: CreatedTenant, other: CreatedTenant;
  const tokens: Record<string, string> = {};
  const prefixes: Record<string, string> = {};
  let java: HandleJavaClient;
  let privateKey: string;
  /** A key pair no identity has. */
  let wrongKey: string;

  const admin = (who = 'owner') => `${prefixes[who]}/ADMIN`;
  const server = () => nativeServerOf(node);
  const secretAuth = (who = 'owner', secret = SECRET) => ({ kind: 'secret', handle: admin(who), index: 300, secret });
  const keyAuth = (key = privateKey) => ({ kind: 'pubkey', handle: admin(), index: 301, privateKey: key });
  const send = (op: string, body: Record<string, unknown>, transport = 'tcp') => java.request({ op, server: server(), transport, ...body });
  /** The record as REST shows it to its owner: index → [type, data.value]. */
  const restRecord = async (handle: string) => {
    const res = await request(node.httpUrl).get(`/api/handles/${handle}?auth=true`).auth(tokens.owner, { type: 'bearer' });
    if (res.status === 404) return undefined;
    expect(res.status).toBe(200);
    return Object.fromEntries((res.body.values as RestValue[]).map((v) => [v.index, [v.type, v.data.value]]));
  };
  const adminValue = (index: number) => ({ index: 101, type: 'HS_ADMIN', admin: { handle: admin(), index } });

  beforeAll(async () => {
    env = await createTestEnvironment('identifier-native-admin');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    const op = await operatorToken(tenancy);
    owner = await createTenant(tenancy, op, { kind: 'group' });
    other = await createTenant(tenancy, op, { kind: 'group' });
    for (const [who, tenant] of Object.entries({ owner, other })) {
      tokens[who] = (await clientToken(tenancy, op, tenant.id, SCOPES)).token;
      prefixes[who] = await enterprisePrefixOf(node.httpUrl, tokens[who], `the prefix of ${tenant.id}`);
    }
    java = await startHandleJavaClient();
    const keys = await java.request({ op: 'genkey', bits: 2048 });
    privateKey = keys.privateKey as string;
    wrongKey = (await java.request({ op: 'genkey', bits: 2048 })).privateKey as string;
    // Each tenant registers its admin identity over REST: a secret key at 300, the owner also a public key at 301.
    for (const who of ['owner', 'other']) {
      const values: unknown[] = [{ index: 300, type: 'HS_SECKEY', data: { format: 'string', value: SECRET } }];
      if (who === 'owner') values.push({ index: 301, type: 'HS_PUBKEY', data: { format: 'key', value: keys.publicKey } });
      const res = await request(node.httpUrl)
        .put(`/api/handles/${admin(who)}`)
        .auth(tokens[who], { type: 'bearer' })
        .send({ values });
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    await java?.close();
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  it.each([
    ['a secret key (HS_SECKEY), over TCP', 'SK', 'tcp', 300],
    ['a public key (HS_PUBKEY), over HTTP', 'PK', 'http', 301],
  ])('creates a handle, adds, modifies and removes a value and deletes it, authenticated with %s', async (_what, tag, transport, index) => {
    const auth = index === 300 ? secretAuth() : keyAuth();
    const handle = `${prefixes.owner}/NATIVE-${tag}`;
    const created = await send(
      'create',
      { handle, auth, values: [{ index: 1, type: 'URL', text: `https://example.com/${tag}` }, adminValue(index)] },
      transport,
    );
    expect(created).toMatchObject({ ok: true, responseCode: 1, handle });
    // The node's own HS_ADMIN at 100 names the prefix; the identity's at 101 lets it change the handle further.
    expect(await restRecord(handle)).toMatchObject({
      1: ['URL', `https://example.com/${tag}`],
      100: ['HS_ADMIN', { handle: `0.NA/${prefixes.owner}` }],
      101: ['HS_ADMIN', { handle: admin(), index }],
    });

    expect(await send('add', { handle, auth, values: [{ index: 2, type: 'EMAIL', text: 'ops@example.com' }] }, transport)).toMatchObject({
      ok: true,
    });
    expect((await restRecord(handle))?.[2]).toEqual(['EMAIL', 'ops@example.com']);

    expect(
      await send('modify', { handle, auth, values: [{ index: 1, type: 'URL', text: `https://example.com/${tag}/v2` }] }, transport),
    ).toMatchObject({ ok: true });
    expect((await restRecord(handle))?.[1]).toEqual(['URL', `https://example.com/${tag}/v2`]);

    expect(await send('remove', { handle, auth, indexes: [2] }, transport)).toMatchObject({ ok: true });
    const afterRemove = await restRecord(handle);
    expect(Object.keys(afterRemove ?? {}).map(Number)).toEqual([1, 100, 101]);

    // The same identity resolves what it wrote, natively, as anyone would.
    const resolved = await send('resolve', { handle, types: ['URL'] }, transport);
    expect((resolved.values as { text: string }[]).map((v) => v.text)).toEqual([`https://example.com/${tag}/v2`]);

    expect(await send('delete', { handle, auth }, transport)).toMatchObject({ ok: true, responseCode: 1 });
    expect(await restRecord(handle)).toBeUndefined();
  });

  it('lets the server mint the suffix (MINT flag) and answers with the handle it created', async () => {
    const created = await send('create', {
      handle: `${prefixes.owner}/minted-`,
      auth: secretAuth(),
      mintNewSuffix: true,
      values: [adminValue(300)],
    });
    expect(created).toMatchObject({ ok: true, responseCode: 1 });
    const handle = created.handle as string;
    expect(handle.startsWith(`${prefixes.owner}/minted-`)).toBe(true);
    expect(handle.length).toBeGreaterThan(`${prefixes.owner}/minted-`.length);
    expect(await restRecord(handle)).toMatchObject({ 101: ['HS_ADMIN', { handle: admin() }] });
  });

  it('holds the identity to the permissions of the HS_ADMIN naming it: no remove-value bit, no removal', async () => {
    const handle = `${prefixes.owner}/NO-REMOVE`;
    const limited = { ...adminValue(300), admin: { handle: admin(), index: 300, permissions: { removeValue: false } } };
    const values = [
      { index: 1, type: 'URL', text: 'https://example.com/keep' },
      { index: 2, type: 'EMAIL', text: 'ops@example.com' },
      limited,
    ];
    expect(await send('create', { handle, auth: secretAuth(), values })).toMatchObject({ ok: true });
    expect((await restRecord(handle))?.[101]).toEqual(['HS_ADMIN', { handle: admin(), index: 300, permissions: '111111011111' }]); // the Java client's bits: all but remove value (bit 5)
    expect(await send('remove', { handle, auth: secretAuth(), indexes: [2] })).toMatchObject({ ok: false, responseCode: 400 });
    expect(
      await send('modify', { handle, auth: secretAuth(), values: [{ index: 2, type: 'EMAIL', text: 'ops2@example.com' }] }),
    ).toMatchObject({ ok: true });
    expect((await restRecord(handle))?.[2]).toEqual(['EMAIL', 'ops2@example.com']);
  });

  it('lists the handles under a prefix for its tenant’s identity, in pages the client reads to the end', async () => {
    const items = Array.from({ length: 450 }, (_, i) => ({
      handle: `${prefixes.owner}/LIST-${i}`,
      values: [{ index: 1, type: 'URL', data: `https://example.com/${i}` }],
    }));
    const batch = await request(node.httpUrl).post('/v1/identifiers/batch').auth(tokens.owner, { type: 'bearer' }).send({ items });
    expect(batch.status).toBeLessThan(300);
    const listed = await send('listHandles', { handle: `0.NA/${prefixes.owner}`, auth: secretAuth() });
    expect(listed).toMatchObject({ ok: true, responseCode: 1 });
    const handles = listed.handles as string[];
    expect(new Set(handles).size).toBe(handles.length);
    for (const item of items) expect(handles).toContain(item.handle);
    expect(handles).toContain(admin());
    // Only for the prefix's own tenant, and only authenticated.
    expect(await send('listHandles', { handle: `0.NA/${prefixes.owner}`, auth: secretAuth('other') })).toMatchObject({
      ok: false,
      responseCode: 400,
    });
    expect(await send('listHandles', { handle: `0.NA/${prefixes.owner}` })).toMatchObject({ ok: false, responseCode: 402 });
  });

  describe('refused writes get the protocol’s code, and nothing changes', () => {
    const handle = () => `${prefixes.owner}/GUARDED`;
    beforeAll(async () => {
      const res = await send('create', {
        handle: handle(),
        auth: secretAuth(),
        values: [{ index: 1, type: 'URL', text: 'https://example.com/guarded' }, adminValue(300)],
      });
      expect(res).toMatchObject({ ok: true });
    });
    const unchanged = async () => expect(await restRecord(handle())).toMatchObject({ 1: ['URL', 'https://example.com/guarded'] });

    it('without authentication: the challenge (402) is all the client gets', async () => {
      const res = await send('modify', { handle: handle(), values: [{ index: 1, type: 'URL', text: 'https://evil.example.com' }] });
      expect(res).toMatchObject({ ok: false, responseCode: 402 });
      const create = await send('create', { handle: `${prefixes.owner}/ANON`, values: [{ index: 1, type: 'URL', text: 'x' }] });
      expect(create).toMatchObject({ ok: false, responseCode: 402 });
      expect(await restRecord(`${prefixes.owner}/ANON`)).toBeUndefined();
      await unchanged();
    });

    it.each([
      ['a wrong secret key', () => secretAuth('owner', 'not the secret'), 'tcp'],
      ['a wrong secret key over HTTP', () => secretAuth('owner', 'not the secret'), 'http'],
      ['a private key that is not the identity’s', () => keyAuth(wrongKey), 'tcp'],
      ['an identity that does not exist', () => ({ ...secretAuth(), handle: `${prefixes.owner}/NOBODY` }), 'tcp'],
      ['the secret key’s index with a public key', () => ({ ...keyAuth(), index: 300 }), 'tcp'],
    ])('with %s: 403 AUTHENTICATION_FAILED', async (_what, auth, transport) => {
      const res = await send(
        'modify',
        { handle: handle(), auth: auth(), values: [{ index: 1, type: 'URL', text: 'https://evil.example.com' }] },
        transport,
      );
      expect(res).toMatchObject({ ok: false, responseCode: 403 });
      expect(await send('delete', { handle: handle(), auth: auth() }, transport)).toMatchObject({ ok: false, responseCode: 403 });
      await unchanged();
    });

    it('an identity of another tenant’s prefix, and one the handle does not name, are not its admins (400)', async () => {
      const res = await send('modify', {
        handle: handle(),
        auth: secretAuth('other'),
        values: [{ index: 1, type: 'URL', text: 'https://evil.example.com' }],
      });
      expect(res).toMatchObject({ ok: false, responseCode: 400 });
      const tokenOnly = `${prefixes.owner}/TOKEN-ONLY`;
      const put = await request(node.httpUrl)
        .put(`/api/handles/${tokenOnly}`)
        .auth(tokens.owner, { type: 'bearer' })
        .send({ values: [{ index: 1, type: 'URL', data: 'https://example.com/token-only' }] });
      expect(put.status).toBe(201);
      expect(await send('delete', { handle: tokenOnly, auth: secretAuth() })).toMatchObject({ ok: false, responseCode: 400 });
      expect(await restRecord(tokenOnly)).toBeDefined();
      await unchanged();
    });

    it('Handle semantics: ADD over a taken index is 201, MODIFY of a missing index is 200, CREATE of an existing handle is 101', async () => {
      expect(
        await send('add', { handle: handle(), auth: secretAuth(), values: [{ index: 1, type: 'URL', text: 'https://evil.example.com' }] }),
      ).toMatchObject({
        ok: false,
        responseCode: 201,
      });
      expect(await send('modify', { handle: handle(), auth: secretAuth(), values: [{ index: 9, type: 'URL', text: 'x' }] })).toMatchObject({
        ok: false,
        responseCode: 200,
      });
      expect(
        await send('create', {
          handle: handle(),
          auth: secretAuth(),
          values: [{ index: 1, type: 'URL', text: 'https://evil.example.com' }],
        }),
      ).toMatchObject({
        ok: false,
        responseCode: 101,
      });
      expect(await send('remove', { handle: handle(), auth: secretAuth(), indexes: [100] })).toMatchObject({
        ok: false,
        responseCode: 400,
      });
      await unchanged();
    });
  });
});
