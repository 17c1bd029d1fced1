import { RuleRow, RuleState, step } from './rule-definitions';

const threshold: Pick<RuleRow, 'kind' | 'params' | 'property'> = {
  kind: 'threshold',
  property: 'temperature',
  params: { op: '>', value: 80, forSeconds: 10, hysteresis: 5 },
};

/** Feeds points through `step` as the engine does, recording alarms raised and cleared. */
function run(rule: Pick<RuleRow, 'kind' | 'params' | 'property'>, points: [number, number][]) {
  const state: RuleState = {};
  const log: string[] = [];
  for (const [s, v] of points) {
    const verdict = step(rule, state, s * 1000, v);
    if (verdict && 'raise' in verdict) {
      state.alarmId = `a${log.length}`;
      log.push(`raise@${s}`);
    } else if (verdict && 'clear' in verdict) {
      state.alarmId = undefined;
      log.push(`clear@${s}`);
    }
  }
  return log;
}

describe('rule steps', () => {
  it('raises a threshold only once it held for its duration, once, and clears it only past the hysteresis', () => {
    expect(
      run(threshold, [
        [0, 85],
        [5, 90],
        [9, 79],
        [10, 81],
        [19, 82],
        [20, 83],
        [21, 99],
        [30, 76],
        [31, 74.9],
        [32, 85],
      ]),
    ).toEqual(['raise@20', 'clear@31']);
  });

  it('raises a rate-of-change alarm on a jump and clears it when the change calms below the limit less the hysteresis', () => {
    const rate: Pick<RuleRow, 'kind' | 'params' | 'property'> = {
      kind: 'rate',
      property: 'speed',
      params: { perSecond: 10, hysteresis: 2 },
    };
    expect(
      run(rate, [
        [0, 100],
        [1, 105],
        [2, 130],
        [3, 139],
        [4, 146],
        [5, 150],
      ]),
    ).toEqual(['raise@2', 'clear@4']);
  });
});
