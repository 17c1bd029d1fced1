import { RequestValidationError } from '@iip/platform-errors';
import {
  DEFAULT_RULES,
  DeviceFacts,
  RenewalRules,
  ageInMonths,
  evaluate,
  networkedSince,
  priorityScore,
  renewalRulesSchema,
  scoreParts,
} from './rules';

const NOW = new Date('2026-12-04T10:30:00Z');
const device = (profile: DeviceFacts['profile'], more: Partial<DeviceFacts> = {}): DeviceFacts => ({
  profile,
  lastSeenAt: null,
  alarms: 0,
  failures: 0,
  ...more,
});
const codes = (d: DeviceFacts, rules: RenewalRules = DEFAULT_RULES) => evaluate(d, rules, NOW).map((r) => r.code);

describe('renewal rules', () => {
  it('counts age in calendar months: a machine tool is over-age from its 121st month in service', () => {
    expect(ageInMonths('2016-12-31', NOW)).toBe(120);
    expect(ageInMonths('2016-11-01', NOW)).toBe(121);
    expect(codes(device({ category: 'machine-tool', commissionedOn: '2016-12-01', ncCapable: true }))).toEqual([]);
    const [reason] = evaluate(device({ category: 'machine-tool', commissionedOn: '2016-11-30' }), DEFAULT_RULES, NOW);
    expect(reason).toEqual({
      code: 'MACHINE_TOOL_OVER_AGE',
      action: 'replace',
      facts: { category: 'machine-tool', commissionedOn: '2016-11-30', ageYears: 10, maxYears: 10 },
    });
    // Only the age rule's categories, and only with a known commissioning date.
    expect(codes(device({ category: 'pump', commissionedOn: '1990-01-01', efficiencyGrade: 1 }))).toEqual([]);
    expect(codes(device({ category: 'machine-tool' }))).toEqual([]);
  });

  it('flags key energy-using equipment worse than the energy-saving level or of unknown grade; below the access level must go', () => {
    expect(codes(device({ category: 'pump', efficiencyGrade: 2 }))).toEqual([]);
    expect(codes(device({ category: 'chiller', efficiencyGrade: 1 }))).toEqual([]);
    expect(evaluate(device({ category: 'motor', efficiencyGrade: 3 }), DEFAULT_RULES, NOW)).toEqual([
      { code: 'ENERGY_BELOW_SAVING_LEVEL', action: 'replace', facts: { category: 'motor', efficiencyGrade: 3, requiredGrade: 2 } },
    ]);
    expect(evaluate(device({ category: 'boiler' }), DEFAULT_RULES, NOW)[0].facts.efficiencyGrade).toBeNull();
    // Not a key energy-using category: no energy reason, whatever its grade.
    expect(codes(device({ category: 'conveyor', efficiencyGrade: 3 }))).toEqual([]);
    // Below the access level is its own, stronger reason (and any category).
    expect(evaluate(device({ category: 'transformer', efficiencyGrade: 3, belowAccessLevel: true }), DEFAULT_RULES, NOW)).toEqual([
      {
        code: 'BELOW_ACCESS_LEVEL',
        action: 'must-replace',
        facts: { category: 'transformer', belowAccessLevel: true, efficiencyGrade: 3 },
      },
    ]);
    expect(codes(device({ category: 'furnace', belowAccessLevel: true }))).toEqual(['BELOW_ACCESS_LEVEL']);
    // A stricter tenant: only grade 1 is good enough.
    const strict = { ...DEFAULT_RULES, energy: { ...DEFAULT_RULES.energy, minGrade: 1 as const } };
    expect(codes(device({ category: 'pump', efficiencyGrade: 2 }), strict)).toEqual(['ENERGY_BELOW_SAVING_LEVEL']);
  });

  it('flags a failure rate at the threshold of alarms or of failures', () => {
    expect(codes(device({}, { alarms: 9, failures: 1 }))).toEqual([]);
    expect(evaluate(device({}, { alarms: 10 }), DEFAULT_RULES, NOW)).toEqual([
      {
        code: 'FAILURE_RATE_EXCEEDED',
        action: 'replace',
        facts: { alarms: 10, failures: 0, windowDays: 90, maxAlarms: 10, maxFailures: 2 },
      },
    ]);
    expect(codes(device({}, { failures: 2 }))).toEqual(['FAILURE_RATE_EXCEEDED']);
  });

  it('asks a digital upgrade of key-process equipment that is not NC-capable or not networked in the last 24 hour buckets', () => {
    const since = networkedSince(NOW);
    expect(since.toISOString()).toBe('2026-12-03T11:00:00.000Z');
    const seen = new Date(since.getTime());
    expect(codes(device({ keyProcess: true, ncCapable: true }, { lastSeenAt: seen }))).toEqual([]);
    expect(codes(device({ keyProcess: true, ncCapable: true }, { lastSeenAt: new Date(since.getTime() - 1) }))).toEqual([
      'KEY_PROCESS_NOT_NETWORKED',
    ]);
    const reasons = evaluate(device({ keyProcess: true }), DEFAULT_RULES, NOW);
    expect(reasons).toEqual([
      { code: 'KEY_PROCESS_NOT_NC', action: 'digital-upgrade', facts: { keyProcess: true, ncCapable: false } },
      { code: 'KEY_PROCESS_NOT_NETWORKED', action: 'digital-upgrade', facts: { keyProcess: true, lastSeenAt: null, networkedHours: 24 } },
    ]);
    // Not a key process: neither.
    expect(codes(device({ ncCapable: false }))).toEqual([]);
  });

  it('turns a disabled rule off', () => {
    const off = { ...DEFAULT_RULES, overAge: { ...DEFAULT_RULES.overAge, enabled: false } };
    expect(codes(device({ category: 'machine-tool', commissionedOn: '2000-01-01', ncCapable: true }), off)).toEqual([]);
  });
});

describe('priority score', () => {
  it('weighs age, energy, safety and failure rate as the README says', () => {
    // 20 years (twice the age limit) → age 1; grade 3 key energy → 0.7; critical → 1; 5 of 10 alarms → 0.25.
    const d = device({ category: 'pump', commissionedOn: '2006-12-01', efficiencyGrade: 3, criticality: 'critical' }, { alarms: 5 });
    expect(scoreParts(d, DEFAULT_RULES, NOW)).toEqual({ age: 1, energy: 0.7, safety: 1, failure: 0.25 });
    // (0.3·1 + 0.3·0.7 + 0.2·1 + 0.2·0.25) / 1 = 0.76
    expect(priorityScore(d, DEFAULT_RULES, NOW)).toBe(76);
  });

  it('is highest for what must go, and uses the tenant’s weights (normalised)', () => {
    const mustGo = device({ category: 'motor', belowAccessLevel: true, criticality: 'low' });
    // energy 1, safety 0.1 → 0.3 + 0.02 = 0.32
    expect(priorityScore(mustGo, DEFAULT_RULES, NOW)).toBe(32);
    const energyOnly = { ...DEFAULT_RULES, weights: { age: 0, energy: 2, safety: 0, failure: 0 } };
    expect(priorityScore(mustGo, energyOnly, NOW)).toBe(100);
    // Unknown criticality counts as medium (0.4); unknown date as age 0; unknown grade of key energy equipment 0.5.
    expect(scoreParts(device({ category: 'boiler' }), DEFAULT_RULES, NOW)).toEqual({ age: 0, energy: 0.5, safety: 0.4, failure: 0 });
    // Failure part saturates at twice the threshold.
    expect(scoreParts(device({}, { failures: 9 }), DEFAULT_RULES, NOW).failure).toBe(1);
  });
});

describe('rules document', () => {
  it('accepts the defaults and refuses bad fields by name', () => {
    expect(renewalRulesSchema.check(JSON.parse(JSON.stringify(DEFAULT_RULES)))).toEqual(DEFAULT_RULES);
    const bad = (patch: object) => {
      try {
        renewalRulesSchema.check({ ...JSON.parse(JSON.stringify(DEFAULT_RULES)), ...patch });
      } catch (err) {
        return (err as RequestValidationError).fieldErrors.map((e) => e.field);
      }
      return [];
    };
    expect(bad({ overAge: { enabled: true, categories: ['spaceship'], maxYears: 10 } })).toEqual(['overAge.categories.0']);
    expect(bad({ failureRate: { enabled: true, windowDays: 0, maxAlarms: 1, maxFailures: 1 } })).toEqual(['failureRate.windowDays']);
    expect(bad({ weights: { age: 0, energy: 0, safety: 0, failure: 0 } })).toEqual(['weights']);
    expect(bad({ extra: 1 })).toHaveLength(1);
  });
});
