import { RequestValidationError } from '@iip/platform-errors';
import { batchRegisterSchema, handleRecordSchema, handleValuesSchema } from './handle-value.schema';

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const url = { index: 1, type: 'URL', data: { format: 'string', value: 'https://example.com' } };

function fieldsOf(check: () => unknown): string[] {
  try {
    check();
  } catch (err) {
    if (err instanceof RequestValidationError) return err.fieldErrors.map((e) => `${e.field}: ${e.message}`);
    throw err;
  }
  return [];
}

describe('Handle value rules (one schema for PUT, batch and gRPC)', () => {
  it('accepts a full value and the optional parts', () => {
    const value = {
      index: 2,
      type: 'EQUIPMENT.SERIAL:v1/a_b-c',
      data: { format: 'hex', value: '0a1B' },
      ttl: 0,
      timestamp: '2026-01-01T00:00:00Z',
      access: 'granted',
      grantees: ['6f1c2b8e-0d7a-4c1e-9a55-0c2f3d4e5f60'],
    };
    expect(fieldsOf(() => handleRecordSchema.check({ template: { kind: 'pump', version: 2 }, values: [url, value] }))).toEqual([]);
    expect(fieldsOf(() => handleValuesSchema.check([{ ...url, type: '设备型号' }]))).toEqual([]);
  });

  it('takes null for an optional part as "not given", as the Handle API clients send it', () => {
    const value = { ...url, ttl: null, timestamp: null, access: null, grantees: null };
    expect(fieldsOf(() => handleRecordSchema.check({ template: null, values: [value] }))).toEqual([]);
    expect(fieldsOf(() => batchRegisterSchema.check({ items: [{ handle: '88.100/N', template: null, values: [value] }] }))).toEqual([]);
    expect(fieldsOf(() => handleRecordSchema.check({ values: [{ ...url, index: null }] }))).toEqual(['values.0.index: must be integer']);
  });

  it.each([
    ['index 0', { ...url, index: 0 }, 'values.0.index: must be >= 1'],
    ['index beyond int32', { ...url, index: 2 ** 31 }, 'values.0.index: must be <= 2147483647'],
    ['a fractional index', { ...url, index: 1.5 }, 'values.0.index: must be integer'],
    ['a type with a space', { ...url, type: 'A B' }, 'values.0.type: must match pattern "^[\\p{L}\\p{N}_.\\-/:]+$"'],
    ['an empty type', { ...url, type: '' }, 'values.0.type: must match pattern "^[\\p{L}\\p{N}_.\\-/:]+$"'],
    ['a 129-character type', { ...url, type: 'T'.repeat(129) }, 'values.0.type: must NOT have more than 128 characters'],
    [
      'an unknown format',
      { ...url, data: { format: 'jpeg', value: 'x' } },
      'values.0.data.format: must be equal to one of the allowed values',
    ],
    ['a null value', { ...url, data: { format: 'string', value: null } }, 'values.0.data.value: must be string'],
    ['a missing value', { ...url, data: { format: 'string' } }, 'values.0.data.value: is required'],
    ['an unknown field', { ...url, colour: 'red' }, 'values.0.colour: is not a known field'],
    ['a negative ttl', { ...url, ttl: -1 }, 'values.0.ttl: must be >= 0'],
    ['an unknown access', { ...url, access: 'secret' }, 'values.0.access: must be equal to one of the allowed values'],
    [
      'a grantee that is no UUID',
      { ...url, access: 'granted', grantees: ['acme'] },
      `values.0.grantees.0: must match pattern "${UUID_PATTERN}"`,
    ],
    [
      'a grantee as a urn:uuid (PostgreSQL would refuse it)',
      { ...url, access: 'granted', grantees: ['urn:uuid:6f1c2b8e-0d7a-4c1e-9a55-0c2f3d4e5f60'] },
      `values.0.grantees.0: must match pattern "${UUID_PATTERN}"`,
    ],
  ])('rejects %s', (_name, value, expected) => {
    expect(fieldsOf(() => handleRecordSchema.check({ values: [value] }))).toEqual([expected]);
    expect(fieldsOf(() => handleValuesSchema.check([value], 'values'))).toEqual([expected]);
  });

  const admin = (value: unknown) => ({ index: 2, type: 'HS_ADMIN', data: { format: 'admin', value } });
  const adminRef = { handle: '0.NA/88.100.1000', index: 200, permissions: '111111111111' };

  it('accepts each format in its Handle REST API representation', () => {
    const accepted = [
      { ...url, data: { format: 'hex', value: '' } },
      { ...url, data: { format: 'hex', value: 'DEADbeef' } },
      { ...url, data: { format: 'base64', value: 'aGk=' } },
      { ...url, data: { format: 'base64', value: 'aGlo' } },
      { ...url, type: 'HS_PUBKEY', data: { format: 'key', value: 'AAAAB3NzaC1yc2E=' } },
      admin(adminRef),
      { ...url, type: 'HS_VLIST', data: { format: 'vlist', value: [{ handle: '88.100.1000/ADMINS', index: 300 }] } },
      { ...url, type: 'HS_SITE', data: { format: 'site', value: { version: 1, servers: [] } } },
    ];
    for (const value of accepted) expect(fieldsOf(() => handleRecordSchema.check({ values: [value] }))).toEqual([]);
  });

  it("leaves index 100 unchecked: it is the server's own HS_ADMIN, dropped from what a client sends", () => {
    const echoed = { ...admin({ ...adminRef, tenantId: '6f1c2b8e-0d7a-4c1e-9a55-0c2f3d4e5f60' }), index: 100 };
    expect(fieldsOf(() => handleRecordSchema.check({ values: [echoed] }))).toEqual([]);
  });

  it.each([
    [
      'hex that is not hex',
      { ...url, data: { format: 'hex', value: 'zz' } },
      'values.0.data.value: must match pattern "^(?:[0-9A-Fa-f]{2})*$"',
    ],
    [
      'hex of an odd length',
      { ...url, data: { format: 'hex', value: 'abc' } },
      'values.0.data.value: must match pattern "^(?:[0-9A-Fa-f]{2})*$"',
    ],
    [
      'base64 that is not base64',
      { ...url, data: { format: 'base64', value: '!!!' } },
      'values.0.data.value: must match pattern "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"',
    ],
    [
      'a key that is not base64',
      { ...url, type: 'HS_PUBKEY', data: { format: 'key', value: 'not a key' } },
      'values.0.data.value: must match pattern "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"',
    ],
    ['an admin value that is a plain string', admin('0.NA/88.100.1000'), 'values.0.data.value: must be object'],
    [
      'admin permissions that are not 12 flags',
      admin({ ...adminRef, permissions: '1111' }),
      'values.0.data.value.permissions: must match pattern "^[01]{12}$"',
    ],
    ['an admin value naming an owner', admin({ ...adminRef, tenantId: 'x' }), 'values.0.data.value.tenantId: is not a known field'],
    ['an admin reference past int32', admin({ ...adminRef, index: 2 ** 31 }), 'values.0.data.value.index: must be <= 2147483647'],
    [
      'a value list entry without an index',
      { ...url, type: 'HS_VLIST', data: { format: 'vlist', value: [{ handle: '88.100.1000/A' }] } },
      'values.0.data.value.0.index: is required',
    ],
    ['a site that is a list', { ...url, type: 'HS_SITE', data: { format: 'site', value: [] } }, 'values.0.data.value: must be object'],
    ['a template version past int32', null, 'template.version: must be <= 2147483647'],
  ])('rejects %s', (_name, value, expected) => {
    const body = value === null ? { template: { kind: 'pump', version: 2 ** 31 }, values: [url] } : { values: [value] };
    expect(fieldsOf(() => handleRecordSchema.check(body))).toEqual([expected]);
  });

  it('bounds the number of values and batch items', () => {
    expect(fieldsOf(() => handleRecordSchema.check({ values: [] }))).toEqual(['values: must NOT have fewer than 1 items']);
    expect(fieldsOf(() => handleRecordSchema.check({ values: Array.from({ length: 501 }, (_, i) => ({ ...url, index: i + 1 })) }))).toEqual(
      ['values: must NOT have more than 500 items'],
    );
    const item = (i: number) => ({ handle: `88.100/X-${i}`, values: [url] });
    expect(fieldsOf(() => batchRegisterSchema.check({ items: Array.from({ length: 5000 }, (_, i) => item(i)) }))).toEqual([]);
    expect(fieldsOf(() => batchRegisterSchema.check({ items: Array.from({ length: 5001 }, (_, i) => item(i)) }))).toEqual([
      'items: must NOT have more than 5000 items',
    ]);
    expect(fieldsOf(() => batchRegisterSchema.check({ items: [{ handle: 'h', values: Array(101).fill(url) }] }))).toEqual([
      'items.0.values: must NOT have more than 100 items',
    ]);
    expect(fieldsOf(() => batchRegisterSchema.check({ items: [{ values: [url], template: { kind: 'Pump' } }] }))).toEqual([
      'items.0.handle: is required',
      'items.0.template.kind: must match pattern "^[a-z][a-z0-9-]{0,39}$"',
    ]);
  });

  it('expands the Handle clients\' shorthand "data": "…" to a string value, in PUT bodies and batch items', () => {
    const short = { index: 1, type: 'URL', data: 'https://example.com/short' };
    const expanded = { ...short, data: { format: 'string', value: 'https://example.com/short' } };
    expect(handleRecordSchema.check({ values: [short] })).toEqual({ values: [expanded] });
    expect(batchRegisterSchema.check({ items: [{ handle: '88.100/S', values: [short] }] })).toEqual({
      items: [{ handle: '88.100/S', values: [expanded] }],
    });
    // The shorthand is a string value: checked as one (length), and nothing else passes as data.
    expect(fieldsOf(() => handleRecordSchema.check({ values: [{ ...short, data: 'x'.repeat(65_537) }] }))).toEqual([
      'values.0.data.value: must NOT have more than 65536 characters',
    ]);
    expect(fieldsOf(() => handleRecordSchema.check({ values: [{ ...short, data: 42 }] }))).toEqual(['values.0.data: must be object']);
  });
});
