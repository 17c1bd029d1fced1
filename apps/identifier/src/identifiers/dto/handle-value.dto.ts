import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/*
 * The shapes of Handle values as OpenAPI shows them. They are checked by the JSON Schema in
 * handle-value.schema.ts (one compiled validator for PUT, batch and gRPC), not by decorators here.
 */

/** Index of the administrative value naming the owner, as in the Handle System: the server writes it. */
export const ADMIN_INDEX = 100;

export const VALUE_FORMATS = ['string', 'base64', 'hex', 'admin', 'vlist', 'site', 'key'] as const;
export type ValueFormat = (typeof VALUE_FORMATS)[number];

export class HandleValueDataDto {
  @ApiProperty({ enum: VALUE_FORMATS }) format!: ValueFormat;
  @ApiProperty({
    description:
      'A string for "string"; hex digit pairs for "hex"; padded base64 for "base64" and "key"; ' +
      '{handle, index, permissions: 12 of 0/1} for "admin"; a list of {handle, index} for "vlist"; an object for "site"',
  })
  value!: unknown;
}

/** One Handle value as clients send it; `access` and `grantees` are IIP's read rules for it. */
export class HandleValueDto {
  @ApiProperty({ minimum: 1, maximum: 2147483647 }) index!: number;
  @ApiProperty({ example: 'URL', maxLength: 128, pattern: '^[\\p{L}\\p{N}_.\\-/:]+$', description: 'letters, digits and _ . - / :' })
  type!: string;
  @ApiProperty({ type: HandleValueDataDto, description: 'On input also a string, short for {"format": "string", "value": "…"}' })
  data!: HandleValueDataDto;
  @ApiPropertyOptional({ description: 'Seconds a resolver may cache the value', minimum: 0, maximum: 2147483647 })
  ttl?: number;
  @ApiPropertyOptional({ description: 'Ignored on input: the server stamps values', maxLength: 40 })
  timestamp?: string;
  @ApiPropertyOptional({ enum: ['public', 'tenant', 'granted'], default: 'public' })
  access?: 'public' | 'tenant' | 'granted';
  @ApiPropertyOptional({ type: [String], format: 'uuid', maxItems: 100, description: 'Tenants that may read a "granted" value' })
  grantees?: string[];
}

/** The template an identifier's values must follow: a kind and, optionally, a version (default: latest). */
export class TemplateRefDto {
  @ApiProperty({ example: 'device', pattern: '^[a-z][a-z0-9-]{0,39}$' }) kind!: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 2147483647 }) version?: number;
}

export class HandleRecordDto {
  @ApiPropertyOptional({ type: TemplateRefDto }) template?: TemplateRefDto;
  @ApiProperty({ type: [HandleValueDto], minItems: 1, maxItems: 500 }) values!: HandleValueDto[];
}

/** A value as the Handle REST API returns it. */
export interface HandleValueView {
  index: number;
  type: string;
  data: { format: string; value: unknown };
  ttl: number;
  timestamp: string;
}
