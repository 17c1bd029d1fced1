import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { DEFAULT_PAGE_SIZE, Page, PageQuery } from '@iip/platform-http';
import { DeviceView, DevicesService, GroupableField } from '../devices/devices.service';
import { DeviceScopes } from '../scopes';
import { GROUPABLE_FIELDS } from './fleet-query';

const Q_DOC = "e.g. reported.temperature > 80 AND tags.line = 'L1' AND profile.category = 'pump' (README, \"Fleet query\"); empty: all";

export class FleetQuery extends PageQuery {
  @ApiPropertyOptional({ description: Q_DOC, maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  q?: string;
}

export class FleetCountQuery {
  @ApiPropertyOptional({ description: Q_DOC, maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  q?: string;

  @ApiPropertyOptional({ enum: GROUPABLE_FIELDS })
  @IsOptional()
  @IsIn(GROUPABLE_FIELDS)
  groupBy?: GroupableField;
}

@ApiTags('fleet')
@ApiBearerAuth()
@Controller('v1/fleet')
export class FleetController {
  constructor(private readonly devices: DevicesService) {}

  @Get('devices')
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: 'Devices you manage that match a query over attributes, tags, profile and twin values' })
  devicesMatching(@CurrentPrincipal() actor: Principal, @Query() query: FleetQuery): Promise<Page<DeviceView>> {
    return this.devices.search(actor, query.q ?? '', query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  @Get('counts')
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: "How many match, grouped by a field; a park counts its members' devices" })
  counts(@CurrentPrincipal() actor: Principal, @Query() query: FleetCountQuery) {
    return this.devices.searchCounts(actor, query.q ?? '', query.groupBy);
  }
}
