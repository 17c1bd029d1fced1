import { Principal, TenantKind } from '@iip/platform-auth';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { TemplateEntity } from './template.entity';
import { TemplatesRepository } from './templates.repository';
import { TemplateRef, TemplatedValue, TemplatesService, templatedObject } from './templates.service';
import { identifierErrorOf } from '../../test/identifier-error';

/** An in-memory stand-in for the repository (the repository is not under test here). */
class FakeTemplatesRepository {
  readonly rows: TemplateEntity[] = [];

  find(kind: string, version?: number): Promise<TemplateEntity | null> {
    const ofKind = this.rows.filter((r) => r.kind === kind).sort((a, b) => b.version - a.version);
    return Promise.resolve((version === undefined ? ofKind[0] : ofKind.find((r) => r.version === version)) ?? null);
  }

  insertNextVersion(kind: string, schema: Record<string, unknown>): Promise<TemplateEntity> {
    const version = Math.max(0, ...this.rows.filter((r) => r.kind === kind).map((r) => r.version)) + 1;
    const row = Object.assign(new TemplateEntity(), { kind, version, schema, createdAt: new Date('2025-01-01T00:00:00Z') });
    this.rows.push(row);
    return Promise.resolve(row);
  }

  list(): Promise<TemplateEntity[]> {
    return Promise.resolve([...this.rows]);
  }
}

function principal(kind: TenantKind): Principal {
  return {
    clientId: 'client',
    tenant: { id: '00000000-0000-4000-8000-000000000001', kind, path: ['00000000-0000-4000-8000-000000000001'] },
    scopes: new Set(['prefixes:write']),
    expiresAt: Date.now() / 1000 + 3600,
  };
}

const operator = principal('platform');

const DEVICE = {
  type: 'object',
  required: ['SERIAL', 'MODEL'],
  properties: {
    SERIAL: { type: 'string', pattern: '^SN-' },
    MODEL: { type: 'string' },
    URL: { type: 'string', format: 'uri' },
  },
};

/** Validators are cached by kind@version, so each distinct schema in a test gets its own version. */
const device = (schema: Record<string, unknown> = DEVICE, version = 1): TemplateRef => ({ kind: 'device', version, schema });

function value(index: number, type: string, v: unknown, format = 'string'): TemplatedValue {
  return { index, type, data: { format, value: v } };
}

async function rejection(work: Promise<unknown>): Promise<IdentifierError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof IdentifierError) return err;
    throw err;
  }
  throw new Error('expected an IdentifierError');
}

describe('templatedObject', () => {
  it('keys each value by type, with data.value as the property', () => {
    expect(templatedObject([value(1, 'SERIAL', 'SN-1'), value(2, 'MODEL', 'P-100')])).toEqual({ SERIAL: 'SN-1', MODEL: 'P-100' });
  });

  it('gathers values sharing a type into an array in index order', () => {
    expect(templatedObject([value(7, 'SERIAL', 'SN-2'), value(3, 'SERIAL', 'SN-1'), value(5, 'MODEL', 'P')])).toEqual({
      SERIAL: ['SN-1', 'SN-2'],
      MODEL: 'P',
    });
  });

  it('leaves out the server-written HS_ADMIN and keeps structured values as they are', () => {
    expect(
      templatedObject([
        value(100, 'HS_ADMIN', { handle: '0.NA/88', index: 200 }, 'admin'),
        value(2, 'HS_VLIST', [{ handle: 'a/b' }], 'vlist'),
      ]),
    ).toEqual({ HS_VLIST: [{ handle: 'a/b' }] });
  });

  it('treats a type named __proto__ as an ordinary key', () => {
    const o = templatedObject([value(1, '__proto__', 'x')]);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
  });
});

describe('TemplatesService.validate', () => {
  let service: TemplatesService;
  beforeEach(() => {
    service = new TemplatesService(new FakeTemplatesRepository() as unknown as TemplatesRepository);
  });

  it('accepts values that satisfy the template', () => {
    expect(() =>
      service.validate(device(), [value(1, 'SERIAL', 'SN-1'), value(2, 'MODEL', 'P-100'), value(3, 'URL', 'https://example.com/p')]),
    ).not.toThrow();
  });

  it('accepts types the template does not mention unless it forbids them', () => {
    expect(() => service.validate(device(), [value(1, 'SERIAL', 'SN-1'), value(2, 'MODEL', 'P'), value(3, 'EMAIL', 'x')])).not.toThrow();
    const closed = { ...DEVICE, additionalProperties: false };
    const err = identifierErrorOf(() =>
      service.validate(device(closed, 2), [value(1, 'SERIAL', 'SN-1'), value(2, 'MODEL', 'P'), value(3, 'EMAIL', 'x')]),
    );
    expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(err.details).toEqual({
      template: 'device@2',
      errors: [{ pointer: '/EMAIL', message: 'is not allowed by the template', index: 3 }],
    });
  });

  it('rejects a missing required type, naming it', () => {
    const err = identifierErrorOf(() => service.validate(device(), [value(1, 'SERIAL', 'SN-1')]));
    expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(err.message).toBe('Values do not match template device@1: /MODEL: is required');
    expect(err.details).toEqual({ template: 'device@1', errors: [{ pointer: '/MODEL', message: 'is required' }] });
  });

  it('rejects a pattern violation, pointing at the value', () => {
    const err = identifierErrorOf(() => service.validate(device(), [value(4, 'SERIAL', 'XX-1'), value(2, 'MODEL', 'P')]));
    expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(err.message).toBe('Values do not match template device@1: /SERIAL: must match pattern "^SN-"');
    expect(err.details?.errors).toEqual([{ pointer: '/SERIAL', message: 'must match pattern "^SN-"', index: 4 }]);
  });

  it('rejects a value of the wrong JSON type and a bad format', () => {
    const err = identifierErrorOf(() =>
      service.validate(device(), [value(1, 'SERIAL', 'SN-1'), value(2, 'MODEL', { name: 'P' }, 'vlist'), value(3, 'URL', 'not a uri')]),
    );
    expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(err.details?.errors).toEqual([
      { pointer: '/MODEL', message: 'must be string', index: 2 },
      { pointer: '/URL', message: 'must match format "uri"', index: 3 },
    ]);
    expect(err.message).toBe('Values do not match template device@1: /MODEL: must be string; /URL: must match format "uri"');
  });

  it('reports every violation at once', () => {
    const err = identifierErrorOf(() => service.validate(device(), [value(1, 'SERIAL', 'XX'), value(3, 'URL', 'nope')]));
    expect((err.details?.errors as unknown[]).length).toBe(3);
  });

  it('sees two values of one type as an array', () => {
    const many = {
      type: 'object',
      required: ['SERIAL'],
      properties: {
        SERIAL: {
          anyOf: [
            { type: 'string', pattern: '^SN-' },
            { type: 'array', items: { type: 'string', pattern: '^SN-' }, maxItems: 3 },
          ],
        },
      },
    };
    expect(() => service.validate(device(many, 2), [value(1, 'SERIAL', 'SN-1')])).not.toThrow();
    expect(() => service.validate(device(many, 2), [value(1, 'SERIAL', 'SN-1'), value(2, 'SERIAL', 'SN-2')])).not.toThrow();

    const err = identifierErrorOf(() => service.validate(device(many, 2), [value(1, 'SERIAL', 'SN-1'), value(5, 'SERIAL', 'XX-2')]));
    expect(err.details?.errors).toEqual(expect.arrayContaining([{ pointer: '/SERIAL/1', message: 'must match pattern "^SN-"', index: 5 }]));

    // A template saying "a string" allows one value of the type.
    const single = identifierErrorOf(() =>
      service.validate(device(), [value(1, 'SERIAL', 'SN-1'), value(2, 'SERIAL', 'SN-2'), value(3, 'MODEL', 'P')]),
    );
    expect(single.details?.errors).toEqual([{ pointer: '/SERIAL', message: 'must be string' }]);
  });

  it('escapes types holding "/" or "~" in pointers and still finds the value', () => {
    const schema = { type: 'object', properties: { 'a/b~c': { type: 'string' } } };
    const err = identifierErrorOf(() => service.validate(device(schema), [value(9, 'a/b~c', 1)]));
    expect(err.details?.errors).toEqual([{ pointer: '/a~1b~0c', message: 'must be string', index: 9 }]);
  });

  it('names at most 20 violations and counts the rest', () => {
    const properties = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`T${i}`, { type: 'string' }]));
    const schema = { type: 'object', required: Object.keys(properties), properties };
    const err = identifierErrorOf(() => service.validate(device(schema), []));
    expect(err.details?.errors).toHaveLength(20);
    expect(err.message).toMatch(/; and 5 more$/);
    expect(err.message.match(/: is required/g)).toHaveLength(20);
  });

  it('compiles a template version once', async () => {
    const repo = new FakeTemplatesRepository();
    const s = new TemplatesService(repo as unknown as TemplatesRepository);
    const created = await s.create(operator, 'device', DEVICE);
    // The stored row changing under the cache would be noticed by nobody: versions are immutable.
    created.schema = { type: 'object', required: ['NEVER'], properties: { NEVER: { type: 'string' } } };
    expect(() => s.validate(created, [value(1, 'SERIAL', 'SN-1'), value(2, 'MODEL', 'P')])).not.toThrow();
  });

  it('answers a stored template that no longer compiles with TEMPLATE_UNUSABLE (422: store a new version), never a 500', () => {
    const err = (() => {
      try {
        service.validate(device({ type: 'object', nonsense: true }), []);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(IdentifierError);
    expect((err as IdentifierError).code).toBe(IdentifierErrorCode.TEMPLATE_UNUSABLE);
    expect((err as IdentifierError).httpStatus()).toBe(422);
    expect((err as Error).message).toMatch(/^Template device@1 was stored under older rules/);
  });
});

describe('TemplatesService.create', () => {
  let repo: FakeTemplatesRepository;
  let service: TemplatesService;
  beforeEach(() => {
    repo = new FakeTemplatesRepository();
    service = new TemplatesService(repo as unknown as TemplatesRepository);
  });

  it('stores a template as the next version of its kind', async () => {
    expect(await service.create(operator, 'device', DEVICE)).toMatchObject({ kind: 'device', version: 1, schema: DEVICE });
    expect(await service.create(operator, 'device', { ...DEVICE, required: ['SERIAL'] })).toMatchObject({ kind: 'device', version: 2 });
    expect(await service.create(operator, 'batch-2', { type: 'object' })).toMatchObject({ kind: 'batch-2', version: 1 });
  });

  it('accepts the 2020-12 $schema, $defs and the same $id in two templates', async () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'https://iip.example.com/templates/device',
      type: 'object',
      $defs: { serial: { type: 'string', pattern: '^SN-' } },
      properties: { SERIAL: { $ref: '#/$defs/serial' } },
    };
    await service.create(operator, 'device', schema);
    const second = await service.create(operator, 'device', schema);
    expect(second.version).toBe(2);
    expect(() => service.validate(second, [value(1, 'SERIAL', 'XX')])).toThrow(/\/SERIAL: must match pattern "\^SN-"/);
  });

  it('lets only the platform operator create templates', async () => {
    for (const kind of ['group', 'subsidiary', 'park', 'park-member'] as const) {
      const err = await rejection(service.create(principal(kind), 'device', DEVICE));
      expect(err.code).toBe(IdentifierErrorCode.PREFIX_NOT_OWNED);
      expect(err.httpStatus()).toBe(403);
    }
    expect(repo.rows).toHaveLength(0);
  });

  it.each(['', 'Device', '1device', '-device', 'device_1', 'dev ice', 'a'.repeat(41), 'gerät'])(
    'refuses the kind name %j',
    async (kind) => {
      const err = await rejection(service.create(operator, kind, DEVICE));
      expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
      expect(err.message).toMatch(/^Template kind/);
      expect(repo.rows).toHaveLength(0);
    },
  );

  it('accepts kind names up to 40 characters', async () => {
    await expect(service.create(operator, `a${'-9'.repeat(19)}b`, DEVICE)).resolves.toMatchObject({ version: 1 });
  });

  it.each([
    ['an unknown keyword', { type: 'object', properties: { SERIAL: { type: 'string', patern: '^SN-' } } }],
    ['an unknown format', { type: 'object', properties: { SERIAL: { type: 'string', format: 'serial-number' } } }],
    ['a bad type name', { type: 'object', properties: { SERIAL: { type: 'text' } } }],
    ['a required type missing from properties', { type: 'object', required: ['SERIAL'], properties: {} }],
    ['a keyword without its type', { type: 'object', properties: { SERIAL: { pattern: '^SN-' } } }],
    ['a bad regular expression', { type: 'object', properties: { SERIAL: { type: 'string', pattern: '(' } } }],
    ['a dangling $ref', { type: 'object', properties: { SERIAL: { $ref: '#/$defs/missing' } } }],
    ['a remote $ref', { type: 'object', properties: { SERIAL: { $ref: 'https://example.com/serial.json' } } }],
  ])('refuses a schema with %s as INVALID_VALUE', async (_, schema) => {
    const err = await rejection(service.create(operator, 'device', schema));
    expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(err.message).toMatch(/^Template schema does not compile: /);
    expect(repo.rows).toHaveLength(0);
  });

  it.each([
    ['not an object at the root', { type: 'array', items: { type: 'string' } }, /must have "type": "object"/],
    ['no root type', { properties: { SERIAL: { type: 'string' } } }, /must have "type": "object"/],
    ['another draft', { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }, /draft 2020-12/],
    ['a property that is no value type', { type: 'object', properties: { 'serial number': { type: 'string' } } }, /not a value type/],
    ['a required name that is no value type', { type: 'object', required: ['a b'] }, /not a value type/],
    ['HS_ADMIN', { type: 'object', properties: { HS_ADMIN: { type: 'object' } } }, /server writes itself/],
    ['$async', { $async: true, type: 'object' }, /asynchronous/],
    ['an array', [{ type: 'object' }], /must be a JSON object/],
    ['too many bytes', { type: 'object', description: 'x'.repeat(70_000) }, /larger than 65536 bytes/],
  ])('refuses a schema with %s', async (_, schema, message) => {
    const err = await rejection(service.create(operator, 'device', schema));
    expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(err.message).toMatch(message);
    expect(repo.rows).toHaveLength(0);
  });
});

describe('TemplatesService.resolve', () => {
  it('finds the latest or a given version, and calls anything else unknown', async () => {
    const repo = new FakeTemplatesRepository();
    const service = new TemplatesService(repo as unknown as TemplatesRepository);
    await service.create(operator, 'device', DEVICE);
    await service.create(operator, 'device', { type: 'object' });
    expect((await service.resolve('device')).version).toBe(2);
    expect((await service.resolve('device', 1)).schema).toEqual(DEVICE);

    const missing = await rejection(service.resolve('device', 3));
    expect(missing.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(missing.message).toBe('Unknown template device@3');
    expect((await rejection(service.resolve('product'))).message).toBe('Unknown template product@latest');
  });
});

describe('template patterns run on RE2, in linear time', () => {
  let repo: FakeTemplatesRepository;
  let service: TemplatesService;
  beforeEach(() => {
    repo = new FakeTemplatesRepository();
    service = new TemplatesService(repo as unknown as TemplatesRepository);
  });
  const withPattern = (pattern: string) => ({ type: 'object', properties: { SERIAL: { type: 'string', pattern } } });

  it('answers a catastrophic pattern at once instead of backtracking (a backtracking engine would never return here)', async () => {
    const template = await service.create(operator, 'device', withPattern('^(a+)+$'));
    const err = identifierErrorOf(() => service.validate(template, [value(1, 'SERIAL', `${'a'.repeat(40)}!`)]));
    expect(err.message).toBe('Values do not match template device@1: /SERIAL: must match pattern "^(a+)+$"');
    expect(() => service.validate(template, [value(1, 'SERIAL', 'a'.repeat(40))])).not.toThrow();
  });

  it('reads patterns as ECMA-262 writes them (\\u escapes, named groups, Unicode classes, patternProperties)', async () => {
    const template = await service.create(operator, 'device', {
      type: 'object',
      properties: {
        SERIAL: { type: 'string', pattern: '^\\u0053(?<n>N)-\\p{Lu}+$' },
        MODEL: { type: 'object', patternProperties: { '^x-': { type: 'string' } } },
      },
    });
    expect(() => service.validate(template, [value(1, 'SERIAL', 'SN-ÄB'), value(2, 'MODEL', { 'x-a': 'ok' }, 'site')])).not.toThrow();
    expect(identifierErrorOf(() => service.validate(template, [value(1, 'SERIAL', 'SN-ab')])).message).toMatch(
      /SERIAL: must match pattern/,
    );
    expect(
      identifierErrorOf(() => service.validate(template, [value(1, 'SERIAL', 'SN-A'), value(2, 'MODEL', { 'x-a': 1 }, 'site')])).message,
    ).toMatch(/MODEL\/x-a: must be string/);
  });

  it.each([
    ['a lookahead', '^(?=SN)SN-\\d+$'],
    ['a lookbehind', '(?<!X)SN'],
    ['a backreference', '^(a)\\1$'],
    ['a repeat past 1000', '^a{1001}$'],
  ])('refuses at store time %s, naming the pattern', async (_name, pattern) => {
    const err = await rejection(service.create(operator, 'device', withPattern(pattern)));
    expect(err.code).toBe(IdentifierErrorCode.INVALID_VALUE);
    expect(err.message).toContain(`pattern ${JSON.stringify(pattern)} cannot be used`);
    expect(err.details).toEqual({ pattern });
    expect(repo.rows).toHaveLength(0);
  });
});
