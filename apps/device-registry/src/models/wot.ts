import { FieldError } from '@iip/platform-errors';
import { CommandDef, DataDef, EventDef, MEMBER_NAME, PropertyDef, ThingModelDefinition, checkDefinition } from '@iip/thing-model';
import { isUcumUnit } from '@iip/thing-model';

/**
 * W3C WoT Thing Description 1.1 ⇄ thing model. Import keeps what a model holds (data schemas,
 * units, read-only, actions as commands, events) and lists in `notes` what it leaves out
 * (forms, security, links): a model describes a kind of device, not where one is reached.
 * What a model cannot hold at all (a property without a type, a tuple array, a unit that is
 * not UCUM) refuses the import with the path and the reason.
 */
export const TD_CONTEXT = 'https://www.w3.org/2022/wot/td/v1.1';
/** Where the model's own terms (event levels, command modes) live in an exported TD. */
export const IIP_TD_TERMS = 'https://iip.dev/ns/td#';

export interface ImportedThingModel {
  name: string;
  description?: string;
  definition: ThingModelDefinition;
  notes: string[];
}

export class TdImportError extends Error {
  constructor(readonly problems: FieldError[]) {
    super(`The Thing Description cannot be held by a thing model: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Units TDs commonly write in symbols rather than UCUM. */
const UNIT_SYMBOLS: Record<string, string> = {
  '°C': 'Cel',
  '℃': 'Cel',
  degC: 'Cel',
  celsius: 'Cel',
  '°F': '[degF]',
  percent: '%',
  rpm: '{rev}/min',
  kWh: 'kW.h',
};

/** TD data-schema terms a model has no place for; dropped with a note. */
const DROPPED_DATA_TERMS = [
  'format',
  'contentEncoding',
  'contentMediaType',
  'const',
  'default',
  'pattern',
  'oneOf',
  '@type',
  'titles',
  'descriptions',
];

export function importThingDescription(td: unknown): ImportedThingModel {
  const problems: FieldError[] = [];
  const notes = new Set<string>();
  if (!isObject(td)) throw new TdImportError([{ field: '(body)', message: 'must be a JSON object (a Thing Description)' }]);
  const context = Array.isArray(td['@context']) ? td['@context'] : [td['@context']];
  if (!context.some((c) => typeof c === 'string' && c.startsWith('https://www.w3.org/20') && c.includes('/wot/td/'))) {
    problems.push({ field: '@context', message: `must name the WoT TD context (${TD_CONTEXT})` });
  }
  if (typeof td.title !== 'string' || td.title.trim() === '') problems.push({ field: 'title', message: 'is required' });
  if (isObject(td.links) || Array.isArray(td.links)) {
    const links = Array.isArray(td.links) ? td.links : [td.links];
    if (links.some((l) => isObject(l) && (l.rel === 'tm:extends' || l.rel === 'tm:submodel'))) {
      problems.push({ field: 'links', message: 'extends or composes other Thing Models; import the resolved model' });
    } else notes.add('links are not kept');
  }
  for (const term of ['forms', 'securityDefinitions', 'security', 'base', 'id'])
    if (td[term] !== undefined) notes.add(`${term} is not kept`);

  const data = (schema: unknown, path: string): DataDef | undefined => {
    if (!isObject(schema)) {
      problems.push({ field: path, message: 'must be a data schema object' });
      return undefined;
    }
    if (JSON.stringify(schema).includes('"tm:ref"')) {
      problems.push({ field: path, message: 'refers to another Thing Model (tm:ref); import the resolved model' });
      return undefined;
    }
    for (const term of DROPPED_DATA_TERMS) if (schema[term] !== undefined) notes.add(`${path}.${term} is not kept`);
    const base: Partial<DataDef> = {};
    if (typeof schema.title === 'string') base.title = schema.title.slice(0, 200);
    if (typeof schema.description === 'string') base.description = schema.description.slice(0, 2000);
    if (schema.unit !== undefined) {
      const unit = typeof schema.unit === 'string' ? (isUcumUnit(schema.unit) ? schema.unit : UNIT_SYMBOLS[schema.unit]) : undefined;
      if (unit === undefined) problems.push({ field: `${path}.unit`, message: `${JSON.stringify(schema.unit)} is not a UCUM unit code` });
      else base.unit = unit;
    }
    for (const term of ['exclusiveMinimum', 'exclusiveMaximum']) {
      if (schema[term] !== undefined)
        problems.push({ field: `${path}.${term}`, message: 'exclusive bounds cannot be held (a model bounds inclusively)' });
    }
    const type = schema.type ?? (isObject(schema.properties) ? 'object' : Array.isArray(schema.enum) ? 'string' : undefined);
    const numeric = (t: 'int' | 'double'): DataDef => {
      const def: DataDef = { ...base, type: t };
      if (typeof schema.minimum === 'number') def.min = schema.minimum;
      if (typeof schema.maximum === 'number') def.max = schema.maximum;
      if (typeof schema.multipleOf === 'number') def.step = schema.multipleOf;
      return def;
    };
    switch (type) {
      case 'integer':
        return numeric('int');
      case 'number':
        return numeric('double');
      case 'boolean':
        return { ...base, type: 'bool' };
      case 'string': {
        if (Array.isArray(schema.enum)) {
          if (!schema.enum.every((v) => typeof v === 'string')) {
            problems.push({ field: `${path}.enum`, message: 'holds values that are not strings' });
            return undefined;
          }
          delete base.unit;
          return { ...base, type: 'enum', values: [...new Set(schema.enum)] };
        }
        const def: DataDef = { ...base, type: 'string' };
        if (typeof schema.maxLength === 'number') def.maxLength = schema.maxLength;
        return def;
      }
      case 'object': {
        if (!isObject(schema.properties) || Object.keys(schema.properties).length === 0) {
          problems.push({ field: path, message: 'is an object without properties; a model needs its fields' });
          return undefined;
        }
        delete base.unit;
        return { ...base, type: 'struct', fields: members(schema.properties, `${path}.properties`, data) };
      }
      case 'array': {
        if (!isObject(schema.items)) {
          problems.push({ field: `${path}.items`, message: 'must be one data schema (tuples and untyped arrays cannot be held)' });
          return undefined;
        }
        const items = data(schema.items, `${path}.items`);
        if (!items) return undefined;
        const def: DataDef = { ...base, type: 'array', items };
        delete def.unit;
        if (typeof schema.minItems === 'number') def.minItems = schema.minItems;
        if (typeof schema.maxItems === 'number') def.maxItems = schema.maxItems;
        return def;
      }
      case undefined:
        problems.push({ field: path, message: 'has no type; a model needs to know what the value is' });
        return undefined;
      default:
        problems.push({
          field: `${path}.type`,
          message: `${JSON.stringify(type)} cannot be held (int, double, bool, string, enum, struct and array can)`,
        });
        return undefined;
    }
  };

  /** A data schema as a set of named parameters: an object's properties, or one parameter `value`. */
  const parameters = (schema: unknown, path: string): Record<string, DataDef> | undefined => {
    if (schema === undefined) return undefined;
    if (
      isObject(schema) &&
      (schema.type === 'object' || (schema.type === undefined && isObject(schema.properties))) &&
      isObject(schema.properties)
    ) {
      return members(schema.properties, `${path}.properties`, data);
    }
    const single = data(schema, path);
    return single ? { value: single } : undefined;
  };

  const properties = members(td.properties, 'properties', (p, path): PropertyDef | undefined => {
    const def = data(p, path);
    if (!def || !isObject(p)) return undefined;
    if (p.observable !== undefined) notes.add(`${path}.observable is not kept (every reported property can be watched)`);
    return { ...def, access: p.readOnly === true ? 'read-only' : 'read-write' };
  });
  const commands = members(td.actions, 'actions', (a, path): CommandDef | undefined => {
    if (!isObject(a)) {
      problems.push({ field: path, message: 'must be an action affordance object' });
      return undefined;
    }
    const command: CommandDef = { mode: a.synchronous === false ? 'async' : 'sync' };
    if (typeof a.title === 'string') command.title = a.title.slice(0, 200);
    if (typeof a.description === 'string') command.description = a.description.slice(0, 2000);
    const inputs = parameters(a.input, `${path}.input`);
    const outputs = parameters(a.output, `${path}.output`);
    if (inputs) command.inputs = inputs;
    if (outputs) command.outputs = outputs;
    return command;
  });
  const events = members(td.events, 'events', (e, path): EventDef | undefined => {
    if (!isObject(e)) {
      problems.push({ field: path, message: 'must be an event affordance object' });
      return undefined;
    }
    const level = e[`iip:level`];
    const event: EventDef = { level: level === 'alert' || level === 'fault' ? level : 'info' };
    if (level === undefined) notes.add(`${path}: no level in the TD, imported as info`);
    if (typeof e.title === 'string') event.title = e.title.slice(0, 200);
    if (typeof e.description === 'string') event.description = e.description.slice(0, 2000);
    const outputs = parameters(e.data, `${path}.data`);
    if (outputs) event.outputs = outputs;
    for (const term of ['subscription', 'cancellation', 'dataResponse'])
      if (e[term] !== undefined) notes.add(`${path}.${term} is not kept`);
    return event;
  });

  function members<T>(map: unknown, path: string, convert: (value: unknown, path: string) => T | undefined): Record<string, T> {
    const out: Record<string, T> = {};
    if (map === undefined) return out;
    if (!isObject(map)) {
      problems.push({ field: path, message: 'must be an object keyed by name' });
      return out;
    }
    for (const [name, value] of Object.entries(map)) {
      if (!new RegExp(MEMBER_NAME).test(name)) {
        problems.push({
          field: `${path}.${name}`,
          message: 'is not a usable name (letters, digits and _, not starting with a digit, at most 64)',
        });
        continue;
      }
      const converted = convert(value, `${path}.${name}`);
      if (converted !== undefined) out[name] = converted;
    }
    return out;
  }

  if (problems.length > 0) throw new TdImportError(problems);
  // The same checks as a definition sent directly (bounds, sizes, facets).
  const definition = checkDefinition({ properties, events, commands }, 'definition');
  return {
    name: (td.title as string).trim().slice(0, 200),
    ...(typeof td.description === 'string' ? { description: td.description.slice(0, 2000) } : {}),
    definition,
    notes: [...notes],
  };
}

export interface ExportedModel {
  id: string;
  name: string;
  description?: string | null;
  version: number;
  definition: ThingModelDefinition;
}

/**
 * A Thing Description of the model: a device of it is reached through the registry's twin
 * (`{deviceId}` in each form). Valid against the W3C TD 1.1 JSON Schema.
 */
export function exportThingDescription(model: ExportedModel, settings: { publicUrl: string; tokenUrl: string }): Json {
  const deviceId = { deviceId: { type: 'string', description: 'The device id in the registry' } };
  const form = (href: string, op: string[]) => ({ href, op, contentType: 'application/json' });
  const properties = Object.fromEntries(
    Object.entries(model.definition.properties).map(([name, p]) => [
      name,
      {
        ...dataToTd(p),
        readOnly: p.access === 'read-only',
        writeOnly: false,
        observable: true,
        uriVariables: deviceId,
        forms: [form(`v1/devices/{deviceId}/twin`, p.access === 'read-only' ? ['readproperty'] : ['readproperty', 'writeproperty'])],
      },
    ]),
  );
  const actions = Object.fromEntries(
    Object.entries(model.definition.commands).map(([name, c]) => [
      name,
      {
        ...(c.title ? { title: c.title } : {}),
        ...(c.description ? { description: c.description } : {}),
        ...(c.inputs ? { input: parametersToTd(c.inputs) } : {}),
        ...(c.outputs ? { output: parametersToTd(c.outputs) } : {}),
        synchronous: c.mode === 'sync',
        uriVariables: deviceId,
        forms: [form(`v1/devices/{deviceId}/commands/${name}`, ['invokeaction'])],
      },
    ]),
  );
  const events = Object.fromEntries(
    Object.entries(model.definition.events).map(([name, e]) => [
      name,
      {
        ...(e.title ? { title: e.title } : {}),
        ...(e.description ? { description: e.description } : {}),
        ...(e.outputs ? { data: parametersToTd(e.outputs) } : {}),
        'iip:level': e.level,
        uriVariables: deviceId,
        forms: [form(`v1/devices/{deviceId}/events/${name}`, ['subscribeevent'])],
      },
    ]),
  );
  return {
    '@context': [TD_CONTEXT, { iip: IIP_TD_TERMS }],
    id: `urn:iip:thing-model:${model.id}:${model.version}`,
    title: model.name,
    ...(model.description ? { description: model.description } : {}),
    version: { instance: String(model.version) },
    base: `${settings.publicUrl.replace(/\/$/, '')}/`,
    securityDefinitions: { bearer_sc: { scheme: 'bearer', format: 'jwt', authorization: settings.tokenUrl } },
    security: 'bearer_sc',
    properties,
    actions,
    events,
  };
}

function parametersToTd(params: Record<string, DataDef>): Json {
  const names = Object.keys(params);
  if (names.length === 1 && names[0] === 'value') return dataToTd(params.value);
  return { type: 'object', properties: Object.fromEntries(names.map((n) => [n, dataToTd(params[n])])) };
}

function dataToTd(def: DataDef): Json {
  const out: Json = {};
  if (def.title) out.title = def.title;
  if (def.description) out.description = def.description;
  if (def.unit) out.unit = def.unit;
  switch (def.type) {
    case 'int':
    case 'float':
    case 'double':
      out.type = def.type === 'int' ? 'integer' : 'number';
      if (def.min !== undefined) out.minimum = def.min;
      if (def.max !== undefined) out.maximum = def.max;
      if (def.step !== undefined) out.multipleOf = def.step;
      break;
    case 'bool':
      out.type = 'boolean';
      break;
    case 'string':
      out.type = 'string';
      if (def.maxLength !== undefined) out.maxLength = def.maxLength;
      break;
    case 'enum':
      out.type = 'string';
      out.enum = def.values ?? [];
      break;
    case 'struct':
      out.type = 'object';
      out.properties = Object.fromEntries(Object.entries(def.fields ?? {}).map(([n, f]) => [n, dataToTd(f)]));
      break;
    case 'array':
      out.type = 'array';
      if (def.items) out.items = dataToTd(def.items);
      if (def.minItems !== undefined) out.minItems = def.minItems;
      if (def.maxItems !== undefined) out.maxItems = def.maxItems;
      break;
  }
  return out;
}
