import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { INPUT_LIMITS } from '@iip/platform-errors';
import {
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidateNested,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { TENANT_KINDS, TenantKind } from '@iip/platform-auth';
import { creditCodeMessages, creditCodeProblem } from '../credit-code';

@ValidatorConstraint({ name: 'creditCode' })
export class CreditCodeConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && creditCodeProblem(value) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    const problem = typeof args.value === 'string' ? creditCodeProblem(args.value) : 'length';
    return `creditCode ${problem ? creditCodeMessages[problem] : 'is not valid'}`;
  }
}

export class ContactDto {
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptional() @IsString() @MaxLength(100) name?: string;
  @ApiPropertyOptional({ maxLength: 254 }) @IsOptional() @IsEmail() @MaxLength(254) email?: string;
  @ApiPropertyOptional({ example: '+86-21-5555-0100' })
  @IsOptional()
  @Matches(/^\+?[0-9][0-9 -]{4,30}$/, { message: 'phone must be digits, spaces or dashes, optionally starting with +' })
  phone?: string;
}

export class QuotasDto {
  @ApiProperty({ minimum: 0, maximum: 10_000_000 }) @IsInt() @Min(0) @Max(10_000_000) maxDevices!: number;
  @ApiProperty({ minimum: 0, maximum: 10_000_000 }) @IsInt() @Min(0) @Max(10_000_000) maxTelemetryPointsPerSecond!: number;
}

const CREATABLE_KINDS = TENANT_KINDS.filter((k) => k !== 'platform');

export class CreateTenantDto {
  @ApiProperty({ enum: CREATABLE_KINDS }) @IsIn(CREATABLE_KINDS) kind!: Exclude<TenantKind, 'platform'>;
  @ApiPropertyOptional({ description: "Parent tenant; defaults to the caller's own tenant" }) @IsOptional() @IsUUID() parentId?: string;
  @ApiProperty({ maxLength: 200 }) @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiProperty({ description: 'Unified social credit code (GB 32100-2015)', example: '91350100M000100Y43' })
  @IsString()
  @Length(18, 18, { message: 'creditCode must be exactly 18 characters' })
  @Validate(CreditCodeConstraint)
  creditCode!: string;
  @ApiPropertyOptional({ type: ContactDto }) @IsOptional() @ValidateNested() @Type(() => ContactDto) contact?: ContactDto;
  @ApiPropertyOptional({ type: QuotasDto }) @IsOptional() @ValidateNested() @Type(() => QuotasDto) quotas?: QuotasDto;
}

export class UpdateTenantDto {
  @ApiProperty({ description: 'The version you read; a stale one gets 409', minimum: 1, maximum: INPUT_LIMITS.int32Max })
  @IsInt()
  @Min(1)
  @Max(INPUT_LIMITS.int32Max)
  version!: number;
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) name?: string;
  @ApiPropertyOptional({ type: ContactDto }) @IsOptional() @ValidateNested() @Type(() => ContactDto) contact?: ContactDto;
  @ApiPropertyOptional({ type: QuotasDto }) @IsOptional() @ValidateNested() @Type(() => QuotasDto) quotas?: QuotasDto;
}

export class SuspendTenantDto {
  @ApiProperty({ maxLength: 500 }) @IsString() @IsNotEmpty() @MaxLength(500) reason!: string;
}

export class TenantIdParam {
  @IsUUID() id!: string;
}

export interface TenantProfileView {
  view: 'profile';
  id: string;
  kind: TenantKind;
  parentId: string | null;
  name: string;
  creditCode: string;
  contact: { name?: string; email?: string; phone?: string };
  status: 'active' | 'suspended';
}

/** A park's view of its member: the profile, the quotas the park sets and the version a change carries. */
export interface TenantMemberView extends Omit<TenantProfileView, 'view'> {
  view: 'member';
  quotas: { maxDevices: number; maxTelemetryPointsPerSecond: number };
  version: number;
}

export interface TenantFullView extends Omit<TenantProfileView, 'view'> {
  view: 'full';
  path: string[];
  quotas: { maxDevices: number; maxTelemetryPointsPerSecond: number };
  suspendedReason: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type TenantView = TenantProfileView | TenantMemberView | TenantFullView;
