import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, IsUUID, MaxLength } from 'class-validator';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { PrefixEntity } from './prefix.entity';
import { PrefixesService } from './prefixes.service';

export class AllocatePrefixDto {
  @ApiProperty({ example: '88.100.2001' }) @IsString() @MaxLength(64) prefix!: string;
  @ApiProperty() @IsUUID() tenantId!: string;
}

interface PrefixView {
  prefix: string;
  kind: 'node' | 'enterprise';
  allocation: 'configured' | 'auto' | 'manual';
  tenantId: string | null;
  createdAt: string;
}

const view = (p: PrefixEntity): PrefixView => ({
  prefix: p.prefix,
  kind: p.kind,
  allocation: p.allocation,
  tenantId: p.tenantId,
  createdAt: p.createdAt.toISOString(),
});

@ApiTags('prefixes')
@ApiBearerAuth()
@Controller('v1/prefixes')
export class PrefixesController {
  constructor(private readonly prefixes: PrefixesService) {}

  @Get()
  @ApiOperation({ summary: "The caller's own prefixes" })
  async mine(@CurrentPrincipal() p: Principal): Promise<{ items: PrefixView[] }> {
    return { items: (await this.prefixes.listForActor(p)).map(view) };
  }

  @Post()
  @RequireScopes('prefixes:write')
  @ApiOperation({ summary: 'Allocate a further enterprise prefix to a tenant (platform operator)' })
  async allocate(@CurrentPrincipal() p: Principal, @Body() body: AllocatePrefixDto): Promise<PrefixView> {
    return view(await this.prefixes.allocateManually(p, body.prefix, body.tenantId));
  }
}
