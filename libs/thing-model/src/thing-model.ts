import Ajv, { ErrorObject, SchemaObject, ValidateFunction } from 'ajv';
import { FieldError, INPUT_LIMITS, RequestValidationError, requestSchema } from '@iip/platform-errors';
import { isUcumUnit } from './ucum';

/**
 * A thing model (device model): what a device of it reports, may be told, raises and accepts.
 * Maps are keyed by identifier, as in a W3C WoT Thing Description.
 */
export const DATA_TYPES = ['int', 'float', 'double', 'bool', 'string', 'enum', 'struct', 'array'] as const;
export type DataType = (typeof DATA_TYPES)[number];

export interface DataDef {
  type: DataType;
  title?: string;
  description?: string;
  /** A UCUM code (`Cel`, `kW`, `m3/h`, `%`). */
  unit?: string;
  min?: number;
  max?: number;
  step?: number;
  /** string: longest accepted. */
  maxLength?: number;
  /** enum: the allowed values. */
  values?: string[];
  /** struct: its fields. */
  fields?: Record<string, DataDef>;
  /** array: what each item is, and how many. */
  items?: DataDef;
  minItems?: number;
  maxItems?: number;
}

export type PropertyDef = DataDef & { access: 'read-only' | 'read-write' };
export interface EventDef {
  title?: string;
  description?: string;
  level: 'info' | 'alert' | 'fault';
  outputs?: Record<string, DataDef>;
}
export interface CommandDef {
  title?: string;
  description?: string;
  mode: 'sync' | 'async';
  inputs?: Record<string, DataDef>;
  outputs?: Record<string, DataDef>;
}

export interface ThingModelDefinition {
  properties: Record<string, PropertyDef>;
  events: Record<string, EventDef>;
  commands: Record<string, CommandDef>;
}

/** Identifiers of properties, fields, events, commands and parameters. */
export const MEMBER_NAME = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
const MAX_MEMBERS = 256;
/** struct within struct (or array) this deep at most. */
const MAX_DATA_DEPTH = 8;

const text = (max: number) => ({ type: 'string', maxLength: max });
const dataDefProperties: Record<string, SchemaObject> = {
  type: { enum: [...DATA_TYPES] },
  title: text(200),
  description: text(2000),
  unit: text(64),
  min: { type: 'number' },
  max: { type: 'number' },
  step: { type: 'number', exclusiveMinimum: 0 },
  maxLength: { type: 'integer', minimum: 1, maximum: 65_536 },
  values: { type: 'array', minItems: 1, maxItems: MAX_MEMBERS, uniqueItems: true, items: text(200) },
  fields: { $ref: '#/$defs/members' },
  items: { $ref: '#/$defs/data' },
  minItems: { type: 'integer', minimum: 0, maximum: 65_536 },
  maxItems: { type: 'integer', minimum: 0, maximum: 65_536 },
};
const dataDefSchema: SchemaObject = { type: 'object', additionalProperties: false, required: ['type'], properties: dataDefProperties };
const members = (of: SchemaObject): SchemaObject => ({
  type: 'object',
  maxProperties: MAX_MEMBERS,
  propertyNames: { pattern: MEMBER_NAME },
  additionalProperties: of,
});

/** The JSON Schema of a model definition as clients send it (REST body, OpenAPI). */
export const THING_MODEL_DEFINITION_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  $defs: {
    data: dataDefSchema,
    members: members({ $ref: '#/$defs/data' }),
  },
  properties: {
    properties: members({
      ...dataDefSchema,
      required: ['type', 'access'],
      properties: { ...dataDefProperties, access: { enum: ['read-only', 'read-write'] } },
    }),
    events: members({
      type: 'object',
      additionalProperties: false,
      required: ['level'],
      properties: {
        title: text(200),
        description: text(2000),
        level: { enum: ['info', 'alert', 'fault'] },
        outputs: { $ref: '#/$defs/members' },
      },
    }),
    commands: members({
      type: 'object',
      additionalProperties: false,
      required: ['mode'],
      properties: {
        title: text(200),
        description: text(2000),
        mode: { enum: ['sync', 'async'] },
        inputs: { $ref: '#/$defs/members' },
        outputs: { $ref: '#/$defs/members' },
      },
    }),
  },
};

const definitionShape = requestSchema<Partial<ThingModelDefinition>>(THING_MODEL_DEFINITION_SCHEMA);

/**
 * Checks a definition sent by a client: its shape, then what JSON Schema cannot say (units are
 * UCUM, min ≤ max, each type has only the facets that fit it). Throws with every bad path.
 */
export function checkDefinition(input: unknown, parent = 'definition'): ThingModelDefinition {
  const shaped = definitionShape.check(input, parent);
  const definition: ThingModelDefinition = {
    properties: shaped.properties ?? {},
    events: shaped.events ?? {},
    commands: shaped.commands ?? {},
  };
  const problems: FieldError[] = [];
  const visit = (def: DataDef, path: string, depth: number) => {
    if (depth > MAX_DATA_DEPTH) return problems.push({ field: path, message: `nests deeper than ${MAX_DATA_DEPTH} levels` });
    const numeric = def.type === 'int' || def.type === 'float' || def.type === 'double';
    const allowed: Record<DataType, string[]> = {
      int: ['unit', 'min', 'max', 'step'],
      float: ['unit', 'min', 'max', 'step'],
      double: ['unit', 'min', 'max', 'step'],
      bool: [],
      string: ['maxLength', 'unit'],
      enum: ['values'],
      struct: ['fields'],
      array: ['items', 'minItems', 'maxItems'],
    };
    for (const facet of ['unit', 'min', 'max', 'step', 'maxLength', 'values', 'fields', 'items', 'minItems', 'maxItems'] as const) {
      if (def[facet] !== undefined && !allowed[def.type].includes(facet)) {
        problems.push({ field: `${path}.${facet}`, message: `does not apply to type ${def.type}` });
      }
    }
    if (def.unit !== undefined && !isUcumUnit(def.unit)) {
      problems.push({ field: `${path}.unit`, message: `"${def.unit}" is not a UCUM unit code (e.g. Cel, kW, m3/h, %)` });
    }
    if (numeric && def.min !== undefined && def.max !== undefined && def.min > def.max) {
      problems.push({ field: `${path}.min`, message: 'must not be greater than max' });
    }
    if (def.type === 'int') {
      for (const facet of ['min', 'max', 'step'] as const) {
        if (def[facet] !== undefined && !Number.isInteger(def[facet]))
          problems.push({ field: `${path}.${facet}`, message: 'must be an integer for type int' });
      }
    }
    if (def.type === 'enum' && !def.values) problems.push({ field: `${path}.values`, message: 'is required for type enum' });
    if (def.type === 'struct') {
      if (!def.fields || Object.keys(def.fields).length === 0)
        problems.push({ field: `${path}.fields`, message: 'is required for type struct' });
      for (const [name, field] of Object.entries(def.fields ?? {})) visit(field, `${path}.fields.${name}`, depth + 1);
    }
    if (def.type === 'array') {
      if (!def.items) problems.push({ field: `${path}.items`, message: 'is required for type array' });
      else visit(def.items, `${path}.items`, depth + 1);
      if (def.minItems !== undefined && def.maxItems !== undefined && def.minItems > def.maxItems) {
        problems.push({ field: `${path}.minItems`, message: 'must not be greater than maxItems' });
      }
    }
  };
  for (const [name, p] of Object.entries(definition.properties)) visit(p, `${parent}.properties.${name}`, 1);
  for (const [name, e] of Object.entries(definition.events)) {
    for (const [out, d] of Object.entries(e.outputs ?? {})) visit(d, `${parent}.events.${name}.outputs.${out}`, 1);
  }
  for (const [name, c] of Object.entries(definition.commands)) {
    for (const [arg, d] of Object.entries(c.inputs ?? {})) visit(d, `${parent}.commands.${name}.inputs.${arg}`, 1);
    for (const [arg, d] of Object.entries(c.outputs ?? {})) visit(d, `${parent}.commands.${name}.outputs.${arg}`, 1);
  }
  if (problems.length > 0) throw new RequestValidationError(problems.slice(0, INPUT_LIMITS.maxReported));
  return definition;
}

/** JSON Schema (draft 7, as Ajv's default) of one value of a data definition. */
export function dataSchema(def: DataDef): SchemaObject {
  switch (def.type) {
    case 'int':
    case 'float':
    case 'double': {
      const schema: SchemaObject = { type: def.type === 'int' ? 'integer' : 'number' };
      if (def.min !== undefined) schema.minimum = def.min;
      if (def.max !== undefined) schema.maximum = def.max;
      return schema;
    }
    case 'bool':
      return { type: 'boolean' };
    case 'string':
      return def.maxLength !== undefined ? { type: 'string', maxLength: def.maxLength } : { type: 'string' };
    case 'enum':
      return { type: 'string', enum: def.values ?? [] };
    case 'struct':
      return membersSchema(def.fields ?? {});
    case 'array': {
      const schema: SchemaObject = { type: 'array', items: def.items ? dataSchema(def.items) : {} };
      if (def.minItems !== undefined) schema.minItems = def.minItems;
      if (def.maxItems !== undefined) schema.maxItems = def.maxItems;
      return schema;
    }
  }
}

/** An object whose members are optional, each as its definition says, and nothing else. */
function membersSchema(defs: Record<string, DataDef>): SchemaObject {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(defs).map(([name, d]) => [name, dataSchema(d)])),
  };
}

/** The validators a model compiles into once: twins' reported and desired documents, event outputs, command inputs. */
export interface CompiledModel {
  reported: DocumentValidator;
  desired: DocumentValidator;
  event(name: string): DocumentValidator | undefined;
  commandInput(name: string): DocumentValidator | undefined;
  commandOutput(name: string): DocumentValidator | undefined;
}

/** Checks a document, naming each bad path (`reported.temperature`). */
export type DocumentValidator = (document: unknown, parent: string) => FieldError[];

/** Its own Ajv: model schemas are built from tenants' definitions, kept apart from the platform's request schemas. */
const modelAjv = new Ajv({ allErrors: true, strict: false });

function validator(schema: SchemaObject): DocumentValidator {
  const validate: ValidateFunction = modelAjv.compile(schema);
  return (document, parent) => (validate(document) ? [] : documentErrors(validate.errors ?? [], parent));
}

function documentErrors(errors: ErrorObject[], parent: string): FieldError[] {
  return errors.slice(0, INPUT_LIMITS.maxReported).map((e) => {
    const path = [
      parent,
      ...e.instancePath
        .split('/')
        .slice(1)
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')),
    ].join('.');
    if (e.keyword === 'additionalProperties') {
      return { field: `${path}.${(e.params as { additionalProperty: string }).additionalProperty}`, message: 'is not in the thing model' };
    }
    return { field: path, message: e.message ?? 'is not valid' };
  });
}

export function compileModel(definition: ThingModelDefinition): CompiledModel {
  const readWrite = Object.fromEntries(Object.entries(definition.properties).filter(([, p]) => p.access === 'read-write'));
  const events = new Map(Object.entries(definition.events).map(([name, e]) => [name, validator(membersSchema(e.outputs ?? {}))]));
  const commands = new Map(Object.entries(definition.commands).map(([name, c]) => [name, validator(membersSchema(c.inputs ?? {}))]));
  const outputs = new Map(Object.entries(definition.commands).map(([name, c]) => [name, validator(membersSchema(c.outputs ?? {}))]));
  return {
    reported: validator(membersSchema(definition.properties)),
    desired: validator(membersSchema(readWrite)),
    event: (name) => events.get(name),
    commandInput: (name) => commands.get(name),
    commandOutput: (name) => outputs.get(name),
  };
}
