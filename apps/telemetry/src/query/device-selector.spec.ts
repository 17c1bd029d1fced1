import { RequestValidationError } from '@iip/platform-errors';
import { fleetQueryOf } from './device-selector';

const fieldsOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof RequestValidationError) return e.fieldErrors.map((x) => x.field);
    throw e;
  }
  return [];
};

describe('fleetQueryOf', () => {
  it('names devices by id without a query', () => {
    expect(fleetQueryOf({ deviceIds: ['a'] })).toBeUndefined();
  });

  it('compiles site, line and tags into tag comparisons, the query in parentheses, all ANDed', () => {
    expect(fleetQueryOf({ site: 'S1', line: 'L1', tags: { cell: '7' }, query: "profile.category = 'pump' OR name ~ 'x'" })).toBe(
      "tags.site = 'S1' AND tags.line = 'L1' AND tags.cell = '7' AND (profile.category = 'pump' OR name ~ 'x')",
    );
  });

  it('quotes values, so a quote in one stays inside the string', () => {
    expect(fleetQueryOf({ line: "L1' OR tags.line = 'L2" })).toBe("tags.line = 'L1'' OR tags.line = ''L2'");
  });

  it('refuses naming and selecting at once, neither, and tag names or values the fleet query cannot hold', () => {
    expect(fieldsOf(() => fleetQueryOf({ deviceIds: ['a'], line: 'L1' }))).toEqual(['deviceIds']);
    expect(fieldsOf(() => fleetQueryOf({}))).toEqual(['deviceIds']);
    expect(fieldsOf(() => fleetQueryOf({ tags: { 'a-b': 'x', ok: 'x'.repeat(201) } }))).toEqual(['tags.a-b', 'tags.ok']);
    expect(fieldsOf(() => fleetQueryOf({ tags: { n: 1 as unknown as string } }))).toEqual(['tags.n']);
  });
});
