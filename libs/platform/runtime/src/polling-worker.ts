interface WorkerLogger {
  error(obj: object, msg: string): void;
}

/**
 * Runs `pass` again and again in the background: every `pollIntervalMs`, at once when kicked,
 * and backing off (up to 30 s) while passes keep failing. For job workers that claim their
 * work in the database (SKIP LOCKED), so several instances share it and a stopped one's work is
 * taken up by the next pass.
 */
export class PollingWorker {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly logger: WorkerLogger,
    private readonly what: string,
    private readonly pollIntervalMs: number,
    /** One pass; gets `running` to stop early between units of work. */
    private readonly pass: (running: () => boolean) => Promise<void>,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** New work arrived: start a pass now rather than at the next poll. */
  kick(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await this.pass(() => this.running);
        failures = 0;
      } catch (err) {
        failures++;
        this.logger.error({ err }, `${this.what} pass failed; will retry`);
      }
      const delay = Math.min(this.pollIntervalMs * 2 ** failures, 30_000);
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
