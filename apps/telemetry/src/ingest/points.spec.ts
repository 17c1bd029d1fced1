import { checkDefinition, compileModel } from '@iip/thing-model';
import { checkPoints } from './points';

const definition = checkDefinition({
  properties: {
    temperature: { type: 'float', unit: 'Cel', min: -40, max: 200, access: 'read-only' },
    running: { type: 'bool', access: 'read-only' },
    mode: { type: 'enum', values: ['auto', 'manual'], access: 'read-write' },
  },
});
const model = { definition, compiled: compileModel(definition) };
const now = Date.UTC(2026, 11, 3, 8);
const rules = { now, oldestMs: now - 86_400_000, latestMs: now + 300_000, maxPoints: 100 };

describe('checkPoints', () => {
  it('accepts fitting values, converts units of the same kind, and refuses each bad value with its reason', () => {
    const checked = checkPoints(
      [
        { ts: now - 1000, values: { temperature: 21.5, running: true } },
        { ts: '2026-12-03T07:59:59+00:00', values: { temperature: 500, mode: 'auto' } },
        { values: { temperature: 212 }, units: { temperature: '[degF]' } },
        { ts: now - 3000, values: { temperature: 1 }, units: { temperature: 'kPa' } },
        { ts: now - 2 * 86_400_000, values: { temperature: 1 } },
        { ts: now + 3_600_000, values: { temperature: 1 } },
        { ts: now, values: { pressure: 1, mode: 'turbo' } },
        { ts: now, values: {} },
        'not a point',
      ],
      model,
      rules,
    );
    expect(checked.accepted).toEqual([
      { ts: now - 1000, property: 'temperature', value: 21.5 },
      { ts: now - 1000, property: 'running', value: true },
      { ts: now - 1000, property: 'mode', value: 'auto' },
      { ts: now, property: 'temperature', value: expect.closeTo(100, 6) },
    ]);
    expect(checked.refused).toEqual([
      { index: 1, property: 'temperature', reason: 'values.temperature must be <= 200' },
      { index: 3, property: 'temperature', reason: "kPa cannot be converted to Cel, the model's unit" },
      { index: 4, reason: expect.stringContaining('older than this tenant keeps raw points') },
      { index: 5, reason: expect.stringContaining('lies in the future') },
      { index: 6, property: 'pressure', reason: "pressure is not a property of the device's thing model" },
      { index: 6, property: 'mode', reason: 'values.mode must be equal to one of the allowed values' },
      { index: 7, reason: 'values must be an object of at least one property: value' },
      { index: 8, reason: 'a point is an object {ts, values}' },
    ]);
  });

  it('refuses a message of more points than allowed as a whole, and one that is no point at all', () => {
    expect(() =>
      checkPoints(
        Array.from({ length: 101 }, () => ({ values: { running: true } })),
        model,
        rules,
      ),
    ).toThrow('at most 100');
    expect(() => checkPoints(42, model, rules)).toThrow('expected a point');
  });
});
