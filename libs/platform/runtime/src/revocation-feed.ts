import { Admin, Kafka } from 'kafkajs';
import { REVOCATION_TOPICS, RevocationView, applyRevocationEvent } from '@iip/platform-auth';
import { ReplayingListener, TopicProvisioner } from '@iip/platform-kafka';
import { AppLogger, HealthIndicator } from '@iip/platform-observability';

/** How long a start waits for the revocations of the window before it serves anyway (Kafka away). */
const STARTUP_WAIT_MS = 10_000;
const PRUNE_EVERY_MS = 60_000;

/**
 * Every instance's view of revoked clients and suspended tenants: a ReplayingListener on
 * tenancy's tenant and client topics reads the last AUTH_REVOCATION_WINDOW_S on start, then
 * follows; the token verifier asks the view on every request.
 */
export class RevocationFeed {
  readonly view: RevocationView;
  private readonly listener: ReplayingListener;
  private pruner?: NodeJS.Timeout;

  constructor(
    kafka: Kafka,
    admin: Admin,
    topics: TopicProvisioner,
    private readonly logger: AppLogger,
    settings: { serviceName: string; topicPrefix: string; windowSec: number },
  ) {
    this.view = new RevocationView({ windowSec: settings.windowSec });
    this.listener = new ReplayingListener(kafka, admin, topics, logger, {
      name: `${settings.topicPrefix}iip.${settings.serviceName}.revocations`,
      topics: REVOCATION_TOPICS.map((t) => settings.topicPrefix + t),
      replayMs: settings.windowSec * 1000,
      handle: (events) => {
        for (const event of events) applyRevocationEvent(this.view, event);
      },
    });
  }

  start(): void {
    this.listener.start();
    this.pruner = setInterval(() => this.view.prune(Date.now() / 1000), PRUNE_EVERY_MS);
    this.pruner.unref();
  }

  /** Resolves once the window's revocations are applied, or after a bounded wait (logged). */
  async ready(): Promise<void> {
    if (await this.listener.waitUntilCaughtUp(STARTUP_WAIT_MS)) return;
    this.logger.warn(
      { waitedMs: STARTUP_WAIT_MS },
      'revocations not read yet (Kafka unreachable?): serving; tokens revoked meanwhile are refused once the broker is back',
    );
  }

  /** Not critical: the instance serves, but may accept a token revoked before it could read. */
  health(): HealthIndicator {
    return {
      name: 'revocations',
      critical: false,
      check: () => (this.listener.caughtUp ? Promise.resolve() : Promise.reject(new Error('revocations not read from Kafka yet'))),
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.pruner);
    await this.listener.stop();
  }
}
