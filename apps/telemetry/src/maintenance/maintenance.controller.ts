import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { WorkOrderOutcome, WorkOrderStatus } from '@iip/contracts';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { requestSchema, schemaPipe } from '@iip/platform-errors';
import { openApiSchema } from '@iip/platform-http';
import { TelemetryScopes } from '../scopes';
import { DeviceHealthView, MaintenanceService, ProfileInput, ProfileView, WorkOrderView } from './maintenance.service';

const uuid = new ParseUUIDPipe({ version: undefined });
const WORK_ORDER_STATUSES: WorkOrderStatus[] = ['open', 'in-progress', 'closed'];
const OUTCOMES: WorkOrderOutcome[] = ['failure', 'wear-repaired', 'no-fault'];
const property = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' };
const positive = { type: 'number', exclusiveMinimum: 0, maximum: 1e9 };
const celsius = { type: 'number', minimum: -50, maximum: 500 };

const PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['properties', 'machineGroup', 'foundation'],
  properties: {
    properties: {
      type: 'object',
      additionalProperties: false,
      required: ['vibration'],
      description:
        'Properties of the thing model (numeric): vibration velocity RMS (mm/s), bearing temperature (Cel), and for pumps flow (m3/h), head (m) or pressure (kPa), power (kW); another unit of the kind is converted',
      properties: {
        vibration: property,
        bearingTemperature: property,
        flow: property,
        head: property,
        pressure: property,
        power: property,
      },
    },
    machineGroup: { enum: [1, 2], description: 'ISO 10816-3: 1 large machines (300 kW – 50 MW), 2 medium (15 – 300 kW)' },
    foundation: { enum: ['rigid', 'flexible'] },
    bestEfficiencyPoint: {
      type: 'object',
      additionalProperties: false,
      required: ['flow', 'head', 'power'],
      description: 'The rated best-efficiency point: flow m3/h, head m, shaft power kW',
      properties: { flow: positive, head: positive, power: positive },
    },
    bearingTemperatureLimits: {
      type: 'object',
      additionalProperties: false,
      required: ['warning', 'alarm'],
      description: 'Cel',
      properties: { warning: celsius, alarm: celsius },
    },
  },
};
const profileSchema = requestSchema<ProfileInput>(PROFILE_SCHEMA);

const CLOSE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['outcome'],
  properties: {
    outcome: { enum: OUTCOMES, description: 'failure counts toward the renewal failure-rate rule' },
    notes: { type: 'string', maxLength: 2000 },
  },
};
const closeSchema = requestSchema<{ outcome: WorkOrderOutcome; notes?: string }>(CLOSE_SCHEMA);

export class WorkOrderListQuery {
  @ApiPropertyOptional({ enum: WORK_ORDER_STATUSES })
  @IsOptional()
  @IsIn(WORK_ORDER_STATUSES)
  status?: WorkOrderStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID('all')
  deviceId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

@ApiTags('maintenance')
@ApiBearerAuth()
@Controller('v1')
export class MaintenanceController {
  constructor(private readonly maintenance: MaintenanceService) {}

  @Put('maintenance/profiles/:id')
  @RequireScopes(TelemetryScopes.MaintenanceWrite)
  @ApiBody({ schema: openApiSchema(PROFILE_SCHEMA) })
  @ApiOperation({
    summary:
      'The health profile of a device, or of every device of a thing model in your subtree (its latest published version): the mapped properties (checked against the model), ISO 10816-3 machine group and foundation, BEP, bearing limits',
  })
  putProfile(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Body(schemaPipe(profileSchema)) body: ProfileInput,
  ): Promise<ProfileView> {
    return this.maintenance.putProfile(actor, id.toLowerCase(), body);
  }

  @Get('maintenance/profiles/:id')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: 'The health profile of a device or model' })
  getProfile(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<ProfileView> {
    return this.maintenance.getProfile(actor, id.toLowerCase());
  }

  @Delete('maintenance/profiles/:id')
  @HttpCode(204)
  @RequireScopes(TelemetryScopes.MaintenanceWrite)
  @ApiOperation({ summary: 'Remove a health profile (the work orders stay)' })
  async deleteProfile(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<void> {
    await this.maintenance.deleteProfile(actor, id.toLowerCase());
  }

  @Get('devices/:id/health')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({
    summary:
      'Health of a device with a profile: score 0–100, ISO 10816-3 zone, vibration trend (Theil–Sen, mm/s a day), remaining days to the zone C/D boundary with an interval, as of the last hour evaluated',
  })
  health(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<DeviceHealthView> {
    return this.maintenance.health(actor, id.toLowerCase());
  }

  @Get('maintenance/work-orders')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: 'Maintenance work orders of your tenant and its subtree, newest first' })
  listWorkOrders(@CurrentPrincipal() actor: Principal, @Query() q: WorkOrderListQuery): Promise<WorkOrderView[]> {
    return this.maintenance.listWorkOrders(actor, { status: q.status, deviceId: q.deviceId?.toLowerCase(), limit: q.limit ?? 100 });
  }

  @Get('maintenance/work-orders/:id')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: 'A work order, with the newest prediction behind it' })
  getWorkOrder(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<WorkOrderView> {
    return this.maintenance.getWorkOrder(actor, id.toLowerCase());
  }

  @Post('maintenance/work-orders/:id/close')
  @HttpCode(200)
  @RequireScopes(TelemetryScopes.MaintenanceWrite)
  @ApiBody({ schema: openApiSchema(CLOSE_SCHEMA) })
  @ApiOperation({ summary: 'Close a work order with its outcome (WorkOrderClosed); the device’s trend starts over' })
  close(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Body(schemaPipe(closeSchema)) body: { outcome: WorkOrderOutcome; notes?: string },
  ): Promise<WorkOrderView> {
    return this.maintenance.closeWorkOrder(actor, id.toLowerCase(), body);
  }
}
