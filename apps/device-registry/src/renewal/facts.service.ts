import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AlarmEventData, DeviceSeenData, EventEnvelope, TelemetryEventTypes, WorkOrderEventData } from '@iip/contracts';
import { Incident, FactsRepository, Sighting } from './facts.repository';

/** A sighting later than this past now is taken as now (a device clock ahead must not count as networked for days). */
const MAX_CLOCK_AHEAD_MS = 5 * 60_000;

/**
 * Telemetry's events as renewal facts: DeviceSeen moves a device's last-seen hour, AlarmRaised
 * counts an alarm, WorkOrderClosed with outcome `failure` counts a failure. Every other event on
 * these topics is not a fact of ours and is skipped.
 */
@Injectable()
export class FactsService {
  constructor(private readonly facts: FactsRepository) {}

  async apply(manager: EntityManager, events: EventEnvelope[]): Promise<void> {
    const sightings: Sighting[] = [];
    const incidents: Incident[] = [];
    const latest = Date.now() + MAX_CLOCK_AHEAD_MS;
    for (const e of events) {
      switch (e.type) {
        case TelemetryEventTypes.DeviceSeen: {
          const d = e.data as DeviceSeenData;
          const at = instant(d?.lastSeenAt) ?? instant(d?.hour);
          if (d && isUuid(d.deviceId) && at) sightings.push({ deviceId: d.deviceId, lastSeenAt: new Date(Math.min(at.getTime(), latest)) });
          break;
        }
        case TelemetryEventTypes.AlarmRaised: {
          const d = e.data as AlarmEventData;
          const at = instant(d?.raisedAt);
          if (d && isUuid(d.deviceId) && typeof d.id === 'string' && at)
            incidents.push({ deviceId: d.deviceId, kind: 'alarm', sourceId: d.id, occurredAt: at });
          break;
        }
        case TelemetryEventTypes.WorkOrderClosed: {
          const d = e.data as WorkOrderEventData;
          const at = instant(d?.closedAt) ?? instant(e.time);
          if (d && d.outcome === 'failure' && isUuid(d.deviceId) && typeof d.id === 'string' && at) {
            incidents.push({ deviceId: d.deviceId, kind: 'failure', sourceId: d.id, occurredAt: at });
          }
          break;
        }
        default:
          break;
      }
    }
    if (sightings.length > 0) await this.facts.recordSightings(manager, sightings);
    if (incidents.length > 0) await this.facts.recordIncidents(manager, incidents);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);
function instant(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}
