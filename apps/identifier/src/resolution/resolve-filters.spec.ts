import { matchesFilters } from './resolve-filters';

describe('matchesFilters (Handle type= and index=)', () => {
  const value = (idx: number, type: string) => ({ idx, type });

  it.each([
    ['no filters match everything', value(1, 'URL'), [], [], true],
    ['an exact type, in any ASCII case', value(1, 'URL'), ['url'], [], true],
    ['another type does not match', value(1, 'URL'), ['EMAIL'], [], false],
    ['a type ending in "." matches its subtypes', value(2, 'EQUIP.SERIAL'), ['EQUIP.'], [], true],
    ['… and the type itself', value(2, 'EQUIP'), ['EQUIP.'], [], true],
    ['… but not a longer sibling name', value(2, 'EQUIPMENT'), ['EQUIP.'], [], false],
    ['a plain type does not match its subtypes', value(2, 'EQUIP.SERIAL'), ['EQUIP'], [], false],
    ['an index', value(100, 'HS_ADMIN'), [], [100], true],
    ['type or index: either matches', value(3, 'MODEL'), ['URL'], [3], true],
    ['neither matches', value(3, 'MODEL'), ['URL'], [4], false],
  ])('%s', (_name, v, types, indexes, expected) => {
    expect(matchesFilters(v, { types, indexes })).toBe(expected);
  });
});
