import { Metadata, ServiceError, credentials, makeGenericClientConstructor, status as GrpcStatus } from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import { DeviceRegistryV1 } from '@iip/contracts';
import { ClientCredentialsToken } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { CompiledModel, ThingModelDefinition, compileModel } from '@iip/thing-model';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';

export const REGISTRY_CLIENT = Symbol('REGISTRY_CLIENT');

/** A device whose credential the registry accepted. */
export interface AuthenticatedDevice {
  deviceId: string;
  tenantId: string;
  modelId: string;
  modelVersion: number;
  status: string;
  credentialId: string;
}

/** A published model version, compiled once (a published version never changes). */
export interface UsableModel {
  definition: ThingModelDefinition;
  compiled: CompiledModel;
}

type Unary = (req: unknown, md: Metadata, options: { deadline: number }, cb: (err: ServiceError | null, res?: unknown) => void) => void;

/**
 * The device registry as telemetry asks it, over gRPC with this service's own token: device
 * credentials (on every connection) and thing models (once per published version).
 */
export class RegistryClient {
  private readonly client: Record<string, Unary> & { close(): void };
  private readonly models = new LRUCache<string, Promise<UsableModel>>({ max: 1000 });

  constructor(
    url: string,
    private readonly token: ClientCredentialsToken,
  ) {
    const Ctor = makeGenericClientConstructor(DeviceRegistryV1.DeviceRegistryServiceService, 'DeviceRegistryService');
    this.client = new Ctor(url, credentials.createInsecure()) as unknown as Record<string, Unary> & { close(): void };
  }

  /** The device a credential belongs to; DEVICE_NOT_AUTHENTICATED for any refusal (wrong, revoked, unknown alike). */
  async authenticate(input: { deviceId: string; secret?: string; certificateFingerprint?: string }): Promise<AuthenticatedDevice> {
    const res = (await this.call('authenticateDevice', {
      deviceId: input.deviceId,
      secret: input.secret ?? '',
      certificateFingerprint: input.certificateFingerprint ?? '',
    })) as DeviceRegistryV1.AuthenticatedDevice;
    return {
      deviceId: res.deviceId,
      tenantId: res.tenantId,
      modelId: res.model?.id ?? '',
      modelVersion: res.model?.version ?? 0,
      status: res.status,
      credentialId: res.credentialId,
    };
  }

  model(modelId: string, version: number): Promise<UsableModel> {
    const key = `${modelId}@${version}`;
    let pending = this.models.get(key);
    if (!pending) {
      pending = this.call('getThingModel', { id: modelId, version }).then((res) => {
        const definition = JSON.parse((res as DeviceRegistryV1.ThingModel).definitionJson) as ThingModelDefinition;
        return { definition, compiled: compileModel(definition) };
      });
      // A failure is not remembered: the next point asks again.
      pending.catch(() => this.models.delete(key));
      this.models.set(key, pending);
    }
    return pending;
  }

  /** The latest published version of a model, asked afresh (not cached: a newer version may have been published). */
  async latestModel(modelId: string): Promise<{ tenantId: string; version: number; definition: ThingModelDefinition }> {
    const res = (await this.call('getThingModel', { id: modelId, version: 0 })) as DeviceRegistryV1.ThingModel;
    return { tenantId: res.tenantId, version: res.version, definition: JSON.parse(res.definitionJson) as ThingModelDefinition };
  }

  /** Applies a device's reported twin document (a JSON Merge Patch), checked by the registry against its model. */
  async updateReported(deviceId: string, patch: Record<string, unknown>): Promise<void> {
    await this.call('updateReported', { deviceId, patchJson: JSON.stringify(patch), expectedVersion: 0 });
  }

  /** The device's desired document, its version and what the device has not reported yet (the delta). */
  async desired(deviceId: string): Promise<{ version: number; desired: Record<string, unknown>; delta: Record<string, unknown> }> {
    const twin = (await this.call('getTwin', { deviceId })) as DeviceRegistryV1.Twin;
    const parse = (json: string) => (json ? (JSON.parse(json) as Record<string, unknown>) : {});
    return { version: twin.desiredVersion, desired: parse(twin.desiredJson), delta: parse(twin.deltaJson) };
  }

  /**
   * One page of the devices a fleet query matches, asked with the caller's own bearer token, so
   * the registry answers with what the caller may see. A query that does not parse is the
   * caller's 400 (naming `query`); a token without devices:read, SELECTION_NOT_PERMITTED.
   */
  async listDevices(
    authorization: string,
    query: string,
    limit: number,
    cursor: string,
  ): Promise<{ devices: { id: string; tenantId: string }[]; nextCursor: string }> {
    const md = new Metadata();
    md.set('authorization', authorization);
    try {
      const res = (await new Promise<unknown>((resolve, reject) =>
        this.client.listDevices({ limit, cursor, tenantId: '', query }, md, { deadline: Date.now() + 5_000 }, (err, r) =>
          err ? reject(err) : resolve(r),
        ),
      )) as DeviceRegistryV1.ListDevicesResponse;
      return { devices: res.devices.map((d) => ({ id: d.id, tenantId: d.tenantId })), nextCursor: res.nextCursor };
    } catch (err) {
      const e = err as ServiceError;
      if (e.code === GrpcStatus.INVALID_ARGUMENT)
        throw new RequestValidationError([{ field: 'query', message: (e.details || 'is not a fleet query').replace(/^q: /, '') }]);
      if (e.code === GrpcStatus.PERMISSION_DENIED || e.code === GrpcStatus.UNAUTHENTICATED)
        throw new TelemetryError(
          TelemetryErrorCode.SELECTION_NOT_PERMITTED,
          'Selecting devices by site, line, tag or query asks the device registry with your token, which needs devices:read',
        );
      return unavailable(`the device registry answered ${GrpcStatus[e.code] ?? e.code}: ${e.details ?? e.message}`);
    }
  }

  close(): void {
    this.client.close();
  }

  private async call(method: string, request: unknown, retried = false): Promise<unknown> {
    const md = new Metadata();
    md.set('authorization', `Bearer ${await this.token.get().catch(() => unavailable('no token for the device registry'))}`);
    try {
      return await new Promise((resolve, reject) =>
        this.client[method](request, md, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    } catch (err) {
      const e = err as ServiceError;
      if (e.code === GrpcStatus.UNAUTHENTICATED && method !== 'authenticateDevice' && !retried) {
        this.token.drop();
        return this.call(method, request, true);
      }
      if (e.code === GrpcStatus.UNAUTHENTICATED)
        throw new TelemetryError(TelemetryErrorCode.DEVICE_NOT_AUTHENTICATED, 'The device credential was not accepted');
      if (e.code === GrpcStatus.NOT_FOUND) throw new TelemetryError(TelemetryErrorCode.DEVICE_NOT_FOUND, e.details || 'not found');
      if (e.code === GrpcStatus.INVALID_ARGUMENT) throw new TelemetryError(TelemetryErrorCode.PAYLOAD_INVALID, e.details || 'not valid');
      return unavailable(`the device registry answered ${GrpcStatus[e.code] ?? e.code}: ${e.details ?? e.message}`);
    }
  }
}

function unavailable(message: string): never {
  throw new TelemetryError(TelemetryErrorCode.REGISTRY_UNAVAILABLE, `The device registry cannot be asked now (${message}); try again`);
}
