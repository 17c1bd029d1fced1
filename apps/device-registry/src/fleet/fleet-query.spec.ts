import { RequestValidationError } from '@iip/platform-errors';
import { compileFleetQuery } from './fleet-query';

const problem = (q: string): string => {
  try {
    compileFleetQuery(q, 1);
  } catch (err) {
    return (err as RequestValidationError).fieldErrors[0].message;
  }
  return 'compiled';
};

describe('the fleet query language', () => {
  it('compiles comparisons over columns, tags and twin paths into parameterised SQL', () => {
    const c = compileFleetQuery("reported.temperature > 80 AND tags.line = 'L1' AND profile.category = 'pump'", 4);
    expect(c.where).toBe(
      "((jsonb_typeof((t.reported #> $4::text[])) = 'number' AND (t.reported #> $4::text[]) > $5::jsonb) AND d.tags @> $6::jsonb AND d.category = $7::text)",
    );
    expect(c.params).toEqual([['temperature'], '80', '{"line":"L1"}', 'pump']);
    expect(c.usesTwin).toBe(true);
  });

  it('supports OR, NOT, parentheses, IN, EXISTS, ~ and quoted quotes', () => {
    const c = compileFleetQuery(
      "(status IN ('active', 'suspended') OR NOT profile.ncCapable = true) AND name ~ 'o''brien%' AND EXISTS tags.zone",
      1,
    );
    expect(c.where).toBe(
      '((((d.status = $1::text OR d.status = $2::text) OR NOT (d.nc_capable = $3::boolean))) AND d.name ILIKE $4::text AND d.tags ? $5::text)',
    );
    expect(c.params).toEqual(['active', 'suspended', true, "%o'brien\\%%", 'zone']);
    expect(c.usesTwin).toBe(false);
    expect(compileFleetQuery('', 1)).toEqual({ where: 'true', params: [], usesTwin: false });
  });

  it.each([
    ['reported.temperature >', 'expected a value'],
    ["name = 'open", 'unterminated string'],
    ['nosuch = 1', 'unknown field "nosuch"'],
    ["profile.ratedPowerKw > 'big'", 'is a number'],
    ["profile.commissionedOn < 'yesterday'", 'compares with a date'],
    ["id = 'x'", 'UUID'],
    ["status = 'a' status = 'b'", 'unexpected "status"'],
    ['status = 1', 'status is text'],
    ["name = 'a'; DROP TABLE devices", 'unexpected ";"'],
    ["(status = 'a'", 'expected ")"'],
    [Array.from({ length: 40 }, () => "status = 'a'").join(' OR '), 'more than 32'],
  ])('%s → %s', (q, message) => {
    expect(problem(q)).toContain(message);
  });
});
