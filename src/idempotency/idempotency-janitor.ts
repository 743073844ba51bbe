import { Injectable, Logger } from '@nestjs/common';
import { IdempotencyRepository } from './idempotency.repository';
import { PeriodicTask } from '../common/periodic-task';

const PURGE_INTERVAL_MS = 10 * 60 * 1000;
/** Rows per DELETE: short statements that never come near the statement timeout. */
const PURGE_BATCH = 1_000;
/** Bounds one run; the rest waits for the next tick. */
const PURGE_MAX_BATCHES = 100;

/**
 * Deletes idempotency keys older than 24 h. Lookups already ignore them, so this only bounds the
 * table. Every instance runs it: batches skip the rows another instance is deleting.
 */
@Injectable()
export class IdempotencyJanitor extends PeriodicTask {
  protected readonly logger = new Logger(IdempotencyJanitor.name);

  constructor(private readonly keys: IdempotencyRepository) {
    super(PURGE_INTERVAL_MS, 'purging expired idempotency keys failed; will retry');
  }

  protected runOnce(): Promise<number> {
    return this.purge();
  }

  /** The number of keys purged. */
  async purge(): Promise<number> {
    let purged = 0;
    for (let batch = 0; batch < PURGE_MAX_BATCHES; batch += 1) {
      const deleted = await this.keys.purgeExpired(PURGE_BATCH);
      purged += deleted;
      if (deleted < PURGE_BATCH) {
        break;
      }
    }
    if (purged > 0) {
      this.logger.log({ purged }, 'expired idempotency keys purged');
    }
    return purged;
  }
}
