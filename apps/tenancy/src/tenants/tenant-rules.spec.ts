import { TenantRef } from '@iip/platform-auth';
import { mayAdminister, mayCreateUnder, mayHaveChild, visibilityOf } from './tenant-rules';

const platform: TenantRef = { id: 'p', kind: 'platform', path: ['p'] };
const group: TenantRef = { id: 'g', kind: 'group', path: ['p', 'g'] };
const sub: TenantRef = { id: 's', kind: 'subsidiary', path: ['p', 'g', 's'] };
const sibling: TenantRef = { id: 's2', kind: 'subsidiary', path: ['p', 'g', 's2'] };
const park: TenantRef = { id: 'k', kind: 'park', path: ['p', 'k'] };
const member: TenantRef = { id: 'm', kind: 'park-member', path: ['p', 'k', 'm'] };

describe('tenant tree rules', () => {
  it.each([
    ['platform', 'group', true],
    ['platform', 'park', true],
    ['platform', 'subsidiary', false],
    ['group', 'subsidiary', true],
    ['group', 'group', false],
    ['subsidiary', 'subsidiary', true],
    ['park', 'park-member', true],
    ['park', 'subsidiary', false],
    ['park-member', 'subsidiary', false],
  ] as const)('%s may have a %s child: %s', (parent, child, expected) => {
    expect(mayHaveChild(parent, child)).toBe(expected);
  });

  it('lets those above administer, never the tenant itself or a sibling', () => {
    expect(mayAdminister(platform, sub)).toBe(true);
    expect(mayAdminister(group, sub)).toBe(true);
    expect(mayAdminister(park, member)).toBe(true);
    expect(mayAdminister(sub, sub)).toBe(false);
    expect(mayAdminister(sub, sibling)).toBe(false);
    expect(mayAdminister(member, park)).toBe(false);
  });

  it('lets a tenant create under itself and under what it administers', () => {
    expect(mayCreateUnder(sub, sub)).toBe(true);
    expect(mayCreateUnder(group, sub)).toBe(true);
    expect(mayCreateUnder(sibling, sub)).toBe(false);
    expect(mayCreateUnder(member, park)).toBe(false);
  });
});

describe('what a tenant sees of another (reads and CheckAccess alike)', () => {
  it.each([
    ['itself', sub, sub, false, 'full'],
    ['its subtree', group, sub, false, 'full'],
    ['anything, as the operator', platform, member, false, 'full'],
    ['a park its member: profile and the quotas it sets', park, member, false, 'member'],
    ['a sibling without a grant', sibling, sub, false, 'none'],
    ["a sibling the target granted data to: the target's profile", sibling, sub, true, 'profile'],
    ['its parent, even with a grant from it: no more than the profile', sub, group, true, 'profile'],
    ['a member its park', member, park, false, 'none'],
  ] as const)('%s', (_, actor, target, granted, expected) => {
    expect(visibilityOf(actor, target, granted)).toBe(expected);
  });

  it('a grant never narrows what the tree already shows', () => {
    expect(visibilityOf(group, sub, true)).toBe('full');
    expect(visibilityOf(park, member, true)).toBe('member');
  });
});
