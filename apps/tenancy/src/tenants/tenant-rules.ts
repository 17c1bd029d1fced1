import { TenantKind, TenantRef, relationTo } from '@iip/platform-auth';
import { assertNever } from '@iip/platform-errors';

/** Which kinds may be created directly under a tenant of each kind. */
export const CHILD_KINDS: Record<TenantKind, readonly TenantKind[]> = {
  platform: ['group', 'park'],
  group: ['subsidiary'],
  subsidiary: ['subsidiary'],
  park: ['park-member'],
  'park-member': [],
};

export function mayHaveChild(parent: TenantKind, child: TenantKind): boolean {
  return CHILD_KINDS[parent].includes(child);
}

/**
 * Administering a tenant (setting its quotas, suspending it, admitting tenants under it)
 * belongs to those above it: the operator, a group over its subtree, a park over its
 * members. Nobody administers itself, except creating tenants under itself.
 */
export function mayAdminister(actor: TenantRef, target: TenantRef): boolean {
  const relation = relationTo(actor, target);
  return relation === 'operator' || relation === 'ancestor' || relation === 'park';
}

/** Creating under `parent`: the parent itself (when its kind allows children) or whoever administers it. */
export function mayCreateUnder(actor: TenantRef, parent: TenantRef): boolean {
  return actor.id === parent.id || mayAdminister(actor, parent);
}

/**
 * How much of a tenant an actor sees: the whole record in its own subtree (the operator
 * everywhere); a park its member's profile and the quotas it sets; a tenant the target granted
 * any data to, the target's profile; anyone else nothing. Reads (REST and gRPC) and CheckAccess
 * both ask this, so they cannot disagree.
 */
export type TenantVisibility = 'full' | 'member' | 'profile' | 'none';

export function visibilityOf(actor: TenantRef, target: TenantRef, grantedByTarget: boolean): TenantVisibility {
  const relation = relationTo(actor, target);
  switch (relation) {
    case 'self':
    case 'ancestor':
    case 'operator':
      return 'full';
    case 'park':
      return 'member';
    case 'none':
      return grantedByTarget ? 'profile' : 'none';
    default:
      return assertNever(relation);
  }
}
