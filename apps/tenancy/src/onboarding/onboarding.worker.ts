import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppLogger, InjectLogger } from '@iip/platform-observability';
import { OnboardingService } from './onboarding.service';

export const ONBOARDING_WORKER_SETTINGS = Symbol('ONBOARDING_WORKER_SETTINGS');

/**
 * Works through open onboarding jobs in the background. Several instances can share the work:
 * rows are claimed with SKIP LOCKED. Open jobs left by a stopped instance are picked up on the next poll.
 */
@Injectable()
export class OnboardingWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly onboarding: OnboardingService,
    @InjectLogger() private readonly logger: AppLogger,
    @Inject(ONBOARDING_WORKER_SETTINGS) private readonly settings: { pollIntervalMs: number },
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** A job was just created: start on it now rather than at the next poll. */
  kick(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const ids = await this.onboarding.openJobIds();
        for (const id of ids) {
          while (this.running && (await this.onboarding.applyNextRow(id))) {
            // one row per transaction
          }
        }
        failures = 0;
      } catch (err) {
        failures++;
        this.logger.error({ err }, 'onboarding worker pass failed; will retry');
      }
      // Back off while the database keeps failing, up to 30 s between passes.
      const delay = Math.min(this.settings.pollIntervalMs * 2 ** failures, 30_000);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
