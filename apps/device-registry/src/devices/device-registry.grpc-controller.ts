import { Controller } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { DeviceRegistryV1 } from '@iip/contracts';
import { RequireScopes, principalOf } from '@iip/platform-auth';
import { RequestValidationError, parseBoundedJson, uuidField } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE } from '@iip/platform-http';
import { CredentialsService } from '../credentials/credentials.service';
import { ModelsService } from '../models/models.service';
import { JsonObject } from '../twins/twin-document';
import { TwinView, TwinsService } from '../twins/twins.service';
import { TwinWatchService } from '../twins/twin-watch.service';
import { Observable, map } from 'rxjs';
import { DeviceScopes } from '../scopes';
import { DeviceView, DevicesService } from './devices.service';

/** gRPC adapter: the same service methods as the REST API. */
@Controller()
@DeviceRegistryV1.DeviceRegistryServiceControllerMethods()
export class DeviceRegistryGrpcController implements DeviceRegistryV1.DeviceRegistryServiceController {
  constructor(
    private readonly devices: DevicesService,
    private readonly models: ModelsService,
    private readonly credentials: CredentialsService,
    private readonly twins: TwinsService,
    private readonly watches: TwinWatchService,
  ) {}

  @RequireScopes(DeviceScopes.DevicesRead)
  watchTwinChanges(request: DeviceRegistryV1.WatchTwinChangesRequest, metadata: Metadata): Observable<DeviceRegistryV1.TwinChange> {
    return this.watches.watch(principalOf(metadata), request.deviceId ? uuidField(request.deviceId, 'device_id') : undefined).pipe(
      map((c) => ({
        deviceId: c.deviceId,
        side: c.side,
        version: c.version,
        patchJson: JSON.stringify(c.patch),
        deltaJson: JSON.stringify(c.delta),
        time: c.time,
      })),
    );
  }

  @RequireScopes(DeviceScopes.DevicesAuthenticate)
  async authenticateDevice(
    request: DeviceRegistryV1.AuthenticateDeviceRequest,
    metadata: Metadata,
  ): Promise<DeviceRegistryV1.AuthenticatedDevice> {
    const { device, credentialId } = await this.credentials.authenticate(principalOf(metadata), {
      deviceId: request.deviceId ? uuidField(request.deviceId, 'device_id') : undefined,
      secret: request.secret || undefined,
      fingerprint: request.certificateFingerprint || undefined,
    });
    return {
      deviceId: device.id,
      tenantId: device.tenantId,
      model: { id: device.modelId, name: device.modelName, version: device.modelVersion },
      status: device.status,
      handle: device.handle ?? '',
      credentialId,
    };
  }

  @RequireScopes(DeviceScopes.DevicesRead)
  async getTwin(request: DeviceRegistryV1.GetTwinRequest, metadata: Metadata): Promise<DeviceRegistryV1.Twin> {
    return twinMessage(await this.twins.get(principalOf(metadata), uuidField(request.deviceId, 'device_id')));
  }

  @RequireScopes(DeviceScopes.DevicesWrite)
  async updateReported(request: DeviceRegistryV1.UpdateReportedRequest, metadata: Metadata): Promise<DeviceRegistryV1.Twin> {
    let patch: unknown;
    try {
      patch = parseBoundedJson(request.patchJson);
    } catch {
      throw new RequestValidationError([{ field: 'patch_json', message: 'must be a JSON object' }]);
    }
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new RequestValidationError([{ field: 'patch_json', message: 'must be a JSON object' }]);
    }
    if (request.expectedVersion < 0) throw new RequestValidationError([{ field: 'expected_version', message: 'must not be negative' }]);
    const twin = await this.twins.patch(
      principalOf(metadata),
      uuidField(request.deviceId, 'device_id'),
      'reported',
      patch as JsonObject,
      request.expectedVersion || undefined,
    );
    return twinMessage(twin);
  }

  @RequireScopes(DeviceScopes.DevicesRead)
  async getDevice(request: DeviceRegistryV1.GetDeviceRequest, metadata: Metadata): Promise<DeviceRegistryV1.Device> {
    const authorization = metadata.get('authorization')[0];
    return deviceMessage(
      await this.devices.get(
        principalOf(metadata),
        uuidField(request.id, 'id'),
        typeof authorization === 'string' ? authorization : undefined,
      ),
    );
  }

  @RequireScopes(DeviceScopes.DevicesRead)
  async listDevices(request: DeviceRegistryV1.ListDevicesRequest, metadata: Metadata): Promise<DeviceRegistryV1.ListDevicesResponse> {
    if (request.limit < 0 || request.limit > 500) throw new RequestValidationError([{ field: 'limit', message: 'must be 0..500' }]);
    const page = await this.devices.list(
      principalOf(metadata),
      request.tenantId ? uuidField(request.tenantId, 'tenant_id') : undefined,
      request.limit || DEFAULT_PAGE_SIZE,
      request.cursor || undefined,
      request.query,
    );
    return { devices: page.items.map(deviceMessage), nextCursor: page.nextCursor ?? '' };
  }

  @RequireScopes(DeviceScopes.DevicesRead)
  async getThingModel(request: DeviceRegistryV1.GetThingModelRequest, metadata: Metadata): Promise<DeviceRegistryV1.ThingModel> {
    const actor = principalOf(metadata);
    const id = uuidField(request.id, 'id');
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
    replaces: d.replaces ?? '',
    replacedBy: d.replacedBy ?? '',
    profile: {
      category: p.category ?? '',
      commissionedOn: p.commissionedOn ?? '',
      ratedPowerKw: p.ratedPowerKw ?? 0,
      efficiencyGrade: p.efficiencyGrade ?? 0,
      ncCapable: p.ncCapable ?? false,
      keyProcess: p.keyProcess ?? false,
      criticality: p.criticality ?? '',
      belowAccessLevel: p.belowAccessLevel ?? false,
    },
  };
}

function twinMessage(t: TwinView): DeviceRegistryV1.Twin {
  return {
    deviceId: t.deviceId,
    desiredJson: JSON.stringify(t.desired.document),
    desiredVersion: t.desired.version,
    reportedJson: JSON.stringify(t.reported.document),
    reportedVersion: t.reported.version,
    deltaJson: JSON.stringify(t.delta),
  };
}
