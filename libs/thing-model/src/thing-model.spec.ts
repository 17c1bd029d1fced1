import { RequestValidationError } from '@iip/platform-errors';
import { checkDefinition, compileModel } from './thing-model';

const fieldsOf = (input: unknown): string[] => {
  try {
    checkDefinition(input);
  } catch (err) {
    return (err as RequestValidationError).fieldErrors.map((e) => e.field).sort();
  }
  return [];
};

describe('thing model definitions', () => {
  it('accepts every data type with the facets that fit it', () => {
    const definition = checkDefinition({
      properties: {
        count: { type: 'int', min: 0, max: 10, step: 1, access: 'read-only' },
        flow: { type: 'float', unit: 'm3/h', access: 'read-only' },
        power: { type: 'double', unit: 'kW', access: 'read-only' },
        on: { type: 'bool', access: 'read-write' },
        label: { type: 'string', maxLength: 20, access: 'read-write' },
        mode: { type: 'enum', values: ['a', 'b'], access: 'read-write' },
        bearing: { type: 'struct', fields: { temp: { type: 'float', unit: 'Cel' } }, access: 'read-only' },
        spectrum: { type: 'array', items: { type: 'double' }, maxItems: 64, access: 'read-only' },
      },
      events: { fault: { level: 'fault', outputs: { code: { type: 'int' } } } },
      commands: { start: { mode: 'async', inputs: { speed: { type: 'int', min: 0 } } } },
    });
    expect(Object.keys(definition.properties)).toHaveLength(8);
  });

  it('names every bad path: facets of another type, bad units, inverted bounds, missing parts', () => {
    expect(
      fieldsOf({
        properties: {
          a: { type: 'bool', min: 1, access: 'read-only' },
          b: { type: 'float', unit: 'furlongs', access: 'read-only' },
          c: { type: 'int', min: 5, max: 1, access: 'read-only' },
          d: { type: 'enum', access: 'read-only' },
          e: { type: 'struct', access: 'read-only' },
          f: { type: 'int', step: 0.5, access: 'read-only' },
        },
      }),
    ).toEqual([
      'definition.properties.a.min',
      'definition.properties.b.unit',
      'definition.properties.c.min',
      'definition.properties.d.values',
      'definition.properties.e.fields',
      'definition.properties.f.step',
    ]);
    expect(fieldsOf({ properties: { x: { type: 'int' } } })).toEqual(['definition.properties.x.access']);
    expect(fieldsOf({ properties: { '1x': { type: 'int', access: 'read-only' } } })).toEqual(['definition.properties.1x']);
    expect(fieldsOf({ nonsense: {} })).toEqual(['definition.nonsense']);
  });

  it('compiles into validators: desired holds only read-write properties', () => {
    const model = compileModel(
      checkDefinition({
        properties: {
          temperature: { type: 'float', min: -40, max: 200, access: 'read-only' },
          speed: { type: 'int', min: 0, max: 3600, access: 'read-write' },
          bearing: { type: 'struct', fields: { temp: { type: 'float', max: 90 } }, access: 'read-only' },
        },
        commands: { set: { mode: 'sync', inputs: { speed: { type: 'int', max: 10 } } } },
      }),
    );
    expect(model.reported({ temperature: 20, speed: 100, bearing: { temp: 40 } }, 'reported')).toEqual([]);
    expect(
      model
        .reported({ bearing: { temp: 95 }, speed: 1.5 }, 'reported')
        .map((e) => e.field)
        .sort(),
    ).toEqual(['reported.bearing.temp', 'reported.speed']);
    expect(model.desired({ speed: 10 }, 'desired')).toEqual([]);
    expect(model.desired({ temperature: 10 }, 'desired')).toEqual([{ field: 'desired.temperature', message: 'is not in the thing model' }]);
    expect(model.commandInput('set')?.({ speed: 11 }, 'input')).toEqual([{ field: 'input.speed', message: 'must be <= 10' }]);
    expect(model.commandInput('nosuch')).toBeUndefined();
  });
});
