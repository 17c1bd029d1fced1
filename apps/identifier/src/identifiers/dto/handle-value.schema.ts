import { requestSchema } from '@iip/platform-errors';
import { MAX_BATCH_ITEMS } from './batch.dto';
import { HandleValueDto, TemplateRefDto, VALUE_FORMATS } from './handle-value.dto';

/**
 * The rules for what clients send as Handle values, as one JSON Schema compiled once: PUT,
 * batch registration and gRPC all check values with it. The DTO classes next to it describe the
 * same shapes for OpenAPI.
 */
const INT32_MAX = 2147483647;

/** The form PostgreSQL's uuid type reads back unchanged (Ajv's "uuid" format also takes urn:uuid:…, which it refuses). */
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** Optional fields may also be sent as null, meaning "not given". */
const templateRef = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' },
    version: { type: 'integer', minimum: 1 },
  },
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
      properties: { format: { enum: [...VALUE_FORMATS] }, value: { not: { type: 'null' } } },
    },
    ttl: { type: ['integer', 'null'], minimum: 0, maximum: INT32_MAX },
    timestamp: { type: ['string', 'null'], maxLength: 40 },
    access: { enum: ['public', 'tenant', 'granted', null] },
    grantees: { type: ['array', 'null'], maxItems: 100, items: { type: 'string', pattern: UUID } },
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

export const handleValuesSchema = requestSchema<HandleValueInput[]>(values(500));

export const handleRecordSchema = requestSchema<HandleRecordInput>({
  type: 'object',
  additionalProperties: false,
  required: ['values'],
  properties: { template: templateRef, values: values(500) },
});

export const batchRegisterSchema = requestSchema<BatchRegisterInput>({
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
});
