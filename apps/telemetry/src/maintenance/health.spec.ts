import {
  bearingScore,
  emptyRemedian,
  healthScore,
  median,
  operatingPoint,
  operatingScore,
  pumpEfficiency,
  remainingLife,
  remedianAdd,
  remedianValue,
  theilSen,
  vibrationScore,
  vibrationZone,
  weightedMedian,
  zoneBoundaries,
} from './health';
import { seeded } from '../../test/pump-simulation';

describe('ISO 10816-3 zones', () => {
  it.each([
    [1, 'rigid', 2.3, 4.5, 7.1],
    [1, 'flexible', 3.5, 7.1, 11.0],
    [2, 'rigid', 1.4, 2.8, 4.5],
    [2, 'flexible', 2.3, 4.5, 7.1],
  ] as const)('group %i on a %s foundation: A/B %f, B/C %f, C/D %f mm/s', (group, foundation, ab, bc, cd) => {
    const b = zoneBoundaries(group, foundation);
    expect(b).toEqual({ ab, bc, cd });
    expect(vibrationZone(ab - 0.01, b)).toBe('A');
    expect(vibrationZone(ab, b)).toBe('B'); // a boundary belongs to the worse zone
    expect(vibrationZone(bc - 0.01, b)).toBe('B');
    expect(vibrationZone(bc, b)).toBe('C');
    expect(vibrationZone(cd - 0.01, b)).toBe('C');
    expect(vibrationZone(cd, b)).toBe('D');
    expect(vibrationZone(100, b)).toBe('D');
  });
});

describe('robust levels', () => {
  it('median and weighted median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(
      weightedMedian([
        [1, 1],
        [2, 1],
        [10, 5],
      ]),
    ).toBe(10);
    expect(
      weightedMedian([
        [1, 3],
        [2, 1],
        [10, 1],
      ]),
    ).toBe(1);
  });

  it('a remedian of many samples with outliers stays near the true median, in bounded memory', () => {
    const rnd = seeded(7);
    const r = emptyRemedian();
    for (let i = 0; i < 20_000; i++) remedianAdd(r, rnd() < 0.1 ? 1000 : 5 + (rnd() - 0.5));
    expect(remedianValue(r)).toBeGreaterThan(4.9);
    expect(remedianValue(r)).toBeLessThan(5.15);
    expect(r.meds.length).toBeLessThanOrEqual(256);
    expect(r.buf.length).toBeLessThan(25);
    const few = emptyRemedian();
    [4, 5, 6, 100].forEach((v) => remedianAdd(few, v));
    expect(remedianValue(few)).toBe(5.5);
  });
});

describe('Theil–Sen trend', () => {
  it('recovers a line exactly, with a zero-width interval', () => {
    const pts = Array.from({ length: 20 }, (_, i) => ({ x: i - 19, y: 1 + 0.25 * (i - 19) }));
    const t = theilSen(pts, 0);
    expect(t?.slope).toBeCloseTo(0.25, 12);
    expect(t?.slopeLow).toBeCloseTo(0.25, 12);
    expect(t?.slopeHigh).toBeCloseTo(0.25, 12);
    expect(t?.level).toBeCloseTo(1, 12);
  });

  it('ignores a quarter of gross outliers where least squares would not', () => {
    const rnd = seeded(3);
    const pts = Array.from({ length: 100 }, (_, i) => ({ x: i / 10, y: 2 + 0.3 * (i / 10) + (rnd() < 0.25 ? 20 : (rnd() - 0.5) * 0.1) }));
    const t = theilSen(pts, 10);
    expect(t?.slope).toBeGreaterThan(0.28);
    expect(t?.slope).toBeLessThan(0.32);
    expect(t?.level).toBeCloseTo(5, 0);
  });

  it("Sen's interval holds the true slope about 90 % of the time and narrows with more data", () => {
    const rnd = seeded(11);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    let covered = 0;
    const widths: number[] = [];
    for (let run = 0; run < 200; run++) {
      const pts = Array.from({ length: 40 }, (_, i) => ({ x: i, y: 0.1 * i + gauss() }));
      const t = theilSen(pts, 0);
      if (t && t.slopeLow <= 0.1 && 0.1 <= t.slopeHigh) covered++;
      if (t) widths.push(t.slopeHigh - t.slopeLow);
    }
    expect(covered / 200).toBeGreaterThan(0.84);
    expect(covered / 200).toBeLessThan(0.96);
    const more = Array.from({ length: 160 }, (_, i) => ({ x: i / 4, y: 0.1 * (i / 4) + gauss() }));
    const wide = median(widths);
    const t = theilSen(more, 0);
    expect((t?.slopeHigh ?? 0) - (t?.slopeLow ?? 0)).toBeLessThan(wide);
  });

  it('needs three points at two instants at least', () => {
    expect(
      theilSen(
        [
          { x: 0, y: 1 },
          { x: 1, y: 2 },
        ],
        0,
      ),
    ).toBeUndefined();
    expect(
      theilSen(
        [
          { x: 1, y: 1 },
          { x: 1, y: 2 },
          { x: 1, y: 3 },
        ],
        0,
      ),
    ).toBeUndefined();
  });
});

describe('remaining useful life', () => {
  it('is the time to the limit, its interval from the slope interval (a steeper slope is sooner)', () => {
    expect(remainingLife({ slope: 0.2, slopeLow: 0.1, slopeHigh: 0.4, level: 2.5, n: 50 }, 4.5)).toEqual({ days: 10, low: 5, high: 20 });
  });
  it('is none for a trend that does not rise with confidence, and 0 at the limit', () => {
    expect(remainingLife({ slope: 0.05, slopeLow: -0.01, slopeHigh: 0.1, level: 2, n: 50 }, 4.5)).toBeUndefined();
    expect(remainingLife({ slope: -0.05, slopeLow: -0.1, slopeHigh: 0, level: 5, n: 50 }, 4.5)).toEqual({ days: 0, low: 0, high: 0 });
  });
});

describe('health score', () => {
  const b = zoneBoundaries(2, 'rigid');
  it('vibration: 100 at rest, 85/60/25 at the zone boundaries, 0 well into zone D', () => {
    expect(vibrationScore(0, b)).toBe(100);
    expect(vibrationScore(1.4, b)).toBe(85);
    expect(vibrationScore(2.1, b)).toBeCloseTo(72.5);
    expect(vibrationScore(2.8, b)).toBe(60);
    expect(vibrationScore(4.5, b)).toBe(25);
    expect(vibrationScore(10, b)).toBe(0);
  });
  it('bearing temperature: 100 to the warning limit, 25 at the alarm limit', () => {
    expect(bearingScore(60, { warning: 80, alarm: 95 })).toBe(100);
    expect(bearingScore(95, { warning: 80, alarm: 95 })).toBe(25);
    expect(bearingScore(120, { warning: 80, alarm: 95 })).toBe(0);
  });
  it('operating point: the flow off the BEP and the efficiency lost', () => {
    const bep = { flow: 100, head: 50, power: 18 };
    expect(pumpEfficiency(100, 50, 18)).toBeCloseTo(0.7565, 3);
    const at = operatingPoint(bep, 100, 50, 18);
    expect(at.flowRatio).toBe(1);
    expect(at.efficiencyDrop).toBeCloseTo(0, 10);
    expect(operatingScore(at)).toBe(100);
    expect(operatingScore(operatingPoint(bep, 50))).toBe(50); // half the BEP flow
    const worn = operatingPoint(bep, 100, 40, 18); // 20 % less head for the same power
    expect(worn.efficiencyDrop).toBeCloseTo(0.2, 10);
    expect(operatingScore(worn)).toBeCloseTo(55);
  });
  it('combines the parts, the worst one capping the result', () => {
    expect(healthScore({ vibration: 100, bearing: 100, operating: 100 })).toBe(100);
    expect(healthScore({ vibration: 80 })).toBe(80);
    expect(healthScore({ vibration: 90, bearing: 10, operating: 90 })).toBe(25);
    expect(healthScore({ vibration: 60, bearing: 100, operating: 80 })).toBe(75);
  });
});
