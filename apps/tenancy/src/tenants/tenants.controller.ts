import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { Page, PageQuery } from '@iip/platform-http';
import { Scopes } from '../oauth/scopes';
import { CreateTenantDto, SuspendTenantDto, TenantView, UpdateTenantDto } from './dto/tenant.dto';
import { TenantsService } from './tenants.service';

const uuid = new ParseUUIDPipe({ version: undefined });

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @RequireScopes(Scopes.TenantsWrite)
  @ApiOperation({ summary: "Onboard a tenant under the caller's tenant (or under parentId)" })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateTenantDto): Promise<TenantView> {
    return this.tenants.view(principal.tenant, await this.tenants.onboard(principal.tenant, body));
  }

  @Get(':id')
  @RequireScopes(Scopes.TenantsRead)
  @ApiOperation({ summary: 'Read a tenant: the whole record within your subtree, the profile of your park members' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', uuid) id: string): Promise<TenantView> {
    return this.tenants.get(principal.tenant, id);
  }

  @Get(':id/descendants')
  @RequireScopes(Scopes.TenantsRead)
  @ApiOperation({ summary: 'List the tenants below a tenant you manage' })
  descendants(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Query() page: PageQuery,
  ): Promise<Page<TenantView>> {
    return this.tenants.listDescendants(principal.tenant, id, page.limit, page.cursor);
  }

  @Patch(':id')
  @RequireScopes(Scopes.TenantsWrite)
  @ApiOperation({ summary: 'Change name, contact or (from above) quotas; send the version you read' })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Body() body: UpdateTenantDto,
  ): Promise<TenantView> {
    return this.tenants.view(principal.tenant, await this.tenants.update(principal.tenant, id, body));
  }

  @Post(':id/suspend')
  @HttpCode(200)
  @RequireScopes(Scopes.TenantsWrite)
  @ApiOperation({ summary: 'Suspend a tenant below you; its clients get no new tokens' })
  async suspend(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) id: string,
    @Body() body: SuspendTenantDto,
  ): Promise<TenantView> {
    return this.tenants.view(principal.tenant, await this.tenants.suspend(principal.tenant, id, body));
  }

  @Post(':id/reactivate')
  @HttpCode(200)
  @RequireScopes(Scopes.TenantsWrite)
  @ApiOperation({ summary: 'Lift a suspension' })
  async reactivate(@CurrentPrincipal() principal: Principal, @Param('id', uuid) id: string): Promise<TenantView> {
    return this.tenants.view(principal.tenant, await this.tenants.reactivate(principal.tenant, id));
  }
}
