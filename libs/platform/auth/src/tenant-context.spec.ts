import { TenantRef } from './principal';
import { canManage, canSeeProfile, relationTo } from './tenant-context';

const platform: TenantRef = { id: 'p', kind: 'platform', path: ['p'] };
const group: TenantRef = { id: 'g', kind: 'group', path: ['p', 'g'] };
const subA: TenantRef = { id: 'a', kind: 'subsidiary', path: ['p', 'g', 'a'] };
const subB: TenantRef = { id: 'b', kind: 'subsidiary', path: ['p', 'g', 'b'] };
const subA1: TenantRef = { id: 'a1', kind: 'subsidiary', path: ['p', 'g', 'a', 'a1'] };
const otherGroup: TenantRef = { id: 'g2', kind: 'group', path: ['p', 'g2'] };
const park: TenantRef = { id: 'k', kind: 'park', path: ['p', 'k'] };
const member: TenantRef = { id: 'm', kind: 'park-member', path: ['p', 'k', 'm'] };
const otherMember: TenantRef = { id: 'm2', kind: 'park-member', path: ['p', 'k2', 'm2'] };

describe('relationTo', () => {
  it.each([
    [group, subA, 'ancestor'],
    [group, subA1, 'ancestor'],
    [subA, subA1, 'ancestor'],
    [subA, subA, 'self'],
    [subA, subB, 'none'],
    [subA, group, 'none'],
    [subA1, subA, 'none'],
    [otherGroup, subA, 'none'],
    [platform, subA1, 'operator'],
    [park, member, 'park'],
    [park, otherMember, 'none'],
    [member, park, 'none'],
    [park, group, 'none'],
  ] as const)('%o → %o is %s', (actor, target, expected) => {
    expect(relationTo(actor, target)).toBe(expected);
  });

  it('lets a park see a member profile without managing it', () => {
    expect(canSeeProfile(park, member)).toBe(true);
    expect(canManage(park, member)).toBe(false);
  });

  it('lets a group manage its whole subtree but a subsidiary nothing above it', () => {
    expect(canManage(group, subA1)).toBe(true);
    expect(canManage(subA1, group)).toBe(false);
    expect(canSeeProfile(subA, subB)).toBe(false);
  });
});
