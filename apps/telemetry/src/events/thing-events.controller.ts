import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { AcceptsBasicAuth, CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { deviceOf } from '../ingest/device-authenticator';
import { TimeRangeDto, cursorOf } from '../query/query.controller';
import { range } from '../query/query.service';
import { TelemetryScopes } from '../scopes';
import { ThingEventsService } from './thing-events.service';

const uuid = new ParseUUIDPipe({ version: undefined });

export class ThingEventQuery extends TimeRangeDto {
  @ApiPropertyOptional({ description: 'Only this event of the thing model' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { message: 'event must be a thing-model member name' })
  event?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  cursor?: string;
}

@ApiTags('events')
@ApiBearerAuth()
@Controller('v1/devices/:deviceId/events')
export class ThingEventsController {
  constructor(private readonly events: ThingEventsService) {}

  @Post()
  @HttpCode(202)
  @AcceptsBasicAuth()
  @RequireScopes(TelemetryScopes.TelemetryWrite)
  @ApiBody({
    schema: {
      description: "An event of the device's thing model {event, ts?, data?} or a list of them (as on MQTT iip/v1/{deviceId}/events)",
      oneOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }],
    },
  })
  @ApiOperation({ summary: 'Send events (a device with Basic deviceId:secret, or a client with telemetry:write); 202 once stored' })
  send(@CurrentPrincipal() actor: Principal, @Param('deviceId', uuid) deviceId: string, @Body() body: unknown) {
    const device = deviceOf(actor);
    return this.events.accept(device ? { device } : { principal: actor }, deviceId.toLowerCase(), body);
  }

  @Get()
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: 'The device’s events in [from, to), newest first' })
  list(@CurrentPrincipal() actor: Principal, @Param('deviceId', uuid) deviceId: string, @Query() q: ThingEventQuery) {
    const { from, to } = range(q);
    return this.events.list(actor, deviceId.toLowerCase(), {
      from,
      to,
      name: q.event,
      limit: q.limit ?? 100,
      before: q.cursor !== undefined ? cursorOf(q.cursor) : undefined,
    });
  }
}
