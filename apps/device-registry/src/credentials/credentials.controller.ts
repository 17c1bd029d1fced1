import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SchemaObject } from 'ajv';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { requestSchema, schemaPipe } from '@iip/platform-errors';
import { openApiSchema } from '@iip/platform-http';
import { DeviceScopes } from '../scopes';
import { CredentialView, CredentialsService, IssueCredentialInput } from './credentials.service';

const uuid = new ParseUUIDPipe({ version: undefined });

export const ISSUE_CREDENTIAL_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { enum: ['secret', 'x509'], description: 'secret: the registry makes one and shows it once; x509: a client certificate' },
    certificatePem: { type: 'string', maxLength: 16_384, description: 'x509: the certificate (PEM); its SHA-256 fingerprint is kept' },
    fingerprint: {
      type: 'string',
      pattern: '^[0-9A-Fa-f:]{64,95}$',
      description: 'x509: the SHA-256 fingerprint instead of the certificate',
    },
    label: { type: 'string', maxLength: 200 },
  },
};
const issueCredentialSchema = requestSchema<IssueCredentialInput>(ISSUE_CREDENTIAL_SCHEMA);

@ApiTags('device credentials')
@ApiBearerAuth()
@Controller('v1/devices/:deviceId/credentials')
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @Post()
  @RequireScopes(DeviceScopes.DevicesWrite)
  @ApiBody({ schema: openApiSchema(ISSUE_CREDENTIAL_SCHEMA) })
  @ApiOperation({ summary: 'Issue a credential for telemetry (a secret is in this answer only); two may be active, for rotation' })
  issue(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Body(schemaPipe(issueCredentialSchema)) body: IssueCredentialInput,
  ): Promise<CredentialView & { secret?: string }> {
    return this.credentials.issue(actor, deviceId, body);
  }

  @Get()
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: "The device's credentials, active and revoked (never a secret)" })
  list(@CurrentPrincipal() actor: Principal, @Param('deviceId', uuid) deviceId: string): Promise<CredentialView[]> {
    return this.credentials.list(actor, deviceId);
  }

  @Delete(':credentialId')
  @RequireScopes(DeviceScopes.DevicesWrite)
  @ApiOperation({ summary: 'Revoke a credential: every registry instance refuses it within a second' })
  revoke(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Param('credentialId', uuid) credentialId: string,
  ): Promise<CredentialView> {
    return this.credentials.revoke(actor, deviceId, credentialId);
  }
}
