import { TenantKind, TenantRef, relationTo } from '@iip/platform-auth';

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
