import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { BasicAuthenticator, BasicCredentials, Principal, basicUnauthenticated } from '@iip/platform-auth';
import { DevicesRepository } from '../devices/devices.repository';
import { REGISTRY_CLIENT, RegistryClient } from '../registry/registry-client';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';
import { TelemetryScopes } from '../scopes';

/** Principals that are devices (HTTP Basic with the device id and its secret), with the device they are. */
const devices = new WeakMap<Principal, { deviceId: string; tenantId: string }>();

export function deviceOf(principal: Principal): { deviceId: string; tenantId: string } | undefined {
  return devices.get(principal);
}

/**
 * HTTP Basic for devices: user = device id, password = one of its secrets, checked by the
 * device registry. The principal may only send telemetry (for itself or, a gateway, its sub-devices).
 */
@Injectable()
export class DeviceAuthenticator extends BasicAuthenticator {
  constructor(
    @Inject(REGISTRY_CLIENT) private readonly registry: RegistryClient,
    private readonly deviceRows: DevicesRepository,
  ) {
    super();
  }

  async authenticate(credentials: BasicCredentials, _req: Request): Promise<Principal> {
    let device;
    try {
      device = await this.registry.authenticate({ deviceId: credentials.user, secret: credentials.password });
    } catch (err) {
      if (err instanceof TelemetryError && err.code !== TelemetryErrorCode.DEVICE_NOT_AUTHENTICATED) throw err;
      throw basicUnauthenticated('The device id and secret were not accepted');
    }
    const known = await this.deviceRows.find(device.deviceId);
    const principal: Principal = {
      clientId: `device:${device.deviceId}`,
      tenant: { id: device.tenantId, kind: known?.tenantKind ?? 'subsidiary', path: known?.tenantPath ?? [device.tenantId] },
      scopes: new Set([TelemetryScopes.TelemetryWrite]),
      issuedAt: Math.floor(Date.now() / 1000),
      expiresAt: Math.floor(Date.now() / 1000) + 60,
    };
    devices.set(principal, { deviceId: device.deviceId, tenantId: device.tenantId });
    return principal;
  }
}
