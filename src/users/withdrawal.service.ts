import { Injectable, Logger } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { AccountChangesService } from './account-changes.service';
import { WithdrawalRepository } from './withdrawal.repository';
import { PeriodicTask } from '../common/periodic-task';

/** How often pending withdrawals (intent recorded, not completed) are retried. */
export const WITHDRAWAL_SWEEP_INTERVAL_MS = 30_000;
/** Bounds one sweep; the rest waits for the next tick. */
const SWEEP_MAX_PER_RUN = 500;

/**
 * Withdrawal, crash-safe: (1) the intent is committed on the row, (2) Cognito deletes the user,
 * (3) the row is marked withdrawn and its personal data cleared, in the transaction that holds the
 * row's lock. If the process
 * dies after (1) or (2), the sweeper (at start-up and every 30 s, on any instance) finishes the
 * job; a user already gone from Cognito counts as deleted.
 */
@Injectable()
export class WithdrawalService {
  private readonly logger = new Logger(WithdrawalService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly cognito: CognitoAdminService,
    private readonly changes: AccountChangesService,
    private readonly withdrawals: WithdrawalRepository,
  ) {}

  /**
   * Withdraws a user (self-service). Idempotent: a withdrawn user stays withdrawn. The last admin
   * cannot leave (409), checked under the same lock as the admin routes.
   */
  async withdraw(userId: string): Promise<void> {
    await this.transactions.run(async () => {
      const cognitoSub = await this.withdrawals.lockUntouched(userId);
      if (cognitoSub !== null) {
        await this.changes.assertNotLastAdmin(cognitoSub);
        await this.recordIntent(userId);
      }
    });
    await this.complete(userId);
  }

  /**
   * Step 1, durable before Cognito is called. From here the withdrawal converges even if the
   * process dies: the guard already refuses the user, and the sweeper finishes the job. Runs in
   * the caller's transaction (`Transactions.run`), which holds the row's lock.
   */
  recordIntent(userId: string): Promise<void> {
    return this.withdrawals.recordIntent(userId);
  }

  /** Steps 2 and 3 for one user whose intent is recorded (no-op when already withdrawn). */
  async complete(userId: string): Promise<void> {
    await this.transactions.run(async () => {
      const user = await this.withdrawals.lockRequested(userId);
      if (user !== null) {
        await this.completeLocked(user.id, user.cognitoUsername);
      }
    });
  }

  /**
   * Completes pending withdrawals, one row per transaction so that sweepers on several instances
   * share the work; each row is taken by exactly one of them (FOR UPDATE SKIP LOCKED). A row that
   * fails is put back with a growing delay (30 s, doubling, at most an hour) and the sweep goes on
   * with the next, so one user that keeps failing does not starve the rest.
   */
  async sweep(): Promise<number> {
    let completed = 0;
    for (let tried = 0; tried < SWEEP_MAX_PER_RUN; tried += 1) {
      let taken: string | null = null;
      try {
        taken = await this.transactions.run(async () => {
          const user = await this.withdrawals.lockNextDue();
          if (user === null) {
            return null;
          }
          taken = user.id;
          await this.completeLocked(user.id, user.cognitoUsername);
          return user.id;
        });
      } catch (error) {
        if (taken === null) {
          throw error;
        }
        await this.withdrawals.postpone(taken);
        this.logger.warn({ err: error, userId: taken }, 'pending withdrawal failed; will retry later');
        continue;
      }
      if (taken === null) {
        break;
      }
      completed += 1;
    }
    return completed;
  }

  /**
   * A user deleted from Cognito outside the API (console, admin tool): step 3 alone, under the
   * row's lock. Returns whether this call withdrew the row. A row with a withdrawal of its own is
   * left to that withdrawal (the request or the sweeper finishing it), and a row locked right now
   * is skipped, so the same withdrawal is never done or counted twice.
   */
  async withdrawGoneUser(userId: string): Promise<boolean> {
    return this.transactions.run(async () => {
      if ((await this.withdrawals.lockUntouched(userId, true)) === null) {
        return false;
      }
      await this.withdrawals.markWithdrawn(userId);
      return true;
    });
  }

  /** Steps 2 and 3, in the transaction that holds the row's lock. */
  private async completeLocked(userId: string, username: string): Promise<void> {
    await this.cognito.adminDeleteUser(username);
    await this.withdrawals.markWithdrawn(userId);
  }
}

/**
 * Runs the sweep at start-up and every 30 s on each API task. Apart from WithdrawalService so
 * that a one-off job (reconcile) can withdraw without starting a timer of its own.
 */
@Injectable()
export class WithdrawalSweeper extends PeriodicTask {
  protected readonly logger = new Logger(WithdrawalSweeper.name);

  constructor(private readonly withdrawal: WithdrawalService) {
    // At start-up too: a withdrawal a stopped task left half done is finished at once.
    super(WITHDRAWAL_SWEEP_INTERVAL_MS, 'withdrawal sweep failed; will retry', { runAtStart: true });
  }

  protected async runOnce(): Promise<void> {
    const completed = await this.withdrawal.sweep();
    if (completed > 0) {
      this.logger.log({ completed }, 'pending withdrawals completed');
    }
  }
}
