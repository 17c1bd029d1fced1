import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AcceptsBasicAuth, CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { TelemetryScopes } from '../scopes';
import { deviceOf } from './device-authenticator';
import { IngestResult, IngestService } from './ingest.service';

const uuid = new ParseUUIDPipe({ version: undefined });

const POINTS_SCHEMA = {
  description:
    'A point {ts, values: {property: value}, units?: {property: UCUM unit}} or a list of them; ts is ISO 8601 with an offset or milliseconds since the epoch (now when absent)',
  oneOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }],
};

@ApiTags('telemetry')
@ApiBearerAuth()
@Controller('v1/devices/:deviceId/telemetry')
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @Post()
  @HttpCode(202)
  @AcceptsBasicAuth()
  @RequireScopes(TelemetryScopes.TelemetryWrite)
  @ApiBody({ schema: POINTS_SCHEMA })
  @ApiOperation({
    summary:
      "Send points (a device with Basic deviceId:secret, or a client with telemetry:write). 202 once Kafka holds them; values that do not fit the device's thing model are refused with their reason, the others go on",
  })
  send(@CurrentPrincipal() actor: Principal, @Param('deviceId', uuid) deviceId: string, @Body() body: unknown): Promise<IngestResult> {
    const device = deviceOf(actor);
    return this.ingest.ingest(device ? { device } : { principal: actor }, deviceId.toLowerCase(), body);
  }
}
