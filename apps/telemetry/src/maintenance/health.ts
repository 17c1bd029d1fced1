/**
 * The statistics of rotating-equipment health, as pure functions: ISO 10816-3 vibration zones,
 * robust hourly levels (a remedian), the Theil–Sen trend with Sen's confidence interval, the
 * remaining useful life until the zone C/D boundary, and the health score.
 */
import { VibrationZone } from '@iip/contracts';

/** ISO 10816-3 machine groups: 1 large (300 kW – 50 MW), 2 medium (15 – 300 kW). */
export type MachineGroup = 1 | 2;
export type Foundation = 'rigid' | 'flexible';

/** Zone boundaries A/B, B/C, C/D in mm/s RMS (ISO 10816-3 Tables A.1 and A.2, 10 – 1000 Hz). */
export interface ZoneBoundaries {
  ab: number;
  bc: number;
  cd: number;
}

const ZONES: Record<MachineGroup, Record<Foundation, ZoneBoundaries>> = {
  1: { rigid: { ab: 2.3, bc: 4.5, cd: 7.1 }, flexible: { ab: 3.5, bc: 7.1, cd: 11.0 } },
  2: { rigid: { ab: 1.4, bc: 2.8, cd: 4.5 }, flexible: { ab: 2.3, bc: 4.5, cd: 7.1 } },
};

export function zoneBoundaries(group: MachineGroup, foundation: Foundation): ZoneBoundaries {
  return ZONES[group][foundation];
}

/** The zone of a vibration velocity RMS; a value on a boundary belongs to the worse zone. */
export function vibrationZone(rms: number, b: ZoneBoundaries): VibrationZone {
  if (rms < b.ab) return 'A';
  if (rms < b.bc) return 'B';
  if (rms < b.cd) return 'C';
  return 'D';
}

/** The median of a list (not modified); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The weighted median of (value, weight) pairs: the smallest value at which half the weight is reached. */
export function weightedMedian(pairs: readonly (readonly [number, number])[]): number {
  if (pairs.length === 0) return NaN;
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((n, p) => n + p[1], 0);
  let seen = 0;
  for (const [value, weight] of sorted) {
    seen += weight;
    if (seen * 2 >= total) return value;
  }
  return sorted[sorted.length - 1][0];
}

/**
 * A remedian (Rousseeuw & Bassett, 1990): a robust running median in bounded memory. Samples
 * fill a buffer of {@link REMEDIAN_BASE}; a full buffer leaves only its median, weighted by the
 * samples it stands for. JSON-safe, so it is kept in PostgreSQL between batches.
 */
export interface Remedian {
  buf: number[];
  /** [median, weight] of the buffers already collapsed. */
  meds: [number, number][];
}

export const REMEDIAN_BASE = 25;
/** Collapsed buffers kept at most (then neighbours are merged): ~6,400 samples an hour at full resolution. */
const REMEDIAN_MAX_MEDIANS = 256;

export const emptyRemedian = (): Remedian => ({ buf: [], meds: [] });

export function remedianAdd(r: Remedian, value: number): void {
  r.buf.push(value);
  if (r.buf.length < REMEDIAN_BASE) return;
  r.meds.push([median(r.buf), r.buf.length]);
  r.buf = [];
  if (r.meds.length >= REMEDIAN_MAX_MEDIANS) {
    const merged: [number, number][] = [];
    for (let i = 0; i < r.meds.length; i += 2) {
      const a = r.meds[i];
      const b = r.meds[i + 1];
      merged.push(b ? [(a[0] * a[1] + b[0] * b[1]) / (a[1] + b[1]), a[1] + b[1]] : a);
    }
    r.meds = merged;
  }
}

/** The robust level of what was added (NaN when nothing was). */
export function remedianValue(r: Remedian): number {
  if (r.meds.length === 0) return median(r.buf);
  const pairs: [number, number][] = [...r.meds];
  if (r.buf.length > 0) pairs.push([median(r.buf), r.buf.length]);
  return weightedMedian(pairs);
}

export interface Trend {
  /** Units per day. */
  slope: number;
  /** Sen's confidence interval of the slope (two-sided, {@link TREND_CONFIDENCE}). */
  slopeLow: number;
  slopeHigh: number;
  /** The fitted level at `at` (the line through the median of y − slope·x). */
  level: number;
  n: number;
}

/** Confidence of the slope interval (two-sided): z = 1.645 for 90 %. */
export const TREND_CONFIDENCE = 0.9;
const Z = 1.6448536269514722;

/**
 * Theil–Sen: the median of the slopes of all pairs of points, robust to up to ~29 % outliers.
 * The interval is Sen's (1968): the slopes ranked (N − C)/2 and (N + C)/2 + 1, where
 * C = z·√(n(n−1)(2n+5)/18) is from the Kendall statistic's variance. x in days, y any unit.
 * Undefined with fewer than 3 points (or all at one x).
 */
export function theilSen(points: readonly { x: number; y: number }[], at: number): Trend | undefined {
  const n = points.length;
  if (n < 3) return undefined;
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const pi = points[i];
    for (let j = i + 1; j < n; j++) {
      const dx = points[j].x - pi.x;
      if (dx !== 0) slopes[m++] = (points[j].y - pi.y) / dx;
    }
  }
  if (m === 0) return undefined;
  const sorted = slopes.subarray(0, m).sort();
  const mid = m >> 1;
  const slope = m % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const c = Z * Math.sqrt((n * (n - 1) * (2 * n + 5)) / 18);
  const lowRank = Math.max(1, Math.round((m - c) / 2)); // 1-based ranks
  const highRank = Math.min(m, Math.round((m + c) / 2) + 1);
  const intercept = median(points.map((p) => p.y - slope * p.x));
  return { slope, slopeLow: sorted[lowRank - 1], slopeHigh: sorted[highRank - 1], level: intercept + slope * at, n };
}

export interface RemainingLife {
  /** Days until the level reaches `limit`: the estimate, and its interval from the slope's. */
  days: number;
  low: number;
  high: number;
}

/**
 * Time until a rising trend reaches `limit`. Only a trend that rises with confidence (the
 * interval's lower slope above zero) gives one; at or past the limit it is 0.
 */
export function remainingLife(trend: Trend, limit: number): RemainingLife | undefined {
  if (trend.level >= limit) return { days: 0, low: 0, high: 0 };
  if (!(trend.slopeLow > 0)) return undefined;
  const gap = limit - trend.level;
  return { days: gap / trend.slope, low: gap / trend.slopeHigh, high: gap / trend.slopeLow };
}

/** Linear interpolation through (x, y) knots sorted by x, clamped at both ends. */
function piecewise(x: number, knots: readonly (readonly [number, number])[]): number {
  if (x <= knots[0][0]) return knots[0][1];
  for (let i = 1; i < knots.length; i++) {
    const [x1, y1] = knots[i];
    if (x <= x1) {
      const [x0, y0] = knots[i - 1];
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return knots[knots.length - 1][1];
}

/** Vibration's part of the score: 100 at rest, 85 at A/B, 60 at B/C, 25 at C/D, 0 at 1.5 × C/D. */
export function vibrationScore(rms: number, b: ZoneBoundaries): number {
  return piecewise(rms, [
    [0, 100],
    [b.ab, 85],
    [b.bc, 60],
    [b.cd, 25],
    [b.cd * 1.5, 0],
  ]);
}

export interface BearingLimits {
  /** Cel: above it the bearing runs warm; at the alarm limit it is due for a stop. */
  warning: number;
  alarm: number;
}

/** Bearing temperature's part: 100 up to the warning limit, 25 at the alarm limit, 0 ten kelvin above it. */
export function bearingScore(celsius: number, limits: BearingLimits): number {
  return piecewise(celsius, [
    [limits.warning, 100],
    [limits.alarm, 25],
    [limits.alarm + 10, 0],
  ]);
}

/** A pump's rated best-efficiency point: flow m3/h, head m, shaft power kW. */
export interface BestEfficiencyPoint {
  flow: number;
  head: number;
  power: number;
}

export interface OperatingPoint {
  /** Flow as a share of the BEP flow (1 = at the BEP). */
  flowRatio: number;
  /** Efficiency lost against the BEP's, as a share of it (0 = as efficient as rated); absent without head and power. */
  efficiencyDrop?: number;
}

/** Hydraulic efficiency ρgQH/P with water (ρ = 1000 kg/m³), Q in m3/h, H in m, P in kW. */
export const pumpEfficiency = (flow: number, head: number, power: number): number => (flow * head) / (367.2 * power);

export function operatingPoint(bep: BestEfficiencyPoint, flow: number, head?: number, power?: number): OperatingPoint {
  const flowRatio = flow / bep.flow;
  if (head === undefined || power === undefined || !(power > 0)) return { flowRatio };
  const rated = pumpEfficiency(bep.flow, bep.head, bep.power);
  return { flowRatio, efficiencyDrop: Math.max(0, (rated - pumpEfficiency(flow, head, power)) / rated) };
}

/**
 * The operating point's part: within 80 – 120 % of the BEP flow (the preferred operating region)
 * 100, 50 at 50 % off, 0 at 100 % off; less for efficiency lost beyond 5 % (0 at 40 % lost).
 */
export function operatingScore(op: OperatingPoint): number {
  const off = Math.abs(op.flowRatio - 1);
  const flow = piecewise(off, [
    [0.2, 100],
    [0.5, 50],
    [1, 0],
  ]);
  if (op.efficiencyDrop === undefined) return flow;
  const eff = piecewise(op.efficiencyDrop, [
    [0.05, 100],
    [0.25, 40],
    [0.4, 0],
  ]);
  return Math.min(flow, eff);
}

/**
 * The health score 0–100: the parts' weighted mean (vibration 0.5, bearing 0.25, operating point
 * 0.25, over those known), never more than 15 above the worst part, so one failing sign is not
 * averaged away.
 */
export function healthScore(parts: { vibration: number; bearing?: number; operating?: number }): number {
  const weighted: [number, number][] = [[parts.vibration, 0.5]];
  if (parts.bearing !== undefined) weighted.push([parts.bearing, 0.25]);
  if (parts.operating !== undefined) weighted.push([parts.operating, 0.25]);
  const mean = weighted.reduce((s, [v, w]) => s + v * w, 0) / weighted.reduce((s, [, w]) => s + w, 0);
  const worst = Math.min(...weighted.map(([v]) => v));
  return Math.round(Math.max(0, Math.min(100, mean, worst + 15)));
}
