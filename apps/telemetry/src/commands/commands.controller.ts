import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CommandStatus } from '@iip/contracts';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { RequestValidationError, requestSchema, schemaPipe } from '@iip/platform-errors';
import { openApiSchema } from '@iip/platform-http';
import { cursorOf } from '../query/query.controller';
import { TelemetryScopes } from '../scopes';
import { CommandView, CommandsService, DEFAULT_COMMAND_TIMEOUT_S, MAX_COMMAND_TIMEOUT_S } from './commands.service';

const uuid = new ParseUUIDPipe({ version: undefined });
const STATUSES: CommandStatus[] = ['queued', 'delivered', 'succeeded', 'failed', 'timed-out'];
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const COMMAND_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    input: { type: 'object', description: "The command's inputs, as the device's thing model defines them" },
    timeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_COMMAND_TIMEOUT_S,
      description: `How long the device has to answer, counted from now (it may be offline meanwhile); default ${DEFAULT_COMMAND_TIMEOUT_S}`,
    },
  },
};
const commandBody = schemaPipe(requestSchema<{ input?: Record<string, unknown>; timeoutSeconds?: number }>(COMMAND_SCHEMA));

export class CommandListQuery {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: CommandStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  cursor?: string;
}

@ApiTags('commands')
@ApiBearerAuth()
@Controller('v1/devices/:deviceId/commands')
export class CommandsController {
  constructor(private readonly commands: CommandsService) {}

  @Post(':name')
  @HttpCode(202)
  @RequireScopes(TelemetryScopes.CommandsWrite)
  @ApiBody({ schema: openApiSchema(COMMAND_SCHEMA) })
  @ApiOperation({
    summary:
      'Invoke a command of the device’s thing model: checked against its inputs, delivered over MQTT on iip/v1/{deviceId}/commands/{name} now or when the device next subscribes, answered by the device or timed out',
  })
  request(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Param('name') name: string,
    @Body(commandBody) body: { input?: Record<string, unknown>; timeoutSeconds?: number },
  ): Promise<CommandView> {
    if (!NAME.test(name)) throw new RequestValidationError([{ field: 'name', message: 'is not a command name' }]);
    return this.commands.request(actor, deviceId.toLowerCase(), name, body);
  }

  @Get()
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: 'The device’s commands, newest first' })
  list(@CurrentPrincipal() actor: Principal, @Param('deviceId', uuid) deviceId: string, @Query() q: CommandListQuery) {
    return this.commands.list(actor, deviceId.toLowerCase(), {
      status: q.status,
      limit: q.limit ?? 50,
      before: q.cursor !== undefined ? cursorOf(q.cursor) : undefined,
    });
  }

  @Get(':commandId')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: 'One command: its status (queued → delivered → succeeded | failed, or timed-out) and the device’s answer' })
  get(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Param('commandId', uuid) commandId: string,
  ): Promise<CommandView> {
    return this.commands.get(actor, deviceId.toLowerCase(), commandId.toLowerCase());
  }
}
