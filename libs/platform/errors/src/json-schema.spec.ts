import { RequestValidationError } from './validation';
import { requestSchema } from './json-schema';

describe('requestSchema', () => {
  const schema = requestSchema<{ items: { name: string; size?: number }[] }>({
    type: 'object',
    additionalProperties: false,
    required: ['items'],
    properties: {
      items: {
        type: 'array',
        maxItems: 3,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name: { type: 'string', maxLength: 5 }, size: { type: 'integer', minimum: 1 } },
        },
      },
    },
  });

  const fieldsOf = (value: unknown, parent?: string) => {
    try {
      schema.check(value, parent);
    } catch (err) {
      if (err instanceof RequestValidationError) return err.fieldErrors;
      throw err;
    }
    return [];
  };

  it('returns valid input as it is', () => {
    const input = { items: [{ name: 'a', size: 2 }] };
    expect(schema.check(input)).toBe(input);
  });

  it.each([
    ['a missing field', {}, [{ field: 'items', message: 'is required' }]],
    ['an unknown field', { items: [], extra: 1 }, [{ field: 'extra', message: 'is not a known field' }]],
    ['a nested unknown field', { items: [{ name: 'a', colour: 'red' }] }, [{ field: 'items.0.colour', message: 'is not a known field' }]],
    ['a nested missing field', { items: [{ size: 1 }] }, [{ field: 'items.0.name', message: 'is required' }]],
    [
      'too many items',
      { items: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }] },
      [{ field: 'items', message: 'must NOT have more than 3 items' }],
    ],
    ['a wrong type', { items: [{ name: 'a', size: 1.5 }] }, [{ field: 'items.0.size', message: 'must be integer' }]],
    ['not an object at all', 'text', [{ field: '(body)', message: 'must be object' }]],
  ])('names every bad field: %s', (_name, input, expected) => {
    expect(fieldsOf(input)).toEqual(expected);
  });

  it('lists all bad fields at once, under a parent path when given', () => {
    expect(fieldsOf({ items: [{ name: 'toolong' }, { name: 'b', size: 0 }] }, 'body')).toEqual([
      { field: 'body.items.0.name', message: 'must NOT have more than 5 characters' },
      { field: 'body.items.1.size', message: 'must be >= 1' },
    ]);
  });
});
