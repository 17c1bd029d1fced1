import { Inject, Injectable } from '@nestjs/common';
import { CommandsService, commandMessage } from '../commands/commands.service';
import { ThingEventsService } from '../events/thing-events.service';
import { IngestService, Sender } from '../ingest/ingest.service';
import { REGISTRY_CLIENT, RegistryClient } from '../registry/registry-client';
import { Delivery, DeviceMessaging } from './mqtt-endpoint';

/** The topics a device is sent a command on. */
export const commandTopic = (deviceId: string, name: string) => `iip/v1/${deviceId}/commands/${name}`;

/**
 * What the MQTT endpoint hands on besides points: a device's events and command answers, and
 * what a device is owed when it subscribes — the commands queued for it while it was away
 * (each marked delivered once the device PUBACKs it) and its desired twin as it stands.
 */
@Injectable()
export class DeviceMessagingService implements DeviceMessaging {
  constructor(
    private readonly events: ThingEventsService,
    private readonly commands: CommandsService,
    private readonly ingest: IngestService,
    @Inject(REGISTRY_CLIENT) private readonly registry: RegistryClient,
  ) {}

  event(sender: Sender, deviceId: string, payload: unknown): Promise<unknown> {
    return this.events.accept(sender, deviceId, payload);
  }

  async commandAnswer(sender: Sender, deviceId: string, name: string, payload: unknown): Promise<void> {
    const device = await this.ingest.deviceFor(sender, deviceId);
    await this.commands.answer(device, name, payload);
  }

  /** A command as delivered to a device: PUBACKed means delivered. */
  commandDelivery(c: { id: string; deviceId: string; name: string; input: Record<string, unknown>; expiresAt: string }): Delivery {
    return {
      deviceId: c.deviceId,
      topic: commandTopic(c.deviceId, c.name),
      payload: commandMessage(c),
      onAck: () => void this.commands.delivered(c.deviceId, c.id).catch(() => undefined),
    };
  }

  async owed(deviceId: string, filter: string): Promise<Delivery[]> {
    if (filter.endsWith('/twin/desired')) {
      const twin = await this.registry.desired(deviceId);
      if (twin.version === 0) return [];
      return [{ deviceId, topic: filter, payload: JSON.stringify({ version: twin.version, desired: twin.desired, delta: twin.delta }) }];
    }
    const name = filter.slice(filter.lastIndexOf('/') + 1);
    const open = await this.commands.open(deviceId, name === '+' ? undefined : name);
    return open.map((c) => this.commandDelivery({ ...c, deviceId }));
  }
}
