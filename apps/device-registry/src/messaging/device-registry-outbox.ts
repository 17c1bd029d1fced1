import { EntityManager } from 'typeorm';
import { DeviceEventData, DeviceRegistryEventType, EventSources, Topics } from '@iip/contracts';
import { OutboxWriter, createEnvelope } from '@iip/platform-kafka';

/** The registry's side of the outbox: device changes on iip.device-registry.device.v1, keyed by device id. */
export class DeviceRegistryOutbox {
  constructor(private readonly writer: OutboxWriter) {}

  deviceChanged(manager: EntityManager, type: DeviceRegistryEventType, data: DeviceEventData): Promise<void> {
    return this.writer.append(manager, Topics.deviceRegistryDevice, [
      createEnvelope({ type, source: EventSources.deviceRegistry, tenantId: data.tenantId, subject: data.id, data }),
    ]);
  }
}
