/**
 * One device's health as its points come, without I/O: what the evaluator keeps per device
 * between batches ({@link DeviceHealthState}, JSON in PostgreSQL) and what each closed hour
 * yields. Pure, so the statistics are tested without a database and the evaluator is only I/O.
 */
import { VibrationZone } from '@iip/contracts';
import {
  BearingLimits,
  BestEfficiencyPoint,
  Foundation,
  MachineGroup,
  OperatingPoint,
  Remedian,
  RemainingLife,
  Trend,
  bearingScore,
  emptyRemedian,
  healthScore,
  median,
  operatingPoint,
  operatingScore,
  remainingLife,
  remedianAdd,
  remedianValue,
  theilSen,
  vibrationScore,
  vibrationZone,
  zoneBoundaries,
} from './health';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** What a profile maps: the measures, each a numeric property of the model. */
export const MEASURES = ['vibration', 'bearingTemperature', 'flow', 'head', 'pressure', 'power'] as const;
export type Measure = (typeof MEASURES)[number];
/** The unit each measure is evaluated in (UCUM); a property in another unit of the kind is converted. */
export const MEASURE_UNITS: Record<Measure, string> = {
  vibration: 'mm/s',
  bearingTemperature: 'Cel',
  flow: 'm3/h',
  head: 'm',
  pressure: 'kPa',
  power: 'kW',
};

/** A profile as the evaluator uses it: property → measure, with the linear conversion into the measure's unit. */
export interface HealthProfile {
  properties: Partial<Record<Measure, string>>;
  /** value in the measure's unit = value × scale + offset. */
  conversions: Partial<Record<Measure, { scale: number; offset: number }>>;
  machineGroup: MachineGroup;
  foundation: Foundation;
  bep?: BestEfficiencyPoint;
  bearingLimits?: BearingLimits;
}

export interface EvaluationSettings {
  /** Hourly levels the trend looks back over, days. */
  windowDays: number;
  /** Hourly levels needed before a trend is trusted. */
  minLevels: number;
  /** A remaining life up to this many days is a prediction (and a work order). */
  horizonDays: number;
  /** The work order is due this long before the interval's lower bound, hours. */
  marginHours: number;
  /** Consecutive hourly evaluations within the horizon before one is a prediction (a chance run of noise is not). */
  confirmHours: number;
}

/** A closed hour's robust levels: [hour start (ms), vibration, bearing temperature, flow, head (or from pressure), power]; null where not measured. */
export type HourLevel = [number, number | null, number | null, number | null, number | null, number | null];

export interface DeviceHealthState {
  /** The hour being accumulated (start, ms), or null before the first point. */
  hour: number | null;
  acc: Partial<Record<Measure, Remedian>>;
  levels: HourLevel[];
  /** Consecutive evaluations whose remaining life fell within the horizon. */
  streak: number;
}

export const emptyState = (): DeviceHealthState => ({ hour: null, acc: {}, levels: [], streak: 0 });

export interface HealthEvaluation {
  /** The instant the evaluation is as of: the end of the hour just closed (ms). */
  asOf: number;
  score: number;
  zone: VibrationZone;
  /** The hour's robust vibration level, mm/s. */
  vibration: number;
  /** The trend of the hourly vibration levels (mm/s per day), when there are enough of them. */
  trend?: Trend;
  /** Days until the zone C/D boundary, when the trend rises with confidence (or the machine is there). */
  remaining?: RemainingLife;
  bearingTemperature?: number;
  operating?: OperatingPoint;
  /** A prediction: the remaining life falls within the horizon (or the machine is in zone D). */
  prediction?: { dueDate: number; reason: string };
}

/** A numeric value of one of the device's mapped properties. */
export interface MeasuredPoint {
  ts: number;
  property: string;
  value: number;
}

/**
 * Adds points (sorted by instant, all newer than what the state has seen) to the state; each
 * hour they leave behind is closed into its levels and evaluated. Returns the evaluations, in
 * order. The state is changed in place.
 */
export function advance(
  state: DeviceHealthState,
  profile: HealthProfile,
  points: readonly MeasuredPoint[],
  settings: EvaluationSettings,
): HealthEvaluation[] {
  const measureOf = new Map<string, Measure[]>();
  for (const m of MEASURES) {
    const p = profile.properties[m];
    if (p !== undefined) measureOf.set(p, [...(measureOf.get(p) ?? []), m]);
  }
  const out: HealthEvaluation[] = [];
  for (const point of points) {
    const measures = measureOf.get(point.property);
    if (!measures || !Number.isFinite(point.value)) continue;
    const hour = Math.floor(point.ts / HOUR_MS) * HOUR_MS;
    if (state.hour !== null && hour > state.hour) {
      const evaluation = closeHour(state, profile, settings);
      if (evaluation) out.push(evaluation);
    }
    if (state.hour === null || hour > state.hour) state.hour = hour;
    for (const m of measures) {
      const c = profile.conversions[m] ?? { scale: 1, offset: 0 };
      remedianAdd((state.acc[m] ??= emptyRemedian()), point.value * c.scale + c.offset);
    }
  }
  return out;
}

const levelOf = (state: DeviceHealthState, m: Measure): number | null => {
  const r = state.acc[m];
  const v = r ? remedianValue(r) : NaN;
  return Number.isFinite(v) ? v : null;
};

/** Hours whose median stands for the level now while there are too few for a trend. */
const RECENT_HOURS = 6;

/** kPa of water to metres of head (ρ = 1000 kg/m³, g = 9.80665 m/s²). */
const KPA_TO_HEAD_M = 1 / 9.80665;

function closeHour(state: DeviceHealthState, profile: HealthProfile, settings: EvaluationSettings): HealthEvaluation | undefined {
  const hour = state.hour as number;
  const pressure = levelOf(state, 'pressure');
  const head = levelOf(state, 'head') ?? (pressure === null ? null : pressure * KPA_TO_HEAD_M);
  const level: HourLevel = [
    hour,
    levelOf(state, 'vibration'),
    levelOf(state, 'bearingTemperature'),
    levelOf(state, 'flow'),
    head,
    levelOf(state, 'power'),
  ];
  state.acc = {};
  const since = hour - settings.windowDays * DAY_MS;
  state.levels = state.levels.filter((l) => l[0] > since);
  state.levels.push(level);
  if (level[1] === null) return undefined;
  const evaluation = evaluate(state.levels, profile, settings);
  const within = evaluation.remaining !== undefined && evaluation.remaining.days <= settings.horizonDays;
  state.streak = within ? (state.streak ?? 0) + 1 : 0;
  if (evaluation.prediction && state.streak < settings.confirmHours) delete evaluation.prediction;
  return evaluation;
}

/** The health as of the end of the newest level's hour (which has a vibration level). */
export function evaluate(levels: readonly HourLevel[], profile: HealthProfile, settings: EvaluationSettings): HealthEvaluation {
  const newest = levels[levels.length - 1];
  const asOf = newest[0] + HOUR_MS;
  const vibration = newest[1] as number;
  const bounds = zoneBoundaries(profile.machineGroup, profile.foundation);
  // x: days before asOf of each hour's middle.
  const series = levels.filter((l) => l[1] !== null).map((l) => ({ x: (l[0] + HOUR_MS / 2 - asOf) / DAY_MS, y: l[1] as number }));
  const trend = series.length >= settings.minLevels ? theilSen(series, 0) : undefined;
  // The fitted level is steadier than one hour's; before there is a trend, the median of the last hours.
  const now = trend ? trend.level : median(series.slice(-RECENT_HOURS).map((p) => p.y));
  const zone = vibrationZone(now, bounds);
  const remaining = zone === 'D' ? { days: 0, low: 0, high: 0 } : trend ? remainingLife(trend, bounds.cd) : undefined;
  const bearingTemperature = newest[2] ?? undefined;
  const operating =
    profile.bep && newest[3] !== null ? operatingPoint(profile.bep, newest[3], newest[4] ?? undefined, newest[5] ?? undefined) : undefined;
  const score = healthScore({
    vibration: vibrationScore(now, bounds),
    bearing:
      bearingTemperature !== undefined && profile.bearingLimits ? bearingScore(bearingTemperature, profile.bearingLimits) : undefined,
    operating: operating ? operatingScore(operating) : undefined,
  });
  const evaluation: HealthEvaluation = { asOf, score, zone, vibration, trend, remaining, bearingTemperature, operating };
  if (remaining && remaining.days <= settings.horizonDays) {
    const due = asOf + remaining.low * DAY_MS - settings.marginHours * HOUR_MS;
    const round = (v: number) => Math.round(v * 10) / 10;
    evaluation.prediction = {
      dueDate: Math.max(asOf, due),
      reason:
        zone === 'D'
          ? `vibration ${round(now)} mm/s RMS is in ISO 10816-3 zone D (≥ ${bounds.cd} mm/s): damage may occur`
          : `vibration ${round(now)} mm/s RMS (zone ${zone}) rising ${round(trend?.slope ?? 0)} mm/s a day reaches zone D (${bounds.cd} mm/s) in ${round(remaining.days)} days (${round(remaining.low)}–${round(remaining.high)})`,
    };
  }
  return evaluation;
}
