import { EntityManager } from 'typeorm';
import { ClientEventData, EventSources, TenancyEventType, TenancyEventTypes, TenantEventData, Topics } from '@iip/contracts';
import { OutboxWriter, createEnvelope } from '@iip/platform-kafka';
import { TenantEntity } from '../tenants/tenant.entity';

/**
 * Tenancy's side of the outbox: tenant changes become envelopes on iip.tenancy.tenant.v1,
 * client revocations on iip.tenancy.client.v1.
 */
export class TenancyOutbox {
  constructor(private readonly writer: OutboxWriter) {}

  async tenantChanged(
    manager: EntityManager,
    type: Exclude<TenancyEventType, typeof TenancyEventTypes.ClientRevoked>,
    tenant: TenantEntity,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const data: TenantEventData & Record<string, unknown> = {
      id: tenant.id,
      kind: tenant.kind,
      parentId: tenant.parentId,
      path: tenant.path,
      name: tenant.name,
      creditCode: tenant.creditCode,
      status: tenant.status,
      quotas: { maxDevices: tenant.maxDevices, maxTelemetryPointsPerSecond: tenant.maxTelemetryPointsPerSecond },
      version: tenant.version,
      ...extra,
    };
    await this.writer.append(manager, Topics.tenancyTenant, [
      createEnvelope({ type, source: EventSources.tenancy, tenantId: tenant.id, subject: tenant.id, data }),
    ]);
  }

  /** Every service refuses the client's tokens issued up to `at` once it hears this. */
  async clientRevoked(manager: EntityManager, client: { clientId: string; tenantId: string }, at: Date): Promise<void> {
    const data: ClientEventData = { clientId: client.clientId, tenantId: client.tenantId, revokedAt: at.toISOString() };
    await this.writer.append(manager, Topics.tenancyClient, [
      createEnvelope({
        type: TenancyEventTypes.ClientRevoked,
        source: EventSources.tenancy,
        tenantId: client.tenantId,
        subject: client.clientId,
        time: data.revokedAt,
        data,
      }),
    ]);
  }
}
