import { IdentifierErrorCode } from '../identifier.errors';
import { jsonDepthExceeds } from '@iip/platform-errors';
import { expectedVersionFromGrpc, templateFromGrpc, valuesFromGrpc } from './grpc-input';
import { identifierErrorOf } from '../../test/identifier-error';

const value = (valueJson: string) => ({ index: 1, type: 'DATA', format: 'site', valueJson, ttl: 0, access: '', grantees: [] });

describe('gRPC input', () => {
  it('refuses value_json nested past the limit before parsing it', () => {
    const deep = `{"v":${'['.repeat(5_000)}1${']'.repeat(5_000)}}`;
    const err = identifierErrorOf(() => valuesFromGrpc([value(deep)]));
    expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(err.message).toBe('Value 1: value_json is nested deeper than 32 levels');
  });

  it('counts nesting outside strings only, escaped quotes included', () => {
    expect(jsonDepthExceeds(JSON.stringify({ v: '['.repeat(100) }), 32)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ v: `\\"${'{'.repeat(100)}` }), 32)).toBe(false);
    expect(jsonDepthExceeds(`${'['.repeat(32)}${']'.repeat(32)}`, 32)).toBe(false);
    expect(jsonDepthExceeds(`${'['.repeat(33)}${']'.repeat(33)}`, 32)).toBe(true);
    expect(valuesFromGrpc([value(JSON.stringify({ v: '['.repeat(5_000) }))])).toHaveLength(1);
  });

  it('refuses negative versions, which int32 fields can carry', () => {
    expect(expectedVersionFromGrpc(0)).toBeUndefined();
    expect(expectedVersionFromGrpc(7)).toBe(7);
    expect(identifierErrorOf(() => expectedVersionFromGrpc(-1)).code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(identifierErrorOf(() => templateFromGrpc({ kind: 'pump', version: -3 })).code).toBe(IdentifierErrorCode.INVALID_VALUE);
  });
});
