/**
 * Simulated centrifugal pumps for the maintenance tests: vibration velocity RMS (mm/s) that
 * stays flat (healthy) or, from an onset, grows linearly to cross a zone boundary at a known
 * instant — with multiplicative noise, spikes and drop-outs — and the bearing temperature, flow,
 * head and power beside it. Seeded, so every run draws the same pumps.
 */

/** A seeded generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimulatedPump {
  seed: number;
  /** Vibration while healthy, mm/s. */
  base: number;
  /** Degrading: the level reaches `limit` at `crossingAt` (ms), growing linearly from `onsetAt`. */
  degradation?: { onsetAt: number; crossingAt: number; limit: number };
  /** Relative noise (standard deviation), a share of the level. */
  noise: number;
  /** Share of samples that are spikes (×2.5 – ×4) and drop-outs (near 0), each. */
  outliers: number;
}

export interface PumpSample {
  ts: number;
  vibration: number;
  bearingTemperature: number;
  flow: number;
  head: number;
  power: number;
}

/** The pump's true (noise-free) vibration at an instant. */
export function trueVibration(p: SimulatedPump, ts: number): number {
  const d = p.degradation;
  if (!d || ts <= d.onsetAt) return p.base;
  return p.base + ((d.limit - p.base) * (ts - d.onsetAt)) / (d.crossingAt - d.onsetAt);
}

/** Samples every `stepMs` in [from, to). */
export function simulatePump(p: SimulatedPump, from: number, to: number, stepMs: number): PumpSample[] {
  const rnd = seeded(p.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const out: PumpSample[] = [];
  for (let ts = from; ts < to; ts += stepMs) {
    const level = trueVibration(p, ts);
    const u = rnd();
    let vibration = level * (1 + p.noise * gauss());
    if (u < p.outliers) vibration = level * (2.5 + 1.5 * rnd());
    else if (u < 2 * p.outliers) vibration = 0.05 * rnd();
    const wear = p.degradation ? Math.max(0, (level - p.base) / (p.degradation.limit - p.base)) : 0;
    const round = (v: number, places: number) => Math.round(v * 10 ** places) / 10 ** places;
    out.push({
      ts,
      vibration: round(Math.max(0, vibration), 3),
      bearingTemperature: round(55 + 15 * wear + 1.5 * gauss(), 2),
      flow: round(100 * (1 + 0.03 * gauss()), 2),
      head: round(50 * (1 - 0.05 * wear) * (1 + 0.02 * gauss()), 2),
      power: round(18 * (1 + 0.02 * gauss()), 2),
    });
  }
  return out;
}
