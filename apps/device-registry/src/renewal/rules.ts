import { SchemaObject } from 'ajv';
import { RequestValidationError, requestSchema } from '@iip/platform-errors';
import { CRITICALITIES, EQUIPMENT_CATEGORIES, EquipmentProfile } from '../devices/dto/device.dto';

type Category = (typeof EQUIPMENT_CATEGORIES)[number];

/**
 * A tenant's renewal rules (README, "Renewal"). Defaults follow the 2024 plan for equipment
 * renewal; a tenant may change any of them, and every change is a new version.
 */
export interface RenewalRules {
  /** Machine tools (工业母机) in service over `maxYears` (counted in calendar months). */
  overAge: { enabled: boolean; categories: Category[]; maxYears: number };
  /** Key energy-using equipment whose grade is worse than `minGrade` (2: energy-saving level) or unknown. */
  energy: { enabled: boolean; categories: Category[]; minGrade: 1 | 2 | 3 };
  /** Equipment below the access level (profile.belowAccessLevel) must go. */
  belowAccessLevel: { enabled: boolean };
  /** At least `maxAlarms` alarms or `maxFailures` failed maintenance orders within `windowDays`. */
  failureRate: { enabled: boolean; windowDays: number; maxAlarms: number; maxFailures: number };
  /** Key-process equipment that is not NC-capable, or did not send data within `networkedHours`: a digital upgrade. */
  digitalUpgrade: { enabled: boolean; requireNc: boolean; requireNetworked: boolean };
  /** The priority score's weights (any non-negative numbers; they are normalised). */
  weights: { age: number; energy: number; safety: number; failure: number };
  /** The plan's targets for the indicators (null: none set). */
  targets: {
    keyProcessNcRate: number | null;
    networkingRate: number | null;
    energySavingShare: number | null;
    overAgeShare: number | null;
    investmentGrowth: number | null;
  };
}

/** The plan's key energy-using equipment (重点用能设备). */
export const KEY_ENERGY_CATEGORIES: Category[] = ['boiler', 'motor', 'transformer', 'compressor', 'pump', 'heat-exchanger', 'chiller'];
/** A device counts as networked when it sent data in the current UTC hour or the 23 before it (24 hour buckets). */
export const NETWORKED_HOURS = 24;
/** The plan's baseline year for equipment investment. */
export const INVESTMENT_BASELINE_YEAR = 2023;

export const DEFAULT_RULES: RenewalRules = {
  overAge: { enabled: true, categories: ['machine-tool'], maxYears: 10 },
  energy: { enabled: true, categories: KEY_ENERGY_CATEGORIES, minGrade: 2 },
  belowAccessLevel: { enabled: true },
  failureRate: { enabled: true, windowDays: 90, maxAlarms: 10, maxFailures: 2 },
  digitalUpgrade: { enabled: true, requireNc: true, requireNetworked: true },
  weights: { age: 0.3, energy: 0.3, safety: 0.2, failure: 0.2 },
  targets: { keyProcessNcRate: 0.75, networkingRate: null, energySavingShare: null, overAgeShare: null, investmentGrowth: 0.25 },
};

const enabled = { type: 'boolean' };
const categories = { type: 'array', items: { enum: [...EQUIPMENT_CATEGORIES] }, uniqueItems: true, maxItems: EQUIPMENT_CATEGORIES.length };
const share = { type: ['number', 'null'], minimum: 0, maximum: 10 };
const object = (properties: Record<string, object>, description?: string): SchemaObject => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
  ...(description ? { description } : {}),
});

export const RULES_SCHEMA: SchemaObject = object({
  overAge: object(
    { enabled, categories, maxYears: { type: 'integer', minimum: 1, maximum: 100 } },
    'Machine tools in service over maxYears',
  ),
  energy: object(
    { enabled, categories, minGrade: { enum: [1, 2, 3] } },
    'Key energy-using equipment worse than minGrade (2: energy-saving level) or of unknown grade',
  ),
  belowAccessLevel: object({ enabled }, 'Equipment below the access level must go'),
  failureRate: object(
    {
      enabled,
      windowDays: { type: 'integer', minimum: 1, maximum: 3650 },
      maxAlarms: { type: 'integer', minimum: 1, maximum: 1_000_000 },
      maxFailures: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    },
    'At least maxAlarms alarms or maxFailures failed work orders within windowDays',
  ),
  digitalUpgrade: object(
    { enabled, requireNc: enabled, requireNetworked: enabled },
    'Key-process equipment not NC-capable or not networked',
  ),
  weights: object(
    Object.fromEntries(['age', 'energy', 'safety', 'failure'].map((k) => [k, { type: 'number', minimum: 0, maximum: 100 }])),
    'Weights of the priority score (normalised)',
  ),
  targets: object(
    Object.fromEntries(
      ['keyProcessNcRate', 'networkingRate', 'energySavingShare', 'overAgeShare', 'investmentGrowth'].map((k) => [k, share]),
    ),
    'Indicator targets as shares (0.75 = 75 %); investmentGrowth against 2023 (0.25 = +25 %); null: none',
  ),
});

const rulesSchema = requestSchema<RenewalRules>(RULES_SCHEMA);
export const renewalRulesSchema = {
  schema: RULES_SCHEMA,
  check(value: unknown): RenewalRules {
    const rules = rulesSchema.check(value);
    const w = rules.weights;
    if (w.age + w.energy + w.safety + w.failure <= 0) {
      throw new RequestValidationError([{ field: 'weights', message: 'must not all be 0' }]);
    }
    return rules;
  },
};

/** Which rules were used: a tenant's version, or (tenantId null, version 0) the plan's defaults. */
export interface RuleVersionRef {
  tenantId: string | null;
  version: number;
}

/** What the rules read about one device. */
export interface DeviceFacts {
  profile: EquipmentProfile;
  /** When telemetry last saw it (DeviceSeen), or null. */
  lastSeenAt: Date | null;
  /** Alarms raised and failed work orders within the failure rule's window. */
  alarms: number;
  failures: number;
}

export type ReasonCode =
  | 'MACHINE_TOOL_OVER_AGE'
  | 'ENERGY_BELOW_SAVING_LEVEL'
  | 'BELOW_ACCESS_LEVEL'
  | 'FAILURE_RATE_EXCEEDED'
  | 'KEY_PROCESS_NOT_NC'
  | 'KEY_PROCESS_NOT_NETWORKED';

/** replace: renewal; must-replace: mandatory elimination; digital-upgrade: retrofit rather than replace. */
export type ReasonAction = 'replace' | 'must-replace' | 'digital-upgrade';

export interface RenewalReason {
  code: ReasonCode;
  action: ReasonAction;
  /** The facts the rule used, and its thresholds. */
  facts: Record<string, string | number | boolean | null>;
}

/** A calendar month as a number: year × 12 + month − 1 (the counters' commissioned_month). */
export function monthIndex(date: Date): number {
  return date.getUTCFullYear() * 12 + date.getUTCMonth();
}

/** Whole calendar months between a YYYY-MM-DD date and now: the age rule and the counters agree on it. */
export function ageInMonths(commissionedOn: string, now: Date): number {
  return monthIndex(now) - (Number(commissionedOn.slice(0, 4)) * 12 + Number(commissionedOn.slice(5, 7)) - 1);
}

/** The start of the earliest hour bucket that still counts as networked. */
export function networkedSince(now: Date): Date {
  const hour = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  return new Date(hour - (NETWORKED_HOURS - 1) * 3_600_000);
}

export function isNetworked(lastSeenAt: Date | null, now: Date): boolean {
  return lastSeenAt !== null && lastSeenAt.getTime() >= networkedSince(now).getTime();
}

export function isOverAge(profile: EquipmentProfile, rules: RenewalRules, now: Date): boolean {
  return (
    profile.category !== undefined &&
    rules.overAge.categories.includes(profile.category) &&
    profile.commissionedOn !== undefined &&
    ageInMonths(profile.commissionedOn, now) > rules.overAge.maxYears * 12
  );
}

/** At the energy-saving level or better: a known grade no worse than minGrade, and not below the access level. */
export function atEnergySavingLevel(profile: EquipmentProfile, rules: RenewalRules): boolean {
  return profile.efficiencyGrade !== undefined && profile.efficiencyGrade <= rules.energy.minGrade && profile.belowAccessLevel !== true;
}

/** Every rule that holds for the device, with the facts it used. */
export function evaluate(device: DeviceFacts, rules: RenewalRules, now: Date): RenewalReason[] {
  const p = device.profile;
  const reasons: RenewalReason[] = [];
  if (rules.overAge.enabled && p.category && p.commissionedOn && isOverAge(p, rules, now)) {
    const months = ageInMonths(p.commissionedOn, now);
    reasons.push({
      code: 'MACHINE_TOOL_OVER_AGE',
      action: 'replace',
      facts: {
        category: p.category,
        commissionedOn: p.commissionedOn,
        ageYears: Math.floor(months / 12),
        maxYears: rules.overAge.maxYears,
      },
    });
  }
  const keyEnergy = p.category !== undefined && rules.energy.categories.includes(p.category);
  if (rules.belowAccessLevel.enabled && p.belowAccessLevel === true) {
    reasons.push({
      code: 'BELOW_ACCESS_LEVEL',
      action: 'must-replace',
      facts: { category: p.category ?? null, belowAccessLevel: true, efficiencyGrade: p.efficiencyGrade ?? null },
    });
  } else if (rules.energy.enabled && keyEnergy && p.category && !atEnergySavingLevel(p, rules)) {
    reasons.push({
      code: 'ENERGY_BELOW_SAVING_LEVEL',
      action: 'replace',
      facts: { category: p.category, efficiencyGrade: p.efficiencyGrade ?? null, requiredGrade: rules.energy.minGrade },
    });
  }
  const f = rules.failureRate;
  if (f.enabled && (device.alarms >= f.maxAlarms || device.failures >= f.maxFailures)) {
    reasons.push({
      code: 'FAILURE_RATE_EXCEEDED',
      action: 'replace',
      facts: {
        alarms: device.alarms,
        failures: device.failures,
        windowDays: f.windowDays,
        maxAlarms: f.maxAlarms,
        maxFailures: f.maxFailures,
      },
    });
  }
  const d = rules.digitalUpgrade;
  if (d.enabled && p.keyProcess === true) {
    if (d.requireNc && p.ncCapable !== true) {
      reasons.push({ code: 'KEY_PROCESS_NOT_NC', action: 'digital-upgrade', facts: { keyProcess: true, ncCapable: false } });
    }
    if (d.requireNetworked && !isNetworked(device.lastSeenAt, now)) {
      reasons.push({
        code: 'KEY_PROCESS_NOT_NETWORKED',
        action: 'digital-upgrade',
        facts: { keyProcess: true, lastSeenAt: device.lastSeenAt?.toISOString() ?? null, networkedHours: NETWORKED_HOURS },
      });
    }
  }
  return reasons;
}

const SAFETY: Record<(typeof CRITICALITIES)[number], number> = { low: 0.1, medium: 0.4, high: 0.7, critical: 1 };

/** The score's parts, each 0 … 1 (README, "Priority score"). */
export function scoreParts(
  device: DeviceFacts,
  rules: RenewalRules,
  now: Date,
): { age: number; energy: number; safety: number; failure: number } {
  const p = device.profile;
  const horizonMonths = 2 * rules.overAge.maxYears * 12;
  const age = p.commissionedOn ? clamp(ageInMonths(p.commissionedOn, now) / horizonMonths) : 0;
  const keyEnergy = p.category !== undefined && rules.energy.categories.includes(p.category);
  const energy =
    p.belowAccessLevel === true ? 1 : !keyEnergy || atEnergySavingLevel(p, rules) ? 0 : p.efficiencyGrade === undefined ? 0.5 : 0.7;
  const safety = p.criticality ? SAFETY[p.criticality] : 0.4;
  const f = rules.failureRate;
  const failure = clamp(Math.max(device.alarms / f.maxAlarms, device.failures / f.maxFailures) / 2);
  return { age, energy, safety, failure };
}

/** 0 … 100 with one decimal: the weighted mean of the parts. */
export function priorityScore(device: DeviceFacts, rules: RenewalRules, now: Date): number {
  const parts = scoreParts(device, rules, now);
  const w = rules.weights;
  const total = w.age + w.energy + w.safety + w.failure;
  const weighted = (w.age * parts.age + w.energy * parts.energy + w.safety * parts.safety + w.failure * parts.failure) / total;
  return Math.round(weighted * 1000) / 10;
}

function clamp(x: number): number {
  return Math.min(1, Math.max(0, x));
}
