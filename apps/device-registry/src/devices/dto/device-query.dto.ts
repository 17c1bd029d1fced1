import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQuery } from '@iip/platform-http';
import { COUNT_FIELDS, CountField } from './device.dto';

export class ListDevicesQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only the devices of this tenant (one you manage)' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;
}

export class CountDevicesQuery {
  @ApiPropertyOptional({ enum: COUNT_FIELDS, default: 'status' })
  @IsOptional()
  @IsIn(COUNT_FIELDS)
  groupBy?: CountField;

  @ApiPropertyOptional({ description: 'Only the devices of this tenant' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;
}
