import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { TelemetryScopes } from '../scopes';
import { RETENTION_MAX_DAYS, RetentionService, RetentionView } from './retention.service';

export class RetentionTenantQuery {
  @ApiPropertyOptional({ description: 'A tenant you manage (a group: its subsidiaries; the operator: any); default: your own' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;
}

export class RetentionDto {
  @ApiProperty({ minimum: 1, maximum: RETENTION_MAX_DAYS, description: 'Raw points are kept this many days' })
  @IsInt()
  @Min(1)
  @Max(RETENTION_MAX_DAYS)
  rawDays!: number;

  @ApiProperty({
    minimum: 1,
    maximum: RETENTION_MAX_DAYS,
    description: 'Minute, hour and day rollups are kept this many days (at least rawDays)',
  })
  @IsInt()
  @Min(1)
  @Max(RETENTION_MAX_DAYS)
  rollupDays!: number;
}

@ApiTags('telemetry')
@ApiBearerAuth()
@Controller('v1/telemetry/retention')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get()
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: "How long a tenant's raw points and rollups are kept (its own setting or the defaults)" })
  get(@CurrentPrincipal() actor: Principal, @Query() q: RetentionTenantQuery): Promise<RetentionView> {
    return this.retention.get(actor, q.tenantId?.toLowerCase());
  }

  @Put()
  @RequireScopes(TelemetryScopes.TelemetryAdmin)
  @ApiOperation({ summary: "Sets a tenant's retention; the hourly upkeep deletes what is older" })
  set(@CurrentPrincipal() actor: Principal, @Query() q: RetentionTenantQuery, @Body() body: RetentionDto): Promise<RetentionView> {
    return this.retention.set(actor, q.tenantId?.toLowerCase(), { rawDays: body.rawDays, rollupDays: body.rollupDays });
  }
}
