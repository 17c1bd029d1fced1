import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export const VALUE_FORMATS = ['string', 'base64', 'hex', 'admin', 'vlist', 'site', 'key'] as const;
export type ValueFormat = (typeof VALUE_FORMATS)[number];

export class HandleValueDataDto {
  @ApiProperty({ enum: VALUE_FORMATS }) @IsIn(VALUE_FORMATS) format!: ValueFormat;
  @ApiProperty({ description: 'A string for format "string", "base64" and "hex"; an object for the structured formats' })
  @IsDefined()
  value!: unknown;
}

/** One Handle value as clients send it; `access` and `grantees` are IIP's read rules for it. */
export class HandleValueDto {
  @ApiProperty({ minimum: 1, maximum: 2147483647 }) @IsInt() @Min(1) @Max(2147483647) index!: number;
  @ApiProperty({ example: 'URL', maxLength: 128 })
  @IsString()
  @MaxLength(128)
  @Matches(/^[\p{L}\p{N}_.\-/:]+$/u, { message: 'type may contain letters, digits and _ . - / : only' })
  type!: string;
  @ApiProperty({ type: HandleValueDataDto }) @IsObject() @ValidateNested() @Type(() => HandleValueDataDto) data!: HandleValueDataDto;
  @ApiPropertyOptional({ description: 'Seconds a resolver may cache the value' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2147483647)
  ttl?: number;
  @ApiPropertyOptional({ description: 'Ignored on input: the server stamps values' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  timestamp?: string;
  @ApiPropertyOptional({ enum: ['public', 'tenant', 'granted'], default: 'public' })
  @IsOptional()
  @IsIn(['public', 'tenant', 'granted'])
  access?: 'public' | 'tenant' | 'granted';
  @ApiPropertyOptional({ type: [String], description: 'Tenants that may read a "granted" value' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  grantees?: string[];
}

/** The template an identifier's values must follow: a kind and, optionally, a version (default: latest). */
export class TemplateRefDto {
  @ApiProperty({ example: 'device' })
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{0,39}$/, { message: 'kind must be lower-case letters, digits and -' })
  kind!: string;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) version?: number;
}

export class HandleRecordDto {
  @ApiPropertyOptional({ type: TemplateRefDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TemplateRefDto)
  template?: TemplateRefDto;

  @ApiProperty({ type: [HandleValueDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => HandleValueDto)
  values!: HandleValueDto[];
}

/** A value as the Handle REST API returns it. */
export interface HandleValueView {
  index: number;
  type: string;
  data: { format: string; value: unknown };
  ttl: number;
  timestamp: string;
}
