import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppLogger, InjectLogger } from '@iip/platform-observability';
import { PollingWorker } from '@iip/platform-runtime';
import { ImportsService } from './imports.service';

export const IMPORT_WORKER_SETTINGS = Symbol('IMPORT_WORKER_SETTINGS');

/**
 * Works through running imports in the background, a chunk per transaction. Instances share the
 * work (a job's chunk is claimed with SKIP LOCKED); a job left by a stopped instance is taken up
 * on the next poll, after its last committed chunk.
 */
@Injectable()
export class ImportsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: PollingWorker;

  constructor(
    imports: ImportsService,
    @InjectLogger() logger: AppLogger,
    @Inject(IMPORT_WORKER_SETTINGS) settings: { pollIntervalMs: number },
  ) {
    this.worker = new PollingWorker(logger, 'device import', settings.pollIntervalMs, async (running) => {
      for (const id of await imports.runningJobIds()) {
        while (running() && (await imports.applyNextChunk(id))) {
          // one chunk per transaction
        }
      }
    });
  }

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }

  /** A job was just created: start on it now rather than at the next poll. */
  kick(): void {
    this.worker.kick();
  }
}
