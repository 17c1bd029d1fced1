import { EntityManager } from 'typeorm';
import { EventSources, TenancyEventType, TenantEventData, Topics } from '@iip/contracts';
import { OutboxWriter, createEnvelope } from '@iip/platform-kafka';
import { TenantEntity } from '../tenants/tenant.entity';

/** Tenancy's side of the outbox: turns tenant changes into envelopes on iip.tenancy.tenant.v1. */
export class TenancyOutbox {
  constructor(private readonly writer: OutboxWriter) {}

  async tenantChanged(
    manager: EntityManager,
    type: TenancyEventType,
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
}
