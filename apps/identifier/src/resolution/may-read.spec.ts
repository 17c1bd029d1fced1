import { Principal, TenantRef } from '@iip/platform-auth';
import { mayRead } from './resolution.service';

const owner: TenantRef = { id: 'owner', kind: 'group', path: ['owner'] };
const caller = (id: string) => ({ clientId: 'c', tenant: { id, kind: 'group', path: [id] }, scopes: new Set() }) as unknown as Principal;

describe('mayRead', () => {
  it.each([
    ['a public value, anonymously', { type: 'URL', access: 'public', grantees: [] }, undefined, true],
    ['a tenant value, anonymously', { type: 'URL', access: 'tenant', grantees: [] }, undefined, false],
    ['a tenant value, as its owner', { type: 'URL', access: 'tenant', grantees: [] }, caller('owner'), true],
    ['a tenant value, as another tenant', { type: 'URL', access: 'tenant', grantees: [] }, caller('other'), false],
    ['a granted value, as a grantee', { type: 'URL', access: 'granted', grantees: ['partner'] }, caller('partner'), true],
    ['an HS_SECKEY stored as public, anonymously', { type: 'HS_SECKEY', access: 'public', grantees: [] }, undefined, false],
    ['an HS_SECKEY stored as public, as another tenant', { type: 'HS_SECKEY', access: 'public', grantees: [] }, caller('other'), false],
    ['an HS_SECKEY, as its owner', { type: 'HS_SECKEY', access: 'public', grantees: [] }, caller('owner'), true],
  ] as const)('%s: %s', (_name, value, who, expected) => {
    expect(mayRead({ ...value, grantees: [...value.grantees] }, owner, who)).toBe(expected);
  });
});
