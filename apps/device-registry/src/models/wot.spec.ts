import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileModel } from '@iip/thing-model';
import { TdImportError, exportThingDescription, importThingDescription } from './wot';

// The W3C's own artefacts (wot-thing-description repository, W3C Software and Document License).
const WOT = join(__dirname, '../../test/fixtures/wot');
const examples = readdirSync(join(WOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .sort();
const read = (file: string) => JSON.parse(readFileSync(join(WOT, 'examples', file), 'utf8')) as Record<string, unknown>;

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validTd = ajv.compile(JSON.parse(readFileSync(join(WOT, 'td-json-schema-validation.json'), 'utf8')));
const settings = { publicUrl: 'https://registry.example.com', tokenUrl: 'https://tenancy.example.com/oauth/token' };

describe('W3C WoT Thing Descriptions ⇄ thing models', () => {
  it('finds the W3C examples', () => {
    expect(examples.filter((f) => f.endsWith('-td.json')).length).toBeGreaterThan(15);
  });

  // Every W3C TD example holds only what a model can: each must import (a refusal would fail here).
  it.each(examples.filter((f) => f.endsWith('-td.json')))('%s imports and exports as a valid TD', (file) => {
    const td = read(file);
    const imported = importThingDescription(td);
    expect(imported.name).toBe(td.title);
    // What the TD describes survives: every property, action and event by name, types mapped.
    expect(Object.keys(imported.definition.properties).sort()).toEqual(Object.keys(td.properties ?? {}).sort());
    expect(Object.keys(imported.definition.commands).sort()).toEqual(Object.keys(td.actions ?? {}).sort());
    expect(Object.keys(imported.definition.events).sort()).toEqual(Object.keys(td.events ?? {}).sort());
    for (const [name, p] of Object.entries((td.properties ?? {}) as Record<string, { readOnly?: boolean }>)) {
      expect(imported.definition.properties[name].access).toBe(p.readOnly ? 'read-only' : 'read-write');
    }
    if (td.forms || td.securityDefinitions) expect(imported.notes.join('\n')).toMatch(/is not kept/);

    const exported = exportThingDescription({ id: 'b1d7d6d2-9d1b-4a57-9a76-0d3b0a6c1f10', version: 3, ...imported }, settings);
    expect(validTd(exported) ? [] : validTd.errors).toEqual([]);
    // And back: the exported TD imports into the same definition.
    expect(importThingDescription(exported).definition).toEqual(imported.definition);
  });

  it.each(examples.filter((f) => f.endsWith('-tm.json')))('Thing Model %s imports or is refused with a reason', (file) => {
    try {
      const imported = importThingDescription(read(file));
      expect(validTd(exportThingDescription({ id: 'm', version: 1, ...imported }, settings)) ? [] : validTd.errors).toEqual([]);
    } catch (err) {
      expect(err).toBeInstanceOf(TdImportError);
      expect((err as TdImportError).problems[0].message.length).toBeGreaterThan(5);
    }
  });

  it('keeps bounds and units, so a device of the imported model refuses a reported value out of range, naming the path', () => {
    const imported = importThingDescription(read('ex068-td.json'));
    expect(imported.definition.properties.adjustRpm).toMatchObject({ type: 'double', min: 200, max: 1200, access: 'read-write' });
    const model = compileModel(imported.definition);
    expect(model.reported({ adjustRpm: 800, switch: true }, 'reported')).toEqual([]);
    expect(model.reported({ adjustRpm: 5000 }, 'reported')).toEqual([{ field: 'reported.adjustRpm', message: 'must be <= 1200' }]);
    expect(model.reported({ status: 'broken_value' }, 'reported')[0].field).toBe('reported.status');
    expect(model.reported({ nosuch: 1 }, 'reported')).toEqual([{ field: 'reported.nosuch', message: 'is not in the thing model' }]);
  });

  it('refuses what a model cannot hold, naming the path', () => {
    const td = {
      '@context': 'https://www.w3.org/2022/wot/td/v1.1',
      title: 'Odd',
      properties: {
        anything: { forms: [{ href: 'x' }] },
        tuple: { type: 'array', items: [{ type: 'number' }], forms: [] },
        hot: { type: 'number', unit: 'degrees of hotness', forms: [] },
      },
    };
    expect(() => importThingDescription(td)).toThrow(TdImportError);
    try {
      importThingDescription(td);
    } catch (err) {
      expect((err as TdImportError).problems.map((p) => p.field)).toEqual([
        'properties.anything',
        'properties.tuple.items',
        'properties.hot.unit',
      ]);
    }
    expect(() => importThingDescription({ title: 'no context' })).toThrow('@context');
  });

  it('maps common unit symbols to UCUM', () => {
    const td = {
      '@context': 'https://www.w3.org/2022/wot/td/v1.1',
      title: 'T',
      properties: { t: { type: 'number', unit: '°C', forms: [] } },
    };
    expect(importThingDescription(td).definition.properties.t.unit).toBe('Cel');
  });
});
