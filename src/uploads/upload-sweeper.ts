import { Inject, Injectable, Logger } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { ObjectStorage } from './object-storage';
import { OBJECT_STORAGE } from './uploads.service';
import { UploadsRepository } from './uploads.repository';
import { PeriodicTask } from '../common/periodic-task';

/** How often each instance looks for objects to delete. */
export const UPLOAD_SWEEP_INTERVAL_MS = 60_000;
/** Objects per S3 DeleteObjects call (S3 takes up to 1,000) and per transaction. */
const SWEEP_BATCH = 100;
/** Bounds one sweep; the rest waits for the next tick. */
const SWEEP_MAX_BATCHES = 20;

export interface SweepResult {
  /** Rows deleted with their objects, plus attached uploads whose original object was deleted. */
  deleted: number;
  /** Objects S3 refused to delete (kept for the next sweep). */
  failed: number;
}

/**
 * Deletes from S3 the objects of deleted posts and of uploads never attached within 24 h (both the
 * upload's key and its attachment copy's), then their rows; and the original object of each
 * attached upload once its presigned POST is spent (the post serves the copy). Each batch holds its
 * rows locked (FOR UPDATE SKIP LOCKED) while S3 deletes them, so sweepers on several instances never
 * take the same row, and a row is only deleted (or marked) once S3 has deleted its objects: S3
 * down, or a crash mid-batch, rolls back and the next sweep retries.
 */
@Injectable()
export class UploadSweeper extends PeriodicTask {
  protected readonly logger = new Logger(UploadSweeper.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly uploads: UploadsRepository,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage | null,
  ) {
    super(UPLOAD_SWEEP_INTERVAL_MS, 'upload sweep failed; will retry');
  }

  /** No timer at all with uploads off. */
  override onApplicationBootstrap(): void {
    if (this.storage !== null) {
      super.onApplicationBootstrap();
    }
  }

  /** One sweep; throws when S3 or the database fails (what is left waits for the next one). */
  async sweep(): Promise<SweepResult> {
    const storage = this.storage;
    const result: SweepResult = { deleted: 0, failed: 0 };
    if (storage === null) {
      return result;
    }
    await this.inBatches(result, async () => {
      const due = await this.uploads.lockDue(SWEEP_BATCH);
      const keys = due.flatMap((row) => (row.attachment_key === row.object_key ? [row.object_key] : [row.object_key, row.attachment_key]));
      const refused = await storage.deleteMany(keys);
      const done = due.filter((row) => !refused.has(row.object_key) && !refused.has(row.attachment_key)).map((row) => row.id);
      await this.uploads.deleteRows(done);
      return { took: due.length, done: done.length, refused: refused.size };
    });
    await this.inBatches(result, async () => {
      const due = await this.uploads.lockUploadKeysDue(SWEEP_BATCH);
      const refused = await storage.deleteMany(due.map((row) => row.object_key));
      const done = due.filter((row) => !refused.has(row.object_key)).map((row) => row.id);
      await this.uploads.markUploadKeysDeleted(done);
      return { took: due.length, done: done.length, refused: refused.size };
    });
    return result;
  }

  /** Runs `batch` in a transaction of its own until a short batch, a refusal, or the bound. */
  private async inBatches(result: SweepResult, batch: () => Promise<{ took: number; done: number; refused: number }>): Promise<void> {
    for (let i = 0; i < SWEEP_MAX_BATCHES; i += 1) {
      const { took, done, refused } = await this.transactions.run(batch);
      result.deleted += done;
      result.failed += refused;
      // A short batch, or one S3 refused in part, means there is nothing more to do now.
      if (took < SWEEP_BATCH || refused > 0) {
        break;
      }
    }
  }

  protected async runOnce(): Promise<void> {
    const { deleted, failed } = await this.sweep();
    if (deleted > 0 || failed > 0) {
      this.logger.log({ deleted, failed }, 'upload sweep deleted objects');
    }
  }
}
