import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { schemaPipe } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE, Page, ifMatchVersion, openApiSchema } from '@iip/platform-http';
import { DeviceScopes } from '../scopes';
import {
  CREATE_DEVICE_SCHEMA,
  CreateDeviceInput,
  LIFECYCLE_SCHEMA,
  LifecycleInput,
  UPDATE_DEVICE_SCHEMA,
  UpdateDeviceInput,
  createDeviceSchema,
  lifecycleSchema,
  updateDeviceSchema,
} from './dto/device.dto';
import { CountDevicesQuery, ListDevicesQuery } from './dto/device-query.dto';
import { DeviceView, DevicesService } from './devices.service';

const uuid = new ParseUUIDPipe({ version: undefined });
const IF_MATCH = { name: 'If-Match', required: false, description: 'The version read ("3"); a stale one answers 409' };

@ApiTags('devices')
@ApiBearerAuth()
@Controller('v1/devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Post()
  @RequireScopes(DeviceScopes.DevicesWrite)
  @ApiBody({ schema: openApiSchema(CREATE_DEVICE_SCHEMA) })
  @ApiOperation({ summary: 'Register a device; identifier gives it its industrial internet identifier (handle) moments later' })
  register(@CurrentPrincipal() actor: Principal, @Body(schemaPipe(createDeviceSchema)) body: CreateDeviceInput): Promise<DeviceView> {
    return this.devices.register(actor, body);
  }

  @Get()
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: "Devices you manage: your own and your subsidiaries'" })
  list(@CurrentPrincipal() actor: Principal, @Query() q: ListDevicesQuery): Promise<Page<DeviceView>> {
    return this.devices.list(actor, q.tenantId, q.limit ?? DEFAULT_PAGE_SIZE, q.cursor);
  }

  @Get('counts')
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: "Device counts by a field; a park counts its members' devices (and reads none of them)" })
  counts(@CurrentPrincipal() actor: Principal, @Query() q: CountDevicesQuery) {
    return this.devices.count(actor, q.groupBy ?? 'status', q.tenantId);
  }

  @Get(':id')
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: 'A device you manage, or whose tenant granted you devices:read (any other answers 404)' })
  get(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<DeviceView> {
    return this.devices.get(actor, id, authorization);
  }

  @Patch(':id')
  @RequireScopes(DeviceScopes.DevicesWrite)
  @ApiHeader(IF_MATCH)
  @ApiBody({ schema: openApiSchema(UPDATE_DEVICE_SCHEMA) })
  @ApiOperation({ summary: 'Change name, tags, gateway or equipment profile' })
  update(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Body(schemaPipe(updateDeviceSchema)) body: UpdateDeviceInput,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<DeviceView> {
    return this.devices.update(actor, id, body, ifMatchVersion(ifMatch));
  }

  @Post(':id/lifecycle')
  @HttpCode(200)
  @RequireScopes(DeviceScopes.DevicesWrite)
  @ApiHeader(IF_MATCH)
  @ApiBody({ schema: openApiSchema(LIFECYCLE_SCHEMA) })
  @ApiOperation({ summary: 'Move the device: provisioned → active ⇄ suspended → decommissioned (final)' })
  lifecycle(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Body(schemaPipe(lifecycleSchema)) body: LifecycleInput,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<DeviceView> {
    return this.devices.moveTo(actor, id, body, ifMatchVersion(ifMatch));
  }
}
