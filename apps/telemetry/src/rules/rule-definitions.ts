/** What a rule watches for, per kind (params as stored). */
export interface ThresholdParams {
  op: '>' | '>=' | '<' | '<=';
  value: number;
  /** The condition must hold this long (by the points' own instants) before the alarm is raised. */
  forSeconds: number;
  /** The value must come back past the threshold by this much before the alarm clears. */
  hysteresis: number;
}
export interface RateParams {
  /** Change per second (either direction) above which the alarm is raised. */
  perSecond: number;
  hysteresis: number;
}
export interface NoDataParams {
  /** No point of the property for this long raises the alarm; the next point clears it. */
  seconds: number;
}

export type RuleKind = 'threshold' | 'rate' | 'no-data';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface RuleRow {
  tenantId: string;
  id: string;
  name: string;
  deviceId: string | null;
  modelId: string | null;
  property: string;
  kind: RuleKind;
  params: ThresholdParams | RateParams | NoDataParams;
  severity: Severity;
  enabled: boolean;
}

/** What a rule remembers of one device between points (rule_states.state). */
export interface RuleState {
  /** Since when (ms) a threshold's condition has held without a break. */
  holdingSince?: number;
  /** The last point seen (rate of change needs it). */
  last?: { ts: number; num: number };
  /** The alarm this rule and device have active (one at a time). */
  alarmId?: string;
}

/** What a point makes of a rule's state: raise, clear, or nothing. */
export type Verdict = { raise: string; value: number } | { clear: true } | undefined;

const holds = (p: ThresholdParams, v: number) =>
  p.op === '>' ? v > p.value : p.op === '>=' ? v >= p.value : p.op === '<' ? v < p.value : v <= p.value;

/** Back past the threshold by the hysteresis (for `>`: below value − hysteresis). */
const recovered = (p: ThresholdParams, v: number) =>
  p.op === '>' || p.op === '>=' ? v < p.value - p.hysteresis : v > p.value + p.hysteresis;

/** Applies one point (in instant order) to the state; changes `state` in place and says what the alarm does. */
export function step(rule: Pick<RuleRow, 'kind' | 'params' | 'property'>, state: RuleState, ts: number, v: number): Verdict {
  const previous = state.last;
  state.last = { ts, num: v };
  switch (rule.kind) {
    case 'threshold': {
      const p = rule.params as ThresholdParams;
      if (state.alarmId) {
        if (recovered(p, v)) {
          state.holdingSince = undefined;
          return { clear: true };
        }
        return undefined;
      }
      if (!holds(p, v)) {
        state.holdingSince = undefined;
        return undefined;
      }
      state.holdingSince ??= ts;
      if (ts - state.holdingSince >= p.forSeconds * 1000) {
        return { raise: `${rule.property} ${p.op} ${p.value} for ${p.forSeconds} s (value ${v})`, value: v };
      }
      return undefined;
    }
    case 'rate': {
      const p = rule.params as RateParams;
      if (!previous || ts <= previous.ts) return undefined;
      const rate = Math.abs((v - previous.num) / ((ts - previous.ts) / 1000));
      if (!state.alarmId && rate > p.perSecond) {
        return { raise: `${rule.property} changes ${round(rate)}/s, more than ${p.perSecond}/s (value ${v})`, value: v };
      }
      if (state.alarmId && rate <= p.perSecond - p.hysteresis) return { clear: true };
      return undefined;
    }
    case 'no-data':
      return state.alarmId ? { clear: true } : undefined;
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;
