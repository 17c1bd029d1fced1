import { MalformedEnvelopeError, createEnvelope, parseEnvelope } from './envelope';

describe('event envelope', () => {
  it('round-trips through JSON', () => {
    const env = createEnvelope({ type: 'TenantOnboarded', source: 'iip.tenancy', tenantId: 't1', subject: 't1', data: { a: 1 } });
    expect(parseEnvelope(Buffer.from(JSON.stringify(env)))).toEqual(env);
    expect(env.dataVersion).toBe('1');
    expect(new Date(env.time).toISOString()).toBe(env.time);
  });

  it.each([
    ['empty value', null],
    ['not JSON', Buffer.from('{oops')],
    [
      'missing id',
      Buffer.from(
        JSON.stringify({ type: 'x', source: 's', tenantId: 't', time: new Date().toISOString(), subject: 's', dataVersion: '1', data: {} }),
      ),
    ],
    [
      'bad time',
      Buffer.from(
        JSON.stringify({ id: '1', type: 'x', source: 's', tenantId: 't', time: 'yesterday', subject: 's', dataVersion: '1', data: {} }),
      ),
    ],
    [
      'a U+0000 in its data',
      Buffer.from(JSON.stringify(createEnvelope({ type: 'x', source: 's', tenantId: 't', subject: 's', data: { name: 'a\u0000b' } }))),
    ],
    [
      'a lone surrogate in its subject',
      Buffer.from(JSON.stringify(createEnvelope({ type: 'x', source: 's', tenantId: 't', subject: '\ud800', data: {} }))),
    ],
    ['data nested 10,000 deep', Buffer.from(`{"id":"1","data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`)],
  ])('rejects %s', (_, value) => {
    expect(() => parseEnvelope(value)).toThrow(MalformedEnvelopeError);
  });
});
