import { SimulatedPump, simulatePump } from '../../test/pump-simulation';
import { DAY_MS, EvaluationSettings, HealthEvaluation, HealthProfile, HOUR_MS, advance, emptyState } from './evaluation';

const SETTINGS: EvaluationSettings = { windowDays: 10, minLevels: 72, horizonDays: 30, marginHours: 24, confirmHours: 6 };
const PROFILE: HealthProfile = {
  properties: { vibration: 'vib', bearingTemperature: 'bearing', flow: 'flow', head: 'head', power: 'power' },
  conversions: {},
  machineGroup: 2,
  foundation: 'rigid', // C/D at 4.5 mm/s
  bep: { flow: 100, head: 50, power: 18 },
  bearingLimits: { warning: 80, alarm: 95 },
};
const END = Date.UTC(2026, 2, 1);

/** 20 days of 10-minute samples ending at END, through the evaluator in batches of `batch` instants. */
function run(pump: SimulatedPump, batch = 500): HealthEvaluation[] {
  const state = emptyState();
  const samples = simulatePump(pump, END - 20 * DAY_MS, END + 10 * 60_000, 10 * 60_000);
  const all: HealthEvaluation[] = [];
  for (let i = 0; i < samples.length; i += batch) {
    const points = samples.slice(i, i + batch).flatMap((s) =>
      (['vib', 'bearing', 'flow', 'head', 'power'] as const).map((property, k) => ({
        ts: s.ts,
        property,
        value: [s.vibration, s.bearingTemperature, s.flow, s.head, s.power][k],
      })),
    );
    // A JSON round trip between batches, as the state is kept in PostgreSQL.
    const restored = JSON.parse(JSON.stringify(state)) as typeof state;
    all.push(...advance(restored, PROFILE, points, SETTINGS));
    Object.assign(state, restored);
  }
  return all;
}

const degrading = (seed: number, onsetDaysBeforeEnd: number, base = 1.2): SimulatedPump => ({
  seed,
  base,
  degradation: { onsetAt: END - onsetDaysBeforeEnd * DAY_MS, crossingAt: END + 7 * DAY_MS, limit: 4.5 },
  noise: 0.08,
  outliers: 0.03,
});

describe('health evaluation of simulated pumps (vibration toward zone D, noise, spikes, drop-outs)', () => {
  it.each([
    ['linear wear over the whole history', degrading(1, 30)],
    ['faster wear from a later onset', degrading(2, 12)],
    ['a pump starting in zone B', degrading(3, 25, 2.0)],
    ['noisier', { ...degrading(4, 20), noise: 0.15, outliers: 0.05 }],
  ])('%s: seven days before the crossing the remaining life is 7 days ± 20 %, inside its interval', (_, pump) => {
    const evaluations = run(pump);
    const last = evaluations[evaluations.length - 1];
    expect(last.asOf).toBe(END);
    const truth = (END + 7 * DAY_MS - last.asOf) / DAY_MS;
    expect(last.remaining?.days).toBeGreaterThan(truth * 0.8);
    expect(last.remaining?.days).toBeLessThan(truth * 1.2);
    expect(last.remaining?.low).toBeLessThan(last.remaining?.days ?? 0);
    expect(last.remaining?.high).toBeGreaterThan(last.remaining?.days ?? 0);
    expect(last.prediction).toBeDefined();
    expect(last.prediction?.dueDate).toBe(last.asOf + (last.remaining?.low ?? 0) * DAY_MS - 24 * HOUR_MS);
    expect(last.zone).toBe('C');
    expect(last.score).toBeLessThan(75);
  });

  it.each([1.0, 1.6, 2.2])('a healthy pump at %f mm/s is never predicted to fail, in any hour', (base) => {
    const evaluations = run({ seed: Math.round(base * 10), base, noise: 0.1, outliers: 0.03 });
    expect(evaluations.length).toBeGreaterThan(400);
    expect(evaluations.filter((e) => e.prediction)).toEqual([]);
    const last = evaluations[evaluations.length - 1];
    expect(last.score).toBeGreaterThan(60);
    expect(last.trend?.slopeLow).toBeLessThan(0.1);
  });

  it('gives the same evaluations whatever the batching (state kept between batches)', () => {
    const pump = degrading(5, 15);
    const a = run(pump, 37);
    const b = run(pump, 2000);
    expect(b).toEqual(a);
  });

  it('a machine already in zone D is due now', () => {
    const state = emptyState();
    const pts = Array.from({ length: 30 * 6 }, (_, i) => ({ ts: END + i * 10 * 60_000, property: 'vib', value: 6 }));
    const out = advance(state, PROFILE, pts, SETTINGS);
    const last = out[out.length - 1];
    expect(out.filter((e) => e.prediction)).toHaveLength(out.length - 5); // confirmed after six hours
    expect(last.zone).toBe('D');
    expect(last.remaining).toEqual({ days: 0, low: 0, high: 0 });
    expect(last.prediction?.dueDate).toBe(last.asOf);
  });
});
