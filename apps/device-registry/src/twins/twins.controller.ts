import { Body, Controller, Get, Headers, Param, ParseUUIDPipe, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { requestSchema, schemaPipe } from '@iip/platform-errors';
import { ifMatchVersion } from '@iip/platform-http';
import { DeviceScopes } from '../scopes';
import { JsonObject } from './twin-document';
import { TwinView, TwinsService } from './twins.service';

const uuid = new ParseUUIDPipe({ version: undefined });
const MERGE_PATCH = {
  type: 'object',
  description: 'A JSON Merge Patch (RFC 7396) of the document: members set replace, null removes, objects merge',
};
const mergePatchSchema = requestSchema<JsonObject>(MERGE_PATCH);
const IF_MATCH = { name: 'If-Match', required: false, description: 'The version of this document you read ("3"); a stale one answers 409' };

@ApiTags('device twins')
@ApiBearerAuth()
@Controller('v1/devices/:deviceId/twin')
export class TwinsController {
  constructor(private readonly twins: TwinsService) {}

  @Get()
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: 'Desired and reported documents with versions and per-leaf timestamps, and the delta' })
  get(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<TwinView> {
    return this.twins.get(actor, deviceId, authorization);
  }

  @Patch('desired')
  @RequireScopes(DeviceScopes.DevicesWrite)
  @ApiHeader(IF_MATCH)
  @ApiBody({ schema: MERGE_PATCH })
  @ApiOperation({ summary: "Change the desired document (read-write properties of the device's model only; at most 256 KB)" })
  desired(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Body(schemaPipe(mergePatchSchema)) patch: JsonObject,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<TwinView> {
    return this.twins.patch(actor, deviceId, 'desired', patch, ifMatchVersion(ifMatch, undefined, 0));
  }

  @Patch('reported')
  @RequireScopes(DeviceScopes.DevicesWrite)
  @ApiHeader(IF_MATCH)
  @ApiBody({ schema: MERGE_PATCH })
  @ApiOperation({ summary: 'Change the reported document (what the device says; checked against its model; at most 256 KB)' })
  reported(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Body(schemaPipe(mergePatchSchema)) patch: JsonObject,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<TwinView> {
    return this.twins.patch(actor, deviceId, 'reported', patch, ifMatchVersion(ifMatch, undefined, 0));
  }
}
