import { Injectable, Logger } from '@nestjs/common';
import { AdvisoryLock } from '../database/advisory-locks';
import { statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { CognitoListedUser } from '../cognito/cognito.types';
import { UserMapping } from '../identity/entities/user-mapping.entity';
import { AccountChangesService } from '../users/account-changes.service';
import { PendingChangesRepository } from '../users/pending-changes.repository';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { MirroredUser, UserMirrorRepository } from '../users/user-mirror.repository';
import { WithdrawalService } from '../users/withdrawal.service';

/** Arbitrary but fixed (migrations hold 727_001): one reconcile at a time, across every task. */
export const RECONCILE_LOCK_KEY = AdvisoryLock.RECONCILE;
/** Rows read per query in the withdrawal pass. */
const UNSEEN_BATCH = 500;

/** Session locks: held by the run's own connection until unlocked (or the session ends). */
const TRY_LOCK = statement<{ locked: boolean }, [key: number]>('SELECT pg_try_advisory_lock($1) AS locked');
const UNLOCK = statement<unknown, [key: number]>('SELECT pg_advisory_unlock($1)');
/** The database's clock, the one that stamps user_mapping.created_at. */
const DATABASE_NOW = statement<{ now: Date }, []>('SELECT now() AS now');

export interface ReconcileSummary {
  /** False when another run held the lock: this one did nothing. */
  ran: boolean;
  dryRun: boolean;
  cognitoUsers: number;
  /** Cognito users that have not confirmed their sign-up: no row until they do (as through the API). */
  unconfirmed: number;
  created: number;
  updated: number;
  withdrawn: number;
  /** Active rows whose Cognito user is disabled: disabled as an admin disable does. */
  disabled: number;
  /** Disabled rows whose Cognito user is enabled again: active again. */
  enabled: number;
  durationMs: number;
}

/**
 * What the row should hold. The email only once Cognito reports it verified: an unverified one
 * leaves the row's email as it was (null for a new row).
 */
function mirrored(user: CognitoListedUser, row?: UserMapping): MirroredUser {
  const email = user.emailVerified ? user.email : (row?.email ?? null);
  return { sub: user.sub, username: user.username, email, phoneNumber: user.phoneNumber, nickname: user.nickname };
}

function drifted(row: UserMapping, user: MirroredUser): boolean {
  return row.email !== user.email || row.phoneNumber !== user.phoneNumber || row.nickname !== user.nickname;
}

/** The status change Cognito's Enabled flag asks of a live row, if any. */
function statusChange(row: UserMapping, user: CognitoListedUser): 'user.disable' | 'user.enable' | null {
  if (!user.enabled && row.status === 'active') {
    return 'user.disable';
  }
  return user.enabled && row.status === 'disabled' ? 'user.enable' : null;
}

/**
 * Repairs drift between Cognito and `user_mapping` left by changes made outside the API: a row
 * whose Cognito user is gone is withdrawn (the same event as any withdrawal), drifted email
 * (verified only), phone or nickname is copied from Cognito, a confirmed Cognito user without a
 * row gets one, and a user disabled (or enabled again) in Cognito itself is disabled (enabled)
 * through the same account change as an admin's.
 *
 * Bounded memory whatever the pool's size: one ListUsers page at a time, the subs seen so far in
 * a temporary table, the withdrawal candidates read in batches. It does not fight the API: a row
 * created after the run started is never a candidate, each candidate is checked with AdminGetUser
 * before it is withdrawn, and a withdrawal already under way is left to the request or sweeper
 * finishing it.
 */
@Injectable()
export class ReconcileService {
  private readonly logger = new Logger(ReconcileService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly cognito: CognitoAdminService,
    private readonly users: UserMappingRepository,
    private readonly mirror: UserMirrorRepository,
    private readonly withdrawal: WithdrawalService,
    private readonly changes: AccountChangesService,
    private readonly pending: PendingChangesRepository,
  ) {}

  async run(options: { dryRun: boolean }): Promise<ReconcileSummary> {
    const started = performance.now();
    const summary: ReconcileSummary = {
      ran: false,
      dryRun: options.dryRun,
      cognitoUsers: 0,
      unconfirmed: 0,
      created: 0,
      updated: 0,
      withdrawn: 0,
      disabled: 0,
      enabled: 0,
      durationMs: 0,
    };
    // One connection holds the lock and the seen set for the whole run (both are per session):
    // every statement of the run is that session's, but for the transactions it opens.
    try {
      await this.transactions.onOwnConnection(async () => {
        const [{ locked }] = await this.transactions.rows(TRY_LOCK, [RECONCILE_LOCK_KEY]);
        if (!locked) {
          return;
        }
        try {
          summary.ran = true;
          const [{ now: runStartedAt }] = await this.transactions.rows(DATABASE_NOW, []);
          await this.mirror.startSeenSet();
          for await (const page of this.cognito.listUsers()) {
            await this.reconcilePage(page, summary, options.dryRun);
          }
          // Only after the whole pool was listed: a partial listing would make live users look gone.
          await this.withdrawGone(runStartedAt, summary, options.dryRun);
        } finally {
          await this.transactions.execute(UNLOCK, [RECONCILE_LOCK_KEY]);
        }
      });
    } finally {
      summary.durationMs = Math.round(performance.now() - started);
    }
    return summary;
  }

  private async reconcilePage(page: CognitoListedUser[], summary: ReconcileSummary, dryRun: boolean): Promise<void> {
    summary.cognitoUsers += page.length;
    const subs = page.map((user) => user.sub);
    await this.mirror.addSeen(subs);
    const rows = new Map((await this.users.findBySubs(subs)).map((row) => [row.cognitoSub, row]));
    const missing: MirroredUser[] = [];
    const changed: MirroredUser[] = [];
    const statusChanges: Array<{ userId: string; action: 'user.disable' | 'user.enable' }> = [];
    for (const user of page) {
      const row = rows.get(user.sub);
      if (row === undefined) {
        if (user.status === 'UNCONFIRMED') {
          summary.unconfirmed += 1;
        } else {
          missing.push(mirrored(user));
        }
      } else if (row.status !== 'withdrawn' && row.withdrawalRequestedAt === null) {
        const wanted = mirrored(user, row);
        if (drifted(row, wanted)) {
          changed.push(wanted);
        }
        const action = statusChange(row, user);
        if (action !== null) {
          statusChanges.push({ userId: row.id, action });
        }
      }
    }
    if (!dryRun) {
      summary.created += await this.mirror.insertMissing(missing);
      summary.updated += await this.mirror.updateMirroredAttributes(changed);
    } else {
      summary.created += missing.length;
      summary.updated += changed.length;
    }
    for (const { userId, action } of statusChanges) {
      if (await this.carryStatus(userId, action, dryRun)) {
        summary[action === 'user.disable' ? 'disabled' : 'enabled'] += 1;
      }
    }
  }

  /**
   * Carries Cognito's Enabled flag over as the account change an admin's disable (enable) is:
   * intent and token cut-off, then Cognito (already so: idempotent), then status. A user with a
   * change in flight is left to it. Not audited: the audit log records admins' actions, and this
   * one has no admin. Returns whether it changed (or, dry, would change) the row.
   */
  private async carryStatus(userId: string, action: 'user.disable' | 'user.enable', dryRun: boolean): Promise<boolean> {
    if ((await this.pending.forUser(userId)).length > 0) {
      return false;
    }
    if (dryRun) {
      return true;
    }
    const from = action === 'user.disable' ? 'active' : 'disabled';
    const change = await this.transactions.run(async () => {
      const row = await this.users.lockLive(userId);
      if (row === null || row.status !== from || (await this.pending.forUser(userId)).length > 0) {
        return null;
      }
      return this.changes.begin({ userId, action, details: { source: 'cognito' }, actorId: null });
    });
    if (change === null) {
      return false;
    }
    try {
      await this.changes.finish(change);
    } catch (error) {
      // The intent is committed (the user's tokens are refused): the API's sweep finishes it.
      this.logger.warn({ err: error, userId, action }, 'status change left to the sweep');
    }
    return true;
  }

  private async withdrawGone(runStartedAt: Date, summary: ReconcileSummary, dryRun: boolean): Promise<void> {
    let afterId: string | null = null;
    for (;;) {
      const batch = await this.mirror.unseen(runStartedAt, afterId, UNSEEN_BATCH);
      if (batch.length === 0) {
        return;
      }
      for (const row of batch) {
        // Not listed, yet maybe there: ListUsers is not a snapshot of the pool.
        if (await this.cognito.userExists(row.cognitoUsername, row.cognitoSub)) {
          continue;
        }
        if (dryRun || (await this.withdrawal.withdrawGoneUser(row.id))) {
          summary.withdrawn += 1;
        }
      }
      afterId = batch[batch.length - 1].id;
    }
  }
}

/** The one line the job prints. */
export function summaryLine(summary: ReconcileSummary): string {
  if (!summary.ran) {
    return `reconcile: skipped, another run holds the lock (dry_run=${summary.dryRun})`;
  }
  return (
    `reconcile: cognito_users=${summary.cognitoUsers} unconfirmed=${summary.unconfirmed} created=${summary.created} ` +
    `updated=${summary.updated} withdrawn=${summary.withdrawn} disabled=${summary.disabled} enabled=${summary.enabled} ` +
    `dry_run=${summary.dryRun} duration_ms=${summary.durationMs}`
  );
}
