import { EntityManager } from 'typeorm';
import { EventSources, IdentifierChangedData, IdentifierEventTypes, PrefixAllocatedData, Topics } from '@iip/contracts';
import { OutboxWriter, createEnvelope } from '@iip/platform-kafka';

/** The identifier service's side of the outbox. */
export class IdentifierOutbox {
  constructor(private readonly writer: OutboxWriter) {}

  prefixAllocated(manager: EntityManager, data: PrefixAllocatedData): Promise<void> {
    return this.writer.append(manager, Topics.identifierPrefix, [
      createEnvelope({
        type: IdentifierEventTypes.PrefixAllocated,
        source: EventSources.identifier,
        tenantId: data.tenantId,
        subject: data.prefix,
        data,
      }),
    ]);
  }

  identifiersRegistered(manager: EntityManager, items: IdentifierChangedData[]): Promise<void> {
    return this.writer.append(
      manager,
      Topics.identifierIdentifier,
      items.map((data) =>
        createEnvelope({
          type: IdentifierEventTypes.IdentifierRegistered,
          source: EventSources.identifier,
          tenantId: data.tenantId,
          subject: data.key,
          data,
        }),
      ),
    );
  }

  identifierChanged(manager: EntityManager, data: IdentifierChangedData): Promise<void> {
    const type =
      data.change === 'registered'
        ? IdentifierEventTypes.IdentifierRegistered
        : data.change === 'updated'
          ? IdentifierEventTypes.IdentifierUpdated
          : IdentifierEventTypes.IdentifierDeleted;
    return this.writer.append(manager, Topics.identifierIdentifier, [
      createEnvelope({ type, source: EventSources.identifier, tenantId: data.tenantId, subject: data.key, data }),
    ]);
  }
}
