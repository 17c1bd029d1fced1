import { DEVICE_LIFECYCLE_STATES } from '@iip/contracts';
import { allowedFrom, canMove } from './lifecycle';

describe('device lifecycle', () => {
  it.each([
    ['provisioned', 'active', true],
    ['provisioned', 'suspended', false],
    ['active', 'suspended', true],
    ['suspended', 'active', true],
    ['active', 'provisioned', false],
    ['suspended', 'decommissioned', true],
    ['decommissioned', 'active', false],
  ] as const)('%s → %s: %s', (from, to, allowed) => {
    expect(canMove(from, to)).toBe(allowed);
  });

  it('never stays in place and ends at decommissioned', () => {
    for (const s of DEVICE_LIFECYCLE_STATES) expect(allowedFrom(s)).not.toContain(s);
    expect(allowedFrom('decommissioned')).toEqual([]);
  });
});
