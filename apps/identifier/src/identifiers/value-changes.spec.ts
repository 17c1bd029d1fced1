import { IdentifierErrorCode } from '../identifier.errors';
import { HandleValueInput } from './dto/handle-value.schema';
import {
  VARIOUS,
  changedIndexes,
  listedIndexes,
  checkNotOverwriting,
  mergedValues,
  mintedHandleName,
  removableIndexes,
} from './value-changes';
import { identifierErrorOf } from '../../test/identifier-error';

const url = (index: number, value = `https://example.com/${index}`): HandleValueInput => ({
  index,
  type: 'URL',
  data: { format: 'string', value },
});

describe('listedIndexes: index= of a PUT from the query string', () => {
  it('reads numbers, or various alone', () => {
    expect(listedIndexes(['4', '5'])).toEqual([4, 5]);
    expect(listedIndexes(['various', 'various'])).toBe(VARIOUS);
    expect(identifierErrorOf(() => listedIndexes(['various', '4'])).code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(identifierErrorOf(() => listedIndexes(['2147483648'])).code).toBe(IdentifierErrorCode.INVALID_VALUE);
  });
});

describe('changedIndexes: index= of a PUT names exactly the values sent', () => {
  it('takes the listed indexes when the body has exactly those values, in any order and repeated', () => {
    expect(changedIndexes([5, 4, 4], [url(4), url(5)])).toEqual([4, 5]);
  });

  it('takes the indexes of the body for index=various', () => {
    expect(changedIndexes(VARIOUS, [url(7), url(2)])).toEqual([2, 7]);
  });

  it('refuses a listed index without a value, and a value that is not listed', () => {
    const missing = identifierErrorOf(() => changedIndexes([4, 5], [url(4)]));
    expect(missing.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(missing.message).toMatch(/index 5 is listed but has no value/);
    const unlisted = identifierErrorOf(() => changedIndexes([4], [url(4), url(6)]));
    expect(unlisted.message).toMatch(/values at 6, which are not listed/);
  });
});

describe('mergedValues: a per-index PUT keeps what it does not name', () => {
  it('replaces the named values, adds new ones and keeps the rest, in index order', () => {
    const merged = mergedValues([url(1), url(4, 'old'), url(100)], [url(4, 'new'), url(2)]);
    expect(merged.map((v) => [v.index, v.data.value])).toEqual([
      [1, 'https://example.com/1'],
      [2, 'https://example.com/2'],
      [4, 'new'],
      [100, 'https://example.com/100'],
    ]);
  });
});

describe('checkNotOverwriting: overwrite=false with index=', () => {
  it('lets new indexes through and refuses taken ones with VALUE_ALREADY_EXISTS', () => {
    expect(() => checkNotOverwriting('88.100/X', [2, 3], new Set([1, 100]))).not.toThrow();
    const err = identifierErrorOf(() => checkNotOverwriting('88.100/X', [1, 2], new Set([1, 100])));
    expect(err.code).toBe(IdentifierErrorCode.VALUE_ALREADY_EXISTS);
    expect(err.handleCode()).toBe(201);
    expect(err.httpStatus()).toBe(409);
  });
});

describe('removableIndexes: DELETE with index=', () => {
  const stored = new Set([1, 2, 4, 100]);

  it('removes listed indexes that hold values', () => {
    expect(removableIndexes('88.100/X', [4, 2, 4], stored)).toEqual([2, 4]);
  });

  it('refuses the whole request when any listed index holds no value (Handle code 200)', () => {
    const err = identifierErrorOf(() => removableIndexes('88.100/X', [2, 3], stored));
    expect(err.code).toBe(IdentifierErrorCode.VALUES_NOT_FOUND);
    expect(err.handleCode()).toBe(200);
    expect(err.message).toMatch(/no values at index 3/);
  });

  it("never removes the server's HS_ADMIN at 100 this way", () => {
    const err = identifierErrorOf(() => removableIndexes('88.100/X', [1, 100], stored));
    expect(err.code).toBe(IdentifierErrorCode.VALUE_NOT_PERMITTED);
  });
});

describe('mintedHandleName: mintNewSuffix appends to the path as given', () => {
  it('appends after the slash the client included, or after a suffix stem', () => {
    expect(mintedHandleName('88.100.1000/', 'abc')).toBe('88.100.1000/abc');
    expect(mintedHandleName('88.100.1000/pump-', 'abc')).toBe('88.100.1000/pump-abc');
  });

  it('refuses a bare prefix, which has no slash to append to', () => {
    expect(identifierErrorOf(() => mintedHandleName('88.100.1000', 'abc')).code).toBe(IdentifierErrorCode.INVALID_HANDLE);
  });
});
