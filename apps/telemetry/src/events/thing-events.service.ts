import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EventSources, TelemetryEventTypes, ThingEventData, Topics } from '@iip/contracts';
import { Principal } from '@iip/platform-auth';
import { OutboxWriter, createEnvelope } from '@iip/platform-kafka';
import { INGEST_SETTINGS, IngestService, IngestSettings, Sender } from '../ingest/ingest.service';
import { QueryService } from '../query/query.service';
import { REGISTRY_CLIENT, RegistryClient } from '../registry/registry-client';
import { TELEMETRY_OUTBOX } from '../rules/rule-engine';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';
import { TELEMETRY_DATA_SOURCE } from '../tenants/tenants.repository';

/** Events per message at most. */
const MAX_EVENTS = 100;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface ThingEventView {
  id: string;
  name: string;
  level: ThingEventData['level'];
  ts: string;
  data: Record<string, unknown>;
}

/**
 * Events devices send (a thing model's `events`: a fault, a door opened), as `{event, ts?, data?}`
 * or an array of them: each is checked against the model (its name, its outputs), stored once
 * per (device, event, instant) — a device sending it again meets its own key — and goes out on
 * iip.telemetry.thing-event.v1 through the outbox, in the same transaction. The whole message is
 * refused when one event does not fit, saying which and why.
 */
@Injectable()
export class ThingEventsService {
  constructor(
    @Inject(TELEMETRY_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(TELEMETRY_OUTBOX) private readonly outbox: OutboxWriter,
    @Inject(REGISTRY_CLIENT) private readonly registry: RegistryClient,
    @Inject(INGEST_SETTINGS) private readonly settings: IngestSettings,
    private readonly ingest: IngestService,
    private readonly query: QueryService,
  ) {}

  async accept(sender: Sender, deviceId: string, payload: unknown): Promise<{ accepted: number; duplicates: number }> {
    const device = await this.ingest.deviceFor(sender, deviceId);
    const model = await this.registry.model(device.modelId, device.modelVersion);
    const items = Array.isArray(payload) ? payload : [payload];
    const invalid = (i: number, message: string) =>
      new TelemetryError(TelemetryErrorCode.PAYLOAD_INVALID, `${items.length > 1 ? `#${i}: ` : ''}${message}`);
    if (items.length === 0 || items.length > MAX_EVENTS) throw invalid(0, `send 1 to ${MAX_EVENTS} events`);
    const now = Date.now();
    const events: ThingEventData[] = items.map((item, i) => {
      const e = item as { event?: unknown; ts?: unknown; data?: unknown };
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw invalid(i, 'an event is a JSON object {event, ts?, data?}');
      if (typeof e.event !== 'string' || !NAME.test(e.event)) throw invalid(i, 'event: the name of one of the thing model’s events');
      const def = model.definition.events[e.event];
      const check = Object.hasOwn(model.definition.events, e.event) ? model.compiled.event(e.event) : undefined;
      if (!def || !check) throw invalid(i, `event: the device's thing model has no event ${e.event}`);
      const ts = e.ts === undefined ? now : typeof e.ts === 'number' ? e.ts : typeof e.ts === 'string' ? Date.parse(e.ts) : NaN;
      if (!Number.isSafeInteger(ts) || ts < now - this.settings.rawRetentionDays * 86_400_000 || ts > now + this.settings.maxFutureMs) {
        throw invalid(i, 'ts: an instant (epoch ms or ISO 8601) within the retention and not in the future');
      }
      const data = e.data ?? {};
      const errors = check(data, 'data');
      if (errors.length > 0) throw invalid(i, errors.map((f) => `${f.field} ${f.message}`).join('; '));
      return {
        id: randomUUID(),
        tenantId: device.tenantId,
        deviceId: device.id,
        name: e.event,
        level: def.level,
        ts: new Date(ts).toISOString(),
        data: data as Record<string, unknown>,
      };
    });
    return this.dataSource.transaction(async (manager) => {
      const stored = await manager.query<{ id: string }[]>(
        `INSERT INTO thing_events (tenant_id, device_id, name, ts, id, level, data)
         SELECT $1, $2, e.name, e.ts, e.id, e.level, e.data
           FROM jsonb_to_recordset($3::jsonb) AS e(name text, ts timestamptz, id uuid, level text, data jsonb)
         ON CONFLICT DO NOTHING RETURNING id`,
        [device.tenantId, device.id, JSON.stringify(events)],
      );
      const fresh = new Set(stored.map((r) => r.id));
      const announced = events.filter((e) => fresh.has(e.id));
      if (announced.length > 0) {
        await this.outbox.append(
          manager,
          Topics.telemetryThingEvent,
          announced.map((data) =>
            createEnvelope({
              type: TelemetryEventTypes.ThingEventReceived,
              source: EventSources.telemetry,
              tenantId: data.tenantId,
              subject: data.deviceId,
              data,
            }),
          ),
        );
      }
      return { accepted: announced.length, duplicates: events.length - announced.length };
    });
  }

  /** A device's events in [from, to), newest first, by the same visibility as its raw points. */
  async list(
    actor: Principal,
    deviceId: string,
    q: { from: Date; to: Date; name?: string; limit: number; before?: Date },
  ): Promise<{ items: ThingEventView[]; nextCursor: string | null }> {
    const device = await this.query.readable(actor, deviceId, 'raw');
    const rows = await this.dataSource.query<
      { id: string; name: string; level: ThingEventData['level']; ts: Date; data: Record<string, unknown> }[]
    >(
      `SELECT id, name, level, ts, data FROM thing_events
        WHERE tenant_id = $1 AND device_id = $2 AND ts >= $3 AND ts < $4 AND ($5::text IS NULL OR name = $5)
          AND ($6::timestamptz IS NULL OR ts < $6) ORDER BY ts DESC LIMIT $7`,
      [device.tenantId, device.id, q.from, q.to, q.name ?? null, q.before ?? null, q.limit + 1],
    );
    const page = rows.slice(0, q.limit);
    return {
      items: page.map((r) => ({ id: r.id, name: r.name, level: r.level, ts: r.ts.toISOString(), data: r.data })),
      nextCursor: rows.length > q.limit ? page[page.length - 1].ts.toISOString() : null,
    };
  }
}
