import { TenantRef } from './principal';

/**
 * How an acting tenant relates to a target tenant, which decides what it may see:
 * - `self` / `ancestor` / `operator`: the whole record and its data (a group manages its subtree);
 * - `park`: the target is a member of the acting park: its profile only, and data it granted;
 * - `none`: nothing; callers answer 404 so existence does not leak.
 */
export type TenantRelation = 'self' | 'ancestor' | 'operator' | 'park' | 'none';

export function relationTo(actor: TenantRef, target: TenantRef): TenantRelation {
  if (actor.id === target.id) return 'self';
  if (actor.kind === 'platform') return 'operator';
  if (actor.kind === 'park') {
    return target.kind === 'park-member' && target.path[target.path.length - 2] === actor.id ? 'park' : 'none';
  }
  // A group or subsidiary sees its own subtree: the target's path runs through it.
  if ((actor.kind === 'group' || actor.kind === 'subsidiary') && target.path.includes(actor.id)) return 'ancestor';
  return 'none';
}

/** The acting tenant may read the target's profile. */
export function canSeeProfile(actor: TenantRef, target: TenantRef): boolean {
  return relationTo(actor, target) !== 'none';
}

/** The acting tenant may read and manage the target's own data without a grant. */
export function canManage(actor: TenantRef, target: TenantRef): boolean {
  const r = relationTo(actor, target);
  return r === 'self' || r === 'ancestor' || r === 'operator';
}
