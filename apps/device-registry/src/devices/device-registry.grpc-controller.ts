import { Controller } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { DeviceRegistryV1 } from '@iip/contracts';
import { RequireScopes, principalOf } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE } from '@iip/platform-http';
import { ModelsService } from '../models/models.service';
import { DeviceScopes } from '../scopes';
import { DeviceView, DevicesService } from './devices.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function uuidOf(value: string, field: string): string {
  if (!UUID.test(value)) throw new RequestValidationError([{ field, message: 'must be a UUID' }]);
  return value;
}

/** gRPC adapter: the same service methods as the REST API. */
@Controller()
@DeviceRegistryV1.DeviceRegistryServiceControllerMethods()
export class DeviceRegistryGrpcController implements Pick<
  DeviceRegistryV1.DeviceRegistryServiceController,
  'getDevice' | 'listDevices' | 'getThingModel'
> {
  constructor(
    private readonly devices: DevicesService,
    private readonly models: ModelsService,
  ) {}

  @RequireScopes(DeviceScopes.DevicesRead)
  async getDevice(request: DeviceRegistryV1.GetDeviceRequest, metadata: Metadata): Promise<DeviceRegistryV1.Device> {
    return deviceMessage(await this.devices.get(principalOf(metadata), uuidOf(request.id, 'id')));
  }

  @RequireScopes(DeviceScopes.DevicesRead)
  async listDevices(request: DeviceRegistryV1.ListDevicesRequest, metadata: Metadata): Promise<DeviceRegistryV1.ListDevicesResponse> {
    if (request.limit < 0 || request.limit > 500) throw new RequestValidationError([{ field: 'limit', message: 'must be 0..500' }]);
    const page = await this.devices.list(
      principalOf(metadata),
      request.tenantId ? uuidOf(request.tenantId, 'tenant_id') : undefined,
      request.limit || DEFAULT_PAGE_SIZE,
      request.cursor || undefined,
    );
    return { devices: page.items.map(deviceMessage), nextCursor: page.nextCursor ?? '' };
  }

  @RequireScopes(DeviceScopes.DevicesRead)
  async getThingModel(request: DeviceRegistryV1.GetThingModelRequest, metadata: Metadata): Promise<DeviceRegistryV1.ThingModel> {
    const actor = principalOf(metadata);
    const id = uuidOf(request.id, 'id');
    const model = await this.models.get(actor, id);
    const version = request.version || model.latestPublished;
    if (version === null)
      throw new RequestValidationError([{ field: 'version', message: 'the model has no published version yet; name a draft version' }]);
    const v = await this.models.version(actor, id, version);
    return {
      id,
      tenantId: model.tenantId,
      name: model.name,
      version: v.version,
      definitionJson: JSON.stringify(v.definition),
      publishedAt: v.publishedAt ?? '',
    };
  }
}

function deviceMessage(d: DeviceView): DeviceRegistryV1.Device {
  const p = d.profile;
  return {
    ...d,
    handle: d.handle ?? '',
    gatewayId: d.gatewayId ?? '',
    profile: {
      category: p.category ?? '',
      commissionedOn: p.commissionedOn ?? '',
      ratedPowerKw: p.ratedPowerKw ?? 0,
      efficiencyGrade: p.efficiencyGrade ?? 0,
      ncCapable: p.ncCapable ?? false,
      keyProcess: p.keyProcess ?? false,
      criticality: p.criticality ?? '',
    },
  };
}
