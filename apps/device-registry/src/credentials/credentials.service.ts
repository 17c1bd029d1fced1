import { Inject, Injectable } from '@nestjs/common';
import { X509Certificate, createHash, randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CredentialEventTypes } from '@iip/contracts';
import { KeyedSecretHash, Principal, canManage } from '@iip/platform-auth';
import { DeviceRegistryError, DeviceRegistryErrorCode } from '../device-registry.errors';
import { DevicesRepository } from '../devices/devices.repository';
import { DevicesService } from '../devices/devices.service';
import { DeviceRegistryOutbox } from '../messaging/device-registry-outbox';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { CachedCredentials, CredentialCache } from './credential-cache';
import { CredentialRow, CredentialsRepository } from './credentials.repository';

/** Active credentials per device at most: the one in use and its replacement during a rotation. */
export const MAX_ACTIVE_CREDENTIALS = 2;

export const CREDENTIAL_HASH = Symbol('CREDENTIAL_HASH');

export interface CredentialView {
  id: string;
  deviceId: string;
  kind: 'secret' | 'x509';
  fingerprint: string | null;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export type IssueCredentialInput =
  { kind: 'secret'; label?: string } | { kind: 'x509'; certificatePem?: string; fingerprint?: string; label?: string };

/** Who AuthenticateDevice found, when the credential is good. */
export interface AuthenticatedDevice {
  device: CachedCredentials['device'];
  credentialId: string;
}

const FINGERPRINT = /^[0-9a-f]{64}$/;

/** Telemetry credentials of devices: issue (a secret shown once), rotate with two active, revoke, authenticate. */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly credentials: CredentialsRepository,
    private readonly devicesRepo: DevicesRepository,
    private readonly devices: DevicesService,
    private readonly cache: CredentialCache,
    private readonly outbox: DeviceRegistryOutbox,
    @Inject(CREDENTIAL_HASH) private readonly keyed: KeyedSecretHash,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async issue(actor: Principal, deviceId: string, input: IssueCredentialInput): Promise<CredentialView & { secret?: string }> {
    const id = randomUUID();
    // 256 random bits: guessing is hopeless, so a keyed fast hash suffices (README, "Device credentials").
    const secret = input.kind === 'secret' ? randomBytes(32).toString('base64url') : undefined;
    const fingerprint = input.kind === 'x509' ? fingerprintOf(input) : null;
    await this.dataSource.transaction(async (manager) => {
      const device = await this.devices.managedRow(actor, deviceId, manager);
      if (device.status === 'decommissioned') {
        throw new DeviceRegistryError(DeviceRegistryErrorCode.LIFECYCLE_TRANSITION_NOT_ALLOWED, `Device ${deviceId} is decommissioned`);
      }
      const active = await this.credentials.list(deviceId, true, manager);
      if (active.length >= MAX_ACTIVE_CREDENTIALS) {
        throw new DeviceRegistryError(
          DeviceRegistryErrorCode.CREDENTIAL_LIMIT,
          `Device ${deviceId} has ${active.length} active credentials; revoke one before issuing another`,
        );
      }
      if (fingerprint && active.some((c) => c.fingerprint === fingerprint)) {
        throw new DeviceRegistryError(
          DeviceRegistryErrorCode.CREDENTIAL_LIMIT,
          `This certificate is already registered for device ${deviceId}`,
        );
      }
      await this.credentials.insert(manager, {
        tenantId: device.tenantId,
        id,
        deviceId,
        kind: input.kind,
        secretHash: secret ? this.keyed.hash(secret) : null,
        fingerprint,
        label: input.label ?? null,
      });
      await this.outbox.credentialChanged(manager, CredentialEventTypes.CredentialIssued, {
        id,
        deviceId,
        tenantId: device.tenantId,
        kind: input.kind,
        fingerprint,
      });
    });
    this.cache.drop(deviceId);
    const view = (await this.list(actor, deviceId)).find((c) => c.id === id);
    if (!view) throw new Error(`credential ${id} vanished after its insert`);
    return secret ? { ...view, secret } : view;
  }

  async list(actor: Principal, deviceId: string): Promise<CredentialView[]> {
    await this.devices.managedRow(actor, deviceId);
    return (await this.credentials.list(deviceId, false)).map(viewOf);
  }

  async revoke(actor: Principal, deviceId: string, credentialId: string): Promise<CredentialView> {
    const revoked = await this.dataSource.transaction(async (manager) => {
      await this.devices.managedRow(actor, deviceId, manager);
      const row = await this.credentials.revoke(manager, deviceId, credentialId);
      if (!row) {
        throw new DeviceRegistryError(
          DeviceRegistryErrorCode.CREDENTIAL_NOT_FOUND,
          `Device ${deviceId} has no active credential ${credentialId}`,
        );
      }
      await this.outbox.credentialChanged(manager, CredentialEventTypes.CredentialRevoked, {
        id: row.id,
        deviceId,
        tenantId: row.tenantId,
        kind: row.kind,
        fingerprint: row.fingerprint,
      });
      return row;
    });
    // This instance at once; the others when they hear the event.
    this.cache.drop(deviceId);
    return viewOf(revoked);
  }

  /**
   * The device, if the credential is one of its active ones and it may connect (provisioned or
   * active). Every refusal is the same UNAUTHENTICATED, so a caller learns nothing of which part failed.
   */
  async authenticate(caller: Principal, input: { deviceId?: string; secret?: string; fingerprint?: string }): Promise<AuthenticatedDevice> {
    const refused = () =>
      new DeviceRegistryError(DeviceRegistryErrorCode.DEVICE_NOT_AUTHENTICATED, 'The device credentials were not accepted');
    const fingerprint = input.fingerprint ? normaliseFingerprint(input.fingerprint) : undefined;
    if (input.fingerprint && !fingerprint) throw refused();
    if (!input.secret === !fingerprint) {
      throw new DeviceRegistryError(
        DeviceRegistryErrorCode.CREDENTIAL_INPUT_INVALID,
        'Send either a secret (with the device id) or a certificate fingerprint',
      );
    }
    const deviceId = input.deviceId || (fingerprint ? await this.credentials.deviceOfFingerprint(fingerprint) : undefined);
    if (!deviceId) throw refused();
    const entry = await this.load(deviceId);
    if (!entry || !canManage(caller.tenant, { id: entry.device.tenantId, kind: entry.device.tenantKind, path: entry.device.tenantPath }))
      throw refused();
    if (entry.device.status !== 'active' && entry.device.status !== 'provisioned') throw refused();
    const match = entry.credentials.find((c) =>
      input.secret
        ? c.kind === 'secret' && c.secretHash !== null && this.keyed.matches(input.secret, c.secretHash)
        : c.fingerprint === fingerprint,
    );
    if (!match) throw refused();
    return { device: entry.device, credentialId: match.id };
  }

  private async load(deviceId: string): Promise<CachedCredentials | undefined> {
    const cached = this.cache.get(deviceId);
    if (cached) return cached;
    const readAt = this.cache.begin();
    const device = await this.devicesRepo.find(deviceId);
    if (!device) return undefined;
    const credentials = (await this.credentials.list(deviceId, true)).map((c) => ({
      id: c.id,
      kind: c.kind,
      secretHash: c.secretHash,
      fingerprint: c.fingerprint,
    }));
    const entry: CachedCredentials = {
      device: {
        id: device.id,
        tenantId: device.tenantId,
        tenantKind: device.tenantKind,
        tenantPath: device.tenantPath,
        status: device.status,
        modelId: device.modelId,
        modelVersion: device.modelVersion,
        modelName: device.modelName,
        handle: device.handle,
      },
      credentials,
    };
    this.cache.set(deviceId, entry, readAt);
    return entry;
  }
}

/** SHA-256 of the certificate (DER), from the PEM sent or as given: lower-case hex without colons. */
function fingerprintOf(input: { certificatePem?: string; fingerprint?: string }): string {
  if (input.certificatePem) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(input.certificatePem);
    } catch {
      throw new DeviceRegistryError(DeviceRegistryErrorCode.CREDENTIAL_INPUT_INVALID, 'certificatePem is not a PEM X.509 certificate');
    }
    return createHash('sha256').update(cert.raw).digest('hex');
  }
  const fp = input.fingerprint ? normaliseFingerprint(input.fingerprint) : undefined;
  if (!fp) {
    throw new DeviceRegistryError(
      DeviceRegistryErrorCode.CREDENTIAL_INPUT_INVALID,
      'An x509 credential needs certificatePem or fingerprint (SHA-256, 64 hex digits, colons allowed)',
    );
  }
  return fp;
}

function normaliseFingerprint(value: string): string | undefined {
  const fp = value.replace(/:/g, '').toLowerCase();
  return FINGERPRINT.test(fp) ? fp : undefined;
}

function viewOf(c: CredentialRow): CredentialView {
  return {
    id: c.id,
    deviceId: c.deviceId,
    kind: c.kind,
    fingerprint: c.fingerprint,
    label: c.label,
    createdAt: c.createdAt.toISOString(),
    revokedAt: c.revokedAt?.toISOString() ?? null,
  };
}
