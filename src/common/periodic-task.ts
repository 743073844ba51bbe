import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/**
 * Background work every API task runs on a fixed interval (sweeps, purges): started once the
 * application has bootstrapped, stopped when it shuts down; the timer never keeps the process
 * alive. `runOnce` may throw: the failure is logged here, with its stack, at warn (the work is
 * retried on the next tick, so it is not an error yet).
 */
export abstract class PeriodicTask implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  /** The subclass's own logger: its name says which task failed. */
  protected abstract readonly logger: Logger;

  protected constructor(
    private readonly intervalMs: number,
    /** What the warning says when a run fails, e.g. 'withdrawal sweep failed; will retry'. */
    private readonly failure: string,
    private readonly options: { runAtStart?: boolean } = {},
  ) {}

  /** One run of the work. */
  protected abstract runOnce(): Promise<unknown>;

  onApplicationBootstrap(): void {
    if (this.options.runAtStart === true) {
      void this.tick();
    }
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Never rejects: a timer callback has no one to report to. */
  private async tick(): Promise<void> {
    try {
      await this.runOnce();
    } catch (error) {
      this.logger.warn({ err: error }, this.failure);
    }
  }
}
