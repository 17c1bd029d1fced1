import { TelemetryPoint } from '@iip/contracts';
import { findUnsafeStrings } from '@iip/platform-errors';
import { PropertyDef, ThingModelDefinition, convertUnit, type CompiledModel } from '@iip/thing-model';

/** A property value (or a whole point) refused, and why; `index` is the point's place in what was sent. */
export interface RefusedValue {
  index: number;
  property?: string;
  reason: string;
}

export interface CheckedPoints {
  accepted: TelemetryPoint[];
  refused: RefusedValue[];
  /** Points (ts + values) sent, valid or not. */
  received: number;
}

export interface PointRules {
  now: number;
  /** The oldest instant kept (retention), ms. */
  oldestMs: number;
  /** The latest instant accepted (clock skew allowance), ms. */
  latestMs: number;
  maxPoints: number;
}

/** Too many points in one message: the whole message is refused (nothing partial). */
export class TooManyPointsError extends Error {}
/** Not a point or a list of points at all. */
export class NotPointsError extends Error {}

/**
 * Reads what a device sent — `{ts?, values: {property: value}, units?: {property: ucum}}` or a
 * list of those — and checks every value against the device's thing model: known property,
 * type, range, and unit (a value in another unit of the same kind is converted to the model's,
 * `[degF]` → `Cel`). A bad value is refused with its reason; the point's other values go on.
 */
export function checkPoints(
  input: unknown,
  model: { definition: ThingModelDefinition; compiled: CompiledModel },
  rules: PointRules,
): CheckedPoints {
  const list = Array.isArray(input) ? input : [input];
  if (list.length > rules.maxPoints) throw new TooManyPointsError(`${list.length} points in one message; at most ${rules.maxPoints}`);
  if (list.length === 0 || (!Array.isArray(input) && (typeof input !== 'object' || input === null)))
    throw new NotPointsError('expected a point {ts, values: {property: value}} or a list of them');
  const accepted: TelemetryPoint[] = [];
  const refused: RefusedValue[] = [];
  for (const [index, raw] of list.entries()) {
    const point = raw as { ts?: unknown; values?: unknown; units?: unknown };
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      refused.push({ index, reason: 'a point is an object {ts, values}' });
      continue;
    }
    const extra = Object.keys(point).find((k) => k !== 'ts' && k !== 'values' && k !== 'units');
    if (extra !== undefined) {
      refused.push({ index, reason: `${JSON.stringify(extra)} is not a member of a point (ts, values, units)` });
      continue;
    }
    const ts = instantOf(point.ts, rules.now);
    if (typeof ts === 'string') {
      refused.push({ index, reason: ts });
      continue;
    }
    if (ts < rules.oldestMs) {
      refused.push({ index, reason: `ts ${new Date(ts).toISOString()} is older than this tenant keeps raw points` });
      continue;
    }
    if (ts > rules.latestMs) {
      refused.push({ index, reason: `ts ${new Date(ts).toISOString()} lies in the future (check the device's clock)` });
      continue;
    }
    if (
      typeof point.values !== 'object' ||
      point.values === null ||
      Array.isArray(point.values) ||
      Object.keys(point.values).length === 0
    ) {
      refused.push({ index, reason: 'values must be an object of at least one property: value' });
      continue;
    }
    const units = point.units;
    if (units !== undefined && (typeof units !== 'object' || units === null || Array.isArray(units))) {
      refused.push({ index, reason: 'units must be an object of property: UCUM unit' });
      continue;
    }
    const unsafe = findUnsafeStrings(point.values, 'values');
    if (unsafe.length > 0) {
      refused.push({ index, reason: unsafe.map((u) => `${u.field} ${u.message}`).join('; ') });
      continue;
    }
    const values: Record<string, unknown> = {};
    for (const [property, value] of Object.entries(point.values as Record<string, unknown>)) {
      // Own members only: `constructor` or `__proto__` is no property of any model.
      const def: PropertyDef | undefined = Object.prototype.hasOwnProperty.call(model.definition.properties, property)
        ? model.definition.properties[property]
        : undefined;
      if (!def) {
        refused.push({ index, property, reason: `${property} is not a property of the device's thing model` });
        continue;
      }
      const unit = (units as Record<string, unknown> | undefined)?.[property];
      if (unit !== undefined && unit !== def.unit) {
        if (typeof unit !== 'string' || typeof value !== 'number' || !def.unit) {
          refused.push({
            index,
            property,
            reason: `unit ${JSON.stringify(unit)} given for a property whose model has ${def.unit ? `unit ${def.unit}` : 'no unit'}`,
          });
          continue;
        }
        const converted = convertUnit(value, unit, def.unit);
        if ('error' in converted) {
          refused.push({ index, property, reason: converted.error });
          continue;
        }
        values[property] = converted.value;
      } else {
        values[property] = value;
      }
    }
    // Types and ranges, all values at once (the model's compiled validator names each bad one).
    const errors = model.compiled.reported(values, 'values');
    const bad = new Map<string, string>();
    for (const e of errors) {
      const property = e.field.split('.')[1] ?? '';
      if (!bad.has(property)) bad.set(property, `${e.field} ${e.message}`);
    }
    for (const [property, value] of Object.entries(values)) {
      const reason = bad.get(property);
      if (reason !== undefined) refused.push({ index, property, reason });
      else accepted.push({ ts, property, value: value as TelemetryPoint['value'] });
    }
  }
  return { accepted, refused, received: list.length };
}

/** A point's instant: ISO 8601 with an offset, or milliseconds since the epoch; now when absent. */
function instantOf(value: unknown, now: number): number | string {
  if (value === undefined) return now;
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : 'ts in milliseconds since the epoch must be a whole, non-negative number';
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  return 'ts must be an ISO 8601 instant with an offset (2026-12-03T08:00:00Z) or milliseconds since the epoch';
}
