import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppLogger, InjectLogger } from '@iip/platform-observability';
import { PollingWorker } from '@iip/platform-runtime';
import { SnapshotsService } from './snapshots.service';

export const SNAPSHOT_WORKER_SETTINGS = Symbol('SNAPSHOT_WORKER_SETTINGS');

/** Checks every poll whether a tenant still lacks this month's snapshot: at a month's start, each gets one. */
@Injectable()
export class SnapshotsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: PollingWorker;

  constructor(
    snapshots: SnapshotsService,
    @InjectLogger() logger: AppLogger,
    @Inject(SNAPSHOT_WORKER_SETTINGS) settings: { pollIntervalMs: number },
  ) {
    this.worker = new PollingWorker(logger, 'renewal snapshots', settings.pollIntervalMs, async () => {
      await snapshots.takeMonthly();
    });
  }

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }
}
