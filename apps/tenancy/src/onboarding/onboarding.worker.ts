import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppLogger, InjectLogger } from '@iip/platform-observability';
import { PollingWorker } from '@iip/platform-runtime';
import { OnboardingService } from './onboarding.service';

export const ONBOARDING_WORKER_SETTINGS = Symbol('ONBOARDING_WORKER_SETTINGS');

/**
 * Works through open onboarding jobs in the background. Several instances can share the work:
 * rows are claimed with SKIP LOCKED. Open jobs left by a stopped instance are picked up on the next poll.
 */
@Injectable()
export class OnboardingWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: PollingWorker;

  constructor(
    onboarding: OnboardingService,
    @InjectLogger() logger: AppLogger,
    @Inject(ONBOARDING_WORKER_SETTINGS) settings: { pollIntervalMs: number },
  ) {
    this.worker = new PollingWorker(logger, 'onboarding worker', settings.pollIntervalMs, async (running) => {
      for (const id of await onboarding.openJobIds()) {
        while (running() && (await onboarding.applyNextRow(id))) {
          // one row per transaction
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
