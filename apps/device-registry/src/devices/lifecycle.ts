import { DeviceLifecycleState } from '@iip/contracts';

/**
 * provisioned → active → suspended ⇄ active; any state but decommissioned → decommissioned,
 * which is final (the identifier stays resolvable, saying so).
 */
const NEXT: Record<DeviceLifecycleState, readonly DeviceLifecycleState[]> = {
  provisioned: ['active', 'decommissioned'],
  active: ['suspended', 'decommissioned'],
  suspended: ['active', 'decommissioned'],
  decommissioned: [],
};

export function canMove(from: DeviceLifecycleState, to: DeviceLifecycleState): boolean {
  return NEXT[from].includes(to);
}

export function allowedFrom(from: DeviceLifecycleState): readonly DeviceLifecycleState[] {
  return NEXT[from];
}
