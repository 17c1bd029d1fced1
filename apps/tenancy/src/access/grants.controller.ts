import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsUUID, Matches } from 'class-validator';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { RequireLiveCaller } from '../oauth/live-caller.guard';
import { SCOPE_PATTERN, Scopes } from '../oauth/scopes';
import { AccessService } from './access.service';
import { DataGrantEntity } from './data-grant.entity';

export class CreateGrantDto {
  @ApiProperty() @IsUUID() granteeTenantId!: string;
  @ApiProperty({ example: 'telemetry:read' })
  @Matches(SCOPE_PATTERN, { message: 'dataScope must look like "resource:action"' })
  dataScope!: string;
}

interface GrantView {
  grantorTenantId: string;
  granteeTenantId: string;
  dataScope: string;
  createdAt: string;
}

const grantView = (g: DataGrantEntity): GrantView => ({
  grantorTenantId: g.grantorId,
  granteeTenantId: g.granteeId,
  dataScope: g.dataScope,
  createdAt: g.createdAt.toISOString(),
});

@ApiTags('grants')
@ApiBearerAuth()
@Controller('v1/tenants/:tenantId/grants')
export class GrantsController {
  constructor(private readonly grants: AccessService) {}

  @Post()
  @RequireScopes(Scopes.GrantsWrite)
  @RequireLiveCaller()
  @ApiOperation({ summary: 'Let another tenant (your park, a partner) read one kind of your data' })
  async create(
    @CurrentPrincipal() p: Principal,
    @Param('tenantId', ParseUUIDPipe) tenantId: string,
    @Body() body: CreateGrantDto,
  ): Promise<GrantView> {
    return grantView(await this.grants.grant(p, tenantId, body.granteeTenantId, body.dataScope));
  }

  @Get()
  @RequireScopes(Scopes.TenantsRead)
  async list(@CurrentPrincipal() p: Principal, @Param('tenantId', ParseUUIDPipe) tenantId: string): Promise<{ items: GrantView[] }> {
    return { items: (await this.grants.list(p, tenantId)).map(grantView) };
  }

  @Delete(':granteeTenantId/:dataScope')
  @HttpCode(204)
  @RequireScopes(Scopes.GrantsWrite)
  @RequireLiveCaller()
  async revoke(
    @CurrentPrincipal() p: Principal,
    @Param('tenantId', ParseUUIDPipe) tenantId: string,
    @Param('granteeTenantId', ParseUUIDPipe) granteeId: string,
    @Param('dataScope') dataScope: string,
  ): Promise<void> {
    await this.grants.revoke(p, tenantId, granteeId, dataScope);
  }
}
