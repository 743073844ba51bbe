import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource, EntityManager } from 'typeorm';
import { CognitoService } from '../cognito/cognito.service';
import { USER_WITHDRAWN, UserWithdrawnEvent } from './user-withdrawn.event';

/** How often pending withdrawals (intent recorded, not completed) are retried. */
export const WITHDRAWAL_SWEEP_INTERVAL_MS = 30_000;
/** A request in flight finishes its own withdrawal; the sweeper leaves fresh intents alone. */
const SWEEP_GRACE = '10 seconds';
/** Bounds one sweep; the rest waits for the next tick. */
const SWEEP_MAX_PER_RUN = 500;

/**
 * Withdrawal, crash-safe: (1) the intent is committed on the row, (2) Cognito deletes the user,
 * (3) `user.withdrawn` is handled in the transaction that holds the row's lock. If the process
 * dies after (1) or (2), the sweeper (at start-up and every 30 s, on any instance) finishes the
 * job; a user already gone from Cognito counts as deleted.
 */
@Injectable()
export class WithdrawalService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WithdrawalService.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly cognito: CognitoService,
    private readonly events: EventEmitter2,
  ) {}

  onApplicationBootstrap(): void {
    void this.sweepQuietly();
    this.timer = setInterval(() => void this.sweepQuietly(), WITHDRAWAL_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer !== null) {
      clearInterval(this.timer);
    }
  }

  /** Withdraws a user (self-service). Idempotent: a withdrawn user stays withdrawn. */
  async withdraw(userId: string): Promise<void> {
    await this.recordIntent(this.dataSource.manager, userId);
    await this.complete(userId);
  }

  /**
   * Step 1, durable before Cognito is called. From here the withdrawal converges even if the
   * process dies: the guard already refuses the user, and the sweeper finishes the job.
   */
  async recordIntent(manager: EntityManager, userId: string): Promise<void> {
    await manager.query(
      `UPDATE user_mapping SET withdrawal_requested_at = COALESCE(withdrawal_requested_at, now()), updated_at = now()
        WHERE id = $1 AND status <> 'withdrawn'`,
      [userId],
    );
  }

  /** Steps 2 and 3 for one user whose intent is recorded (no-op when already withdrawn). */
  async complete(userId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const rows: Array<{ id: string; cognito_username: string }> = await manager.query(
        `SELECT id, cognito_username FROM user_mapping
          WHERE id = $1 AND status <> 'withdrawn' AND withdrawal_requested_at IS NOT NULL
          FOR UPDATE`,
        [userId],
      );
      if (rows.length > 0) {
        await this.completeLocked(manager, rows[0].id, rows[0].cognito_username);
      }
    });
  }

  /**
   * Completes pending withdrawals, one row per transaction so that sweepers on several instances
   * share the work; each row is taken by exactly one of them (FOR UPDATE SKIP LOCKED).
   */
  async sweep(): Promise<number> {
    let completed = 0;
    while (completed < SWEEP_MAX_PER_RUN) {
      const took = await this.dataSource.transaction(async (manager) => {
        const rows: Array<{ id: string; cognito_username: string }> = await manager.query(
          `SELECT id, cognito_username FROM user_mapping
            WHERE withdrawal_requested_at IS NOT NULL AND status <> 'withdrawn'
              AND withdrawal_requested_at < now() - interval '${SWEEP_GRACE}'
            ORDER BY withdrawal_requested_at
            LIMIT 1
            FOR UPDATE SKIP LOCKED`,
        );
        if (rows.length === 0) {
          return false;
        }
        await this.completeLocked(manager, rows[0].id, rows[0].cognito_username);
        return true;
      });
      if (!took) {
        break;
      }
      completed += 1;
    }
    return completed;
  }

  private async completeLocked(manager: EntityManager, userId: string, username: string): Promise<void> {
    await this.cognito.adminDeleteUser(username);
    await this.events.emitAsync(USER_WITHDRAWN, new UserWithdrawnEvent(userId, manager));
  }

  private async sweepQuietly(): Promise<void> {
    try {
      const completed = await this.sweep();
      if (completed > 0) {
        this.logger.log({ completed }, 'pending withdrawals completed');
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'withdrawal sweep failed; will retry');
    }
  }
}
