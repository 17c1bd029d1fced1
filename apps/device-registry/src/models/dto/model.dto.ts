import { BadRequestException, PipeTransform } from '@nestjs/common';
import { SchemaObject } from 'ajv';
import { requestSchema } from '@iip/platform-errors';

const tenantId = { type: 'string', format: 'uuid', description: 'The tenant the model is for (one you manage); default: your own' };

/** OpenAPI shows the definition's outline (OpenAPI 3.0 has no $defs); checkDefinition validates it whole, naming paths. */
const definitionOutline: SchemaObject = {
  type: 'object',
  description: 'properties, events and commands keyed by identifier (see the README, "Thing models")',
  properties: { properties: { type: 'object' }, events: { type: 'object' }, commands: { type: 'object' } },
};

export interface CreateModelInput {
  tenantId?: string;
  name: string;
  description?: string;
  definition: unknown;
}
export const CREATE_MODEL_OPENAPI: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'definition'],
  properties: {
    tenantId,
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 2000 },
    definition: definitionOutline,
  },
};
export const createModelSchema = requestSchema<CreateModelInput>(CREATE_MODEL_OPENAPI);

export interface ImportTdInput {
  tenantId?: string;
  thingDescription: unknown;
}
export const IMPORT_TD_OPENAPI: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['thingDescription'],
  properties: { tenantId, thingDescription: { type: 'object', description: 'A W3C WoT Thing Description 1.1 (or a Thing Model)' } },
};
export const importTdSchema = requestSchema<ImportTdInput>(IMPORT_TD_OPENAPI);

export interface PutVersionInput {
  definition: unknown;
}
export const PUT_VERSION_OPENAPI: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['definition'],
  properties: { definition: definitionOutline },
};
export const putVersionSchema = requestSchema<PutVersionInput>(PUT_VERSION_OPENAPI);

/** A model version in a path: decimal digits only, 1 to 2^31-1. */
export const versionPipe: PipeTransform<string, number> = {
  transform(value: string): number {
    const n = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 2_147_483_647) throw new BadRequestException('version must be a whole number from 1');
    return n;
  },
};
