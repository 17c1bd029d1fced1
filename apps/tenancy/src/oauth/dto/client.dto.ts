import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import { SCOPE_PATTERN } from '../scopes';

export class CreateClientDto {
  @ApiProperty({ maxLength: 100, example: 'MES integration' }) @IsString() @IsNotEmpty() @MaxLength(100) name!: string;

  @ApiProperty({ type: [String], example: ['tenants:read'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @Matches(SCOPE_PATTERN, { each: true, message: 'each scope must look like "resource:action"' })
  scopes!: string[];
}

export interface ClientView {
  clientId: string;
  tenantId: string;
  name: string;
  scopes: string[];
  status: 'active' | 'revoked';
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** Returned once, at creation: the only time the secret is visible. */
export interface CreatedClientView extends ClientView {
  clientSecret: string;
}
