import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { AlarmState } from '@iip/contracts';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { requestSchema, schemaPipe } from '@iip/platform-errors';
import { openApiSchema } from '@iip/platform-http';
import { TelemetryScopes } from '../scopes';
import { AlarmView, AlarmsService, NewRule } from './alarms.service';

const uuid = new ParseUUIDPipe({ version: undefined });
const ALARM_STATES: AlarmState[] = ['active-unacknowledged', 'active-acknowledged', 'cleared-unacknowledged', 'cleared'];
const seconds = { type: 'number', minimum: 0, maximum: 31_536_000 };

const RULE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'property', 'kind', 'severity'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    deviceId: { type: 'string', format: 'uuid' },
    modelId: { type: 'string', format: 'uuid' },
    property: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' },
    kind: { enum: ['threshold', 'rate', 'no-data'] },
    severity: { enum: ['low', 'medium', 'high', 'critical'] },
    threshold: {
      type: 'object',
      additionalProperties: false,
      required: ['op', 'value'],
      properties: {
        op: { enum: ['>', '>=', '<', '<='] },
        value: { type: 'number' },
        forSeconds: seconds,
        hysteresis: { type: 'number', minimum: 0 },
      },
    },
    rate: {
      type: 'object',
      additionalProperties: false,
      required: ['perSecond'],
      properties: { perSecond: { type: 'number', exclusiveMinimum: 0 }, hysteresis: { type: 'number', minimum: 0 } },
    },
    noData: {
      type: 'object',
      additionalProperties: false,
      required: ['seconds'],
      properties: { seconds: { type: 'number', minimum: 1, maximum: 31_536_000 } },
    },
  },
};
const ruleSchema = requestSchema<NewRule>(RULE_SCHEMA);

export class AlarmListQuery {
  @ApiPropertyOptional({ enum: ALARM_STATES })
  @IsOptional()
  @IsIn(ALARM_STATES)
  state?: AlarmState;

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

export class ShelveBody {
  @ApiPropertyOptional({ minimum: 1, maximum: 10_080, default: 60 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_080)
  minutes?: number;
}

@ApiTags('rules and alarms')
@ApiBearerAuth()
@Controller('v1')
export class AlarmsController {
  constructor(private readonly alarms: AlarmsService) {}

  @Post('rules')
  @RequireScopes(TelemetryScopes.AlarmsWrite)
  @ApiBody({ schema: openApiSchema(RULE_SCHEMA) })
  @ApiOperation({
    summary: 'A rule on one device or every device of a model: threshold (with duration and hysteresis), rate of change, or no data',
  })
  createRule(@CurrentPrincipal() actor: Principal, @Body(schemaPipe(ruleSchema)) body: NewRule) {
    return this.alarms.createRule(actor, body);
  }

  @Get('rules')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: "Your tenant's rules" })
  listRules(@CurrentPrincipal() actor: Principal) {
    return this.alarms.listRules(actor);
  }

  @Delete('rules/:id')
  @HttpCode(204)
  @RequireScopes(TelemetryScopes.AlarmsWrite)
  @ApiOperation({ summary: 'Remove a rule (its alarms stay, as history)' })
  async deleteRule(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<void> {
    await this.alarms.deleteRule(actor, id);
  }

  @Get('alarms')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: 'Alarms of your tenant and its subtree, newest first' })
  list(@CurrentPrincipal() actor: Principal, @Query() q: AlarmListQuery): Promise<AlarmView[]> {
    return this.alarms.list(actor, { state: q.state, deviceId: q.deviceId, limit: q.limit ?? 100 });
  }

  @Post('alarms/:id/acknowledge')
  @HttpCode(200)
  @RequireScopes(TelemetryScopes.AlarmsWrite)
  @ApiOperation({ summary: 'Acknowledge (ISA-18.2): active → active-acknowledged, cleared-unacknowledged → cleared' })
  acknowledge(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<AlarmView> {
    return this.alarms.acknowledge(actor, id);
  }

  @Post('alarms/:id/shelve')
  @HttpCode(200)
  @RequireScopes(TelemetryScopes.AlarmsWrite)
  @ApiOperation({ summary: 'Shelve an alarm for some minutes (it is not annunciated meanwhile)' })
  shelve(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string, @Body() body: ShelveBody): Promise<AlarmView> {
    return this.alarms.shelve(actor, id, body.minutes ?? 60);
  }
}
