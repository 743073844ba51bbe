import { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/**
 * Background work every API task runs on a fixed interval (sweeps, purges): started once the
 * application has bootstrapped, stopped when it shuts down; the timer never keeps the process
 * alive. `tick` must not throw: it logs its own failure and the next tick tries again.
 */
export abstract class PeriodicTask implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;

  protected constructor(
    private readonly intervalMs: number,
    private readonly options: { runAtStart?: boolean } = {},
  ) {}

  protected abstract tick(): Promise<unknown>;

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
}
