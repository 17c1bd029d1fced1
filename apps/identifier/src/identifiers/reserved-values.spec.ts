import { Principal, TenantKind } from '@iip/platform-auth';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { PrefixEntity } from '../prefixes/prefix.entity';
import { HandleValueInput } from './dto/handle-value.schema';
import { authoriseReservedValues } from './reserved-values';
import { MAX_VALUE_DEPTH, buildValues, valueDepthExceeds } from './values';
import { identifierErrorOf } from '../../test/identifier-error';

const TENANT = '6f1c2b8e-0d7a-4c1e-9a55-0c2f3d4e5f60';
const prefix = { prefix: '88.100.1000', tenantId: TENANT, tenantKind: 'group', tenantPath: [TENANT] } as PrefixEntity;
const admin = (handle: string, index = 2): HandleValueInput => ({
  index,
  type: 'HS_ADMIN',
  data: { format: 'admin', value: { handle, index: 200, permissions: '111111111111' } },
});
const value = (type: string, format: string, v: unknown, extra: Partial<HandleValueInput> = {}): HandleValueInput =>
  ({ index: 3, type, data: { format, value: v }, ...extra }) as HandleValueInput;

describe('buildValues: reserved Handle types keep their Handle System shape', () => {
  it.each([
    ['HS_ADMIN as a string', value('HS_ADMIN', 'string', '0.NA/88.100.1000'), /HS_ADMIN values have format "admin", not "string"/],
    ['HS_VLIST as an admin value', value('HS_VLIST', 'admin', {}), /format "admin" is for values of type HS_ADMIN, not HS_VLIST/],
    ['the admin format under another type', value('OWNER', 'admin', {}), /format "admin" is for values of type HS_ADMIN, not OWNER/],
    ['a reserved type in lower case', value('hs_admin', 'admin', {}), /type hs_admin is the reserved type HS_ADMIN; write it as HS_ADMIN/],
    ['HS_PUBKEY as a string', value('HS_PUBKEY', 'string', 'key'), /HS_PUBKEY values have format "key" or "base64" or "hex"/],
    ['an HS_SERV that names no handle', value('HS_SERV', 'string', 'http://example.com'), /values name a service handle/],
    ['an HS_ADMIN naming no handle', admin('not a handle'), /names "not a handle", which is neither a handle nor a prefix record/],
    ['a public HS_SECKEY', value('HS_SECKEY', 'string', 's3cret', { access: 'public' }), /secret and cannot be public/],
  ])('refuses %s', (_name, v, message) => {
    const err = identifierErrorOf(() => buildValues([v], prefix, 60));
    expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(err.message).toMatch(message);
  });

  it('keeps an HS_SECKEY to its owner unless the client says otherwise', () => {
    const [seckey] = buildValues([value('HS_SECKEY', 'string', 's3cret')], prefix, 60);
    expect(seckey).toMatchObject({ type: 'HS_SECKEY', access: 'tenant' });
  });

  it("drops whatever a client sends at index 100 and writes the server's own public HS_ADMIN there, without the owner's id", () => {
    const values = buildValues([admin('0.NA/88.999', 100)], prefix, 60);
    expect(values).toEqual([
      {
        idx: 100,
        type: 'HS_ADMIN',
        format: 'admin',
        value: { handle: '0.NA/88.100.1000', index: 200, permissions: '011111110011' },
        ttl: 60,
        access: 'public',
        grantees: [],
      },
    ]);
    expect(JSON.stringify(values)).not.toContain(TENANT);
  });

  it('refuses a value nested deeper than the limit, on every transport alike', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 5_000; i++) deep = [deep];
    const err = identifierErrorOf(() => buildValues([value('DATA', 'site', { deep })], prefix, 60));
    expect(err.message).toBe(`Value 3: data.value is nested deeper than ${MAX_VALUE_DEPTH} levels`);
  });

  it('measures nesting without recursion', () => {
    const nest = (n: number) => {
      let v: unknown = 1;
      for (let i = 0; i < n; i++) v = i % 2 ? [v] : { v };
      return v;
    };
    expect(valueDepthExceeds(nest(MAX_VALUE_DEPTH))).toBe(false);
    expect(valueDepthExceeds(nest(MAX_VALUE_DEPTH + 1))).toBe(true);
    expect(valueDepthExceeds(nest(100_000))).toBe(true);
    expect(valueDepthExceeds('a string')).toBe(false);
  });
});

describe('authoriseReservedValues: only the server or an authorised admin writes them', () => {
  const actor = (kind: TenantKind) =>
    ({ clientId: 'c', tenant: { id: TENANT, kind, path: [TENANT] }, scopes: new Set() }) as unknown as Principal;
  const managed = new Set(['88.100.1000']);
  const manages = (p: string) => Promise.resolve(managed.has(p));

  async function refusal(kind: TenantKind, values: HandleValueInput[]): Promise<IdentifierError | undefined> {
    try {
      await authoriseReservedValues(actor(kind), values, manages);
      return undefined;
    } catch (err) {
      if (err instanceof IdentifierError) return err;
      throw err;
    }
  }

  it('lets a tenant name its own prefix record or handles under its prefixes', async () => {
    expect(await refusal('group', [admin('0.NA/88.100.1000')])).toBeUndefined();
    expect(await refusal('group', [admin('88.100.1000/ADMINS')])).toBeUndefined();
    const vlist = value('HS_VLIST', 'vlist', [{ handle: '88.100.1000/ALICE', index: 300 }]);
    expect(await refusal('group', [vlist])).toBeUndefined();
  });

  it.each([
    ["another tenant's prefix record", admin('0.NA/88.100.2000')],
    ["a handle under another tenant's prefix", admin('88.100.2000/ADMINS')],
    [
      'a value list with one foreign entry',
      value('HS_VLIST', 'vlist', [
        { handle: '88.100.1000/A', index: 300 },
        { handle: '88.200/B', index: 300 },
      ]),
    ],
  ])('refuses an admin value naming %s', async (_name, v) => {
    const err = await refusal('group', [v]);
    expect(err?.code).toBe(IdentifierErrorCode.VALUE_NOT_PERMITTED);
    expect(err?.message).toMatch(/may only name handles under prefixes you manage/);
  });

  it.each(['HS_SITE', 'HS_SERV', 'HS_NA_DELEGATE'])('leaves %s, which describes the node, to the platform operator', async (type) => {
    const v = type === 'HS_SITE' ? value(type, 'site', {}) : value(type, 'string', '0.NA/88.100');
    expect((await refusal('group', [v]))?.code).toBe(IdentifierErrorCode.VALUE_NOT_PERMITTED);
    expect(await refusal('platform', [v])).toBeUndefined();
  });

  it('ignores index 100, which the server replaces', async () => {
    expect(await refusal('group', [admin('0.NA/88.100.2000', 100)])).toBeUndefined();
  });
});
