import { EntityManager } from 'typeorm';
import {
  CredentialEventData,
  CredentialEventType,
  DeviceEventData,
  DeviceRegistryEventType,
  EventSources,
  RenewalEventType,
  RenewalProjectEventData,
  RenewalReplacementEventData,
  Topics,
  TwinEventData,
  TwinEventTypes,
} from '@iip/contracts';
import { OutboxWriter, createEnvelope } from '@iip/platform-kafka';

/** The registry's side of the outbox: device, credential and twin changes, each keyed by device id; renewal projects' by project id. */
export class DeviceRegistryOutbox {
  constructor(private readonly writer: OutboxWriter) {}

  deviceChanged(manager: EntityManager, type: DeviceRegistryEventType, data: DeviceEventData): Promise<void> {
    return this.writer.append(manager, Topics.deviceRegistryDevice, [
      createEnvelope({ type, source: EventSources.deviceRegistry, tenantId: data.tenantId, subject: data.id, data }),
    ]);
  }

  /** A bulk import's registrations: one outbox append (one bulk row), one message per device. */
  devicesRegistered(manager: EntityManager, devices: DeviceEventData[]): Promise<void> {
    return this.writer.append(
      manager,
      Topics.deviceRegistryDevice,
      devices.map((data) =>
        createEnvelope({ type: 'DeviceRegistered', source: EventSources.deviceRegistry, tenantId: data.tenantId, subject: data.id, data }),
      ),
    );
  }

  credentialChanged(manager: EntityManager, type: CredentialEventType, data: CredentialEventData): Promise<void> {
    return this.writer.append(manager, Topics.deviceRegistryCredential, [
      createEnvelope({ type, source: EventSources.deviceRegistry, tenantId: data.tenantId, subject: data.deviceId, data }),
    ]);
  }

  /** A renewal project's change (keyed by project id, so one project's events stay in order). */
  renewalChanged(
    manager: EntityManager,
    type: RenewalEventType,
    data: RenewalProjectEventData | RenewalReplacementEventData,
  ): Promise<void> {
    const subject = 'projectId' in data ? data.projectId : data.id;
    return this.writer.append(manager, Topics.deviceRegistryRenewal, [
      createEnvelope({ type, source: EventSources.deviceRegistry, tenantId: data.tenantId, subject, data }),
    ]);
  }

  twinChanged(manager: EntityManager, data: TwinEventData): Promise<void> {
    const type = data.side === 'desired' ? TwinEventTypes.TwinDesiredChanged : TwinEventTypes.TwinReportedChanged;
    return this.writer.append(manager, Topics.deviceRegistryTwin, [
      createEnvelope({ type, source: EventSources.deviceRegistry, tenantId: data.tenantId, subject: data.deviceId, data }),
    ]);
  }
}
