import { INPUT_LIMITS, RequestSchema, RequestValidationError, requestSchema } from '@iip/platform-errors';
import { SchemaObject } from 'ajv';
import { MAX_HANDLE_INPUT_LENGTH } from '../../handles/handle-syntax';
import { MAX_BATCH_ITEMS } from './batch.dto';
import { ADMIN_INDEX, HandleValueDto, TemplateRefDto, VALUE_FORMATS } from './handle-value.dto';

/**
 * The rules for what clients send as Handle values, as one JSON Schema compiled once: PUT,
 * batch registration and gRPC all check values with it. The DTO classes next to it describe the
 * same shapes for OpenAPI.
 */
export const INT32_MAX = INPUT_LIMITS.int32Max;
/** Longest string value, in UTF-16 code units. */
export const MAX_STRING_VALUE_LENGTH = 65_536;
/** Entries of an HS_VLIST. */
export const MAX_VLIST_ENTRIES = 100;
/** Admin permissions as the Handle REST API writes them: 12 flags, add_handle first (RFC 3651 §3.2.2). */
const PERMISSIONS = '^[01]{12}$';
/** Bytes as hexadecimal digits, two per byte. */
const HEX = '^(?:[0-9A-Fa-f]{2})*$';
/** Bytes as standard base64 (RFC 4648 §4), padded. */
const BASE64 = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';

/** The form PostgreSQL's uuid type reads back unchanged (Ajv's "uuid" format also takes urn:uuid:…, which it refuses). */
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** Optional fields may also be sent as null, meaning "not given". */
const templateRef = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' },
    version: { type: 'integer', minimum: 1, maximum: INT32_MAX },
  },
};

/** A reference to a value of a handle record, as HS_ADMIN and HS_VLIST carry it. */
const valueReference = {
  handle: { type: 'string', minLength: 1, maxLength: MAX_HANDLE_INPUT_LENGTH },
  index: { type: 'integer', minimum: 0, maximum: INT32_MAX },
};

/** What `data.value` must be for each format (the Handle REST API's representations). */
const valueByFormat: Record<(typeof VALUE_FORMATS)[number], SchemaObject> = {
  string: { type: 'string', maxLength: MAX_STRING_VALUE_LENGTH },
  hex: { type: 'string', maxLength: MAX_STRING_VALUE_LENGTH, pattern: HEX },
  base64: { type: 'string', maxLength: MAX_STRING_VALUE_LENGTH, pattern: BASE64 },
  key: { type: 'string', minLength: 1, maxLength: MAX_STRING_VALUE_LENGTH, pattern: BASE64 },
  admin: {
    type: 'object',
    additionalProperties: false,
    required: ['handle', 'index', 'permissions'],
    properties: { ...valueReference, permissions: { type: 'string', pattern: PERMISSIONS } },
  },
  vlist: {
    type: 'array',
    minItems: 1,
    maxItems: MAX_VLIST_ENTRIES,
    items: { type: 'object', additionalProperties: false, required: ['handle', 'index'], properties: valueReference },
  },
  site: { type: 'object' },
};

const handleValue = {
  type: 'object',
  additionalProperties: false,
  required: ['index', 'type', 'data'],
  properties: {
    index: { type: 'integer', minimum: 1, maximum: INT32_MAX },
    type: { type: 'string', maxLength: 128, pattern: '^[\\p{L}\\p{N}_.\\-/:]+$' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['format', 'value'],
      properties: { format: { enum: [...VALUE_FORMATS] }, value: {} },
    },
    ttl: { type: ['integer', 'null'], minimum: 0, maximum: INT32_MAX },
    timestamp: { type: ['string', 'null'], maxLength: 40 },
    access: { enum: ['public', 'tenant', 'granted', null] },
    grantees: { type: ['array', 'null'], maxItems: 100, items: { type: 'string', pattern: UUID } },
  },
  // Each format's value shape. Not at index 100, the server's own HS_ADMIN: what a client sends
  // there (often the record it read, tenantId and all) is dropped, not stored.
  if: { required: ['index'], properties: { index: { not: { const: ADMIN_INDEX } } } },
  then: {
    properties: {
      data: {
        type: 'object',
        allOf: VALUE_FORMATS.map((format) => ({
          if: { required: ['format'], properties: { format: { const: format } } },
          then: { properties: { value: valueByFormat[format] } },
        })),
      },
    },
  },
};

const values = (max: number) => ({ type: 'array', minItems: 1, maxItems: max, items: handleValue });

export interface HandleRecordInput {
  template?: TemplateRefDto | null;
  values: HandleValueInput[];
}

/** A value as the schema lets it through: the DTO's shape, with null allowed for the optional parts. */
export type HandleValueInput = Omit<HandleValueDto, 'ttl' | 'timestamp' | 'access' | 'grantees'> & {
  ttl?: number | null;
  timestamp?: string | null;
  access?: HandleValueDto['access'] | null;
  grantees?: string[] | null;
};

export interface BatchItemInput extends HandleRecordInput {
  handle: string;
}

export interface BatchRegisterInput {
  items: BatchItemInput[];
}

/** Ajv reports a failed if/then as the error inside it plus 'must match "then" schema'; only the former says what is wrong. */
const BRANCH_ERROR = /^must match "(?:then|else)" schema$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Handle clients send a string value as `"data": "…"`, short for `{"format": "string", "value": "…"}`.
 * Expanded before the schema sees the values, so every rule after it knows one shape. Returns a
 * copy; anything that is not a list of value objects is left for the schema to refuse.
 */
export function expandStringData(values: unknown): unknown {
  if (!Array.isArray(values)) return values;
  return values.map((v: unknown) => (isObject(v) && typeof v.data === 'string' ? { ...v, data: { format: 'string', value: v.data } } : v));
}

/** The same expansion for `values` of a record body and of each batch item. */
const expandRecord = (record: unknown): unknown =>
  isObject(record) && 'values' in record ? { ...record, values: expandStringData(record.values) } : record;
const expandBatch = (batch: unknown): unknown =>
  isObject(batch) && Array.isArray(batch.items) ? { ...batch, items: batch.items.map(expandRecord) } : batch;

function valueSchema<T>(schema: SchemaObject, normalise: (value: unknown) => unknown = (v) => v): RequestSchema<T> {
  const compiled = requestSchema<T>(schema);
  return {
    schema,
    check(value: unknown, parent?: string): T {
      try {
        return compiled.check(normalise(value), parent);
      } catch (err) {
        if (!(err instanceof RequestValidationError)) throw err;
        // A field checked both outside and inside a branch (data's type) is reported once.
        const seen = new Set<string>();
        const errors = err.fieldErrors.filter((e) => {
          const id = `${e.field}\u0000${e.message}`;
          if (BRANCH_ERROR.test(e.message) || seen.has(id)) return false;
          seen.add(id);
          return true;
        });
        throw new RequestValidationError(errors);
      }
    },
  };
}

export const handleValuesSchema = valueSchema<HandleValueInput[]>(values(500));

export const handleRecordSchema = valueSchema<HandleRecordInput>(
  {
    type: 'object',
    additionalProperties: false,
    required: ['values'],
    properties: { template: templateRef, values: values(500) },
  },
  expandRecord,
);

export const batchRegisterSchema = valueSchema<BatchRegisterInput>(
  {
    type: 'object',
    additionalProperties: false,
    required: ['items'],
    properties: {
      items: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_BATCH_ITEMS,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['handle', 'values'],
          properties: { template: templateRef, handle: { type: 'string', maxLength: 4400 }, values: values(100) },
        },
      },
    },
  },
  expandBatch,
);
