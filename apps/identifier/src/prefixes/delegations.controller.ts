import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsUrl, MaxLength } from 'class-validator';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { DelegationsService } from './delegations.service';

export class DelegationDto {
  @ApiProperty({ example: 'https://node-b.example.com' })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  @MaxLength(500)
  baseUrl!: string;
}

interface DelegationView {
  prefix: string;
  baseUrl: string;
  createdAt: string;
}

/** Delegations: which node answers for a prefix this node does not host. */
@ApiTags('delegations')
@ApiBearerAuth()
@Controller('v1/delegations')
export class DelegationsController {
  constructor(private readonly delegations: DelegationsService) {}

  @Get()
  async list(): Promise<{ items: DelegationView[] }> {
    return {
      items: (await this.delegations.list()).map((d) => ({ prefix: d.prefix, baseUrl: d.baseUrl, createdAt: d.createdAt.toISOString() })),
    };
  }

  @Put(':prefix')
  @RequireScopes('prefixes:write')
  @ApiOperation({ summary: 'Delegate a prefix to the node responsible for it (platform operator)' })
  async put(@CurrentPrincipal() p: Principal, @Param('prefix') prefix: string, @Body() body: DelegationDto): Promise<DelegationView> {
    const d = await this.delegations.delegate(p, prefix, body.baseUrl);
    return { prefix: d.prefix, baseUrl: d.baseUrl, createdAt: d.createdAt.toISOString() };
  }

  @Delete(':prefix')
  @HttpCode(204)
  @RequireScopes('prefixes:write')
  async remove(@CurrentPrincipal() p: Principal, @Param('prefix') prefix: string): Promise<void> {
    await this.delegations.undelegate(p, prefix);
  }
}
