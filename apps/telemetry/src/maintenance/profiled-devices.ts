import { AppLogger } from '@iip/platform-observability';
import { HealthProfile } from './evaluation';
import { MaintenanceRepository, ProfileRow } from './maintenance.repository';

export interface ProfiledDevice {
  tenantId: string;
  profile: HealthProfile;
}

/** A model's profile also reaches devices registered after it: the whole set is read again this often. */
const FULL_RELOAD_MS = 60_000;

export function healthProfileOf(row: ProfileRow): HealthProfile {
  return {
    properties: row.properties,
    conversions: row.conversions,
    machineGroup: row.machineGroup,
    foundation: row.foundation,
    bep: row.bestEfficiencyPoint ?? undefined,
    bearingLimits: row.bearingLimits ?? undefined,
  };
}

/**
 * The devices a maintenance profile applies to, held in memory so the evaluator passes over
 * every other device's points at the cost of a map lookup. A profile put on this instance is
 * seen by the next batch (the service waits for the reload); one put elsewhere within
 * `refreshMs` (the profiles' stamp is polled), a new device of a profiled model within a minute.
 */
export class ProfiledDevices {
  private devices = new Map<string, ProfiledDevice>();
  private stamp = '';
  private loadedAt = 0;
  private pending: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repository: MaintenanceRepository,
    private readonly logger: AppLogger,
    private readonly refreshMs: number,
  ) {}

  get(deviceId: string): ProfiledDevice | undefined {
    return this.devices.get(deviceId);
  }

  get size(): number {
    return this.devices.size;
  }

  /** Loads the set now; later loads follow changes. */
  async start(): Promise<void> {
    this.stop();
    await this.reload();
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.check().finally(tick);
      }, this.refreshMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** A profile changed here: the next {@link ready} waits for the set that holds the change. */
  invalidate(): Promise<void> {
    this.pending = this.pending
      .then(() => this.reload())
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'maintenance profiles not reloaded'));
    return this.pending;
  }

  ready(): Promise<void> {
    return this.pending;
  }

  private async check(): Promise<void> {
    try {
      const stamp = await this.repository.profilesStamp();
      if (stamp !== this.stamp || Date.now() - this.loadedAt >= FULL_RELOAD_MS) await this.invalidate();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'maintenance profiles not reloaded');
    }
  }

  private async reload(): Promise<void> {
    const stamp = await this.repository.profilesStamp();
    const rows = await this.repository.profiledDevices();
    this.devices = new Map(rows.map((r) => [r.deviceId, { tenantId: r.deviceTenantId, profile: healthProfileOf(r) }]));
    this.stamp = stamp;
    this.loadedAt = Date.now();
  }
}
