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
  ])('rejects %s', (_, value) => {
    expect(() => parseEnvelope(value)).toThrow(MalformedEnvelopeError);
  });
});
