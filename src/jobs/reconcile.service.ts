import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { CognitoListedUser } from '../cognito/cognito.types';
import { UserMapping } from '../identity/entities/user-mapping.entity';
import { MirroredUser, UserMappingRepository } from '../users/user-mapping.repository';
import { WithdrawalService } from '../users/withdrawal.service';

/** Arbitrary but fixed (migrations hold 727_001): one reconcile at a time, across every task. */
export const RECONCILE_LOCK_KEY = 727_003;
/** Rows read per query in the withdrawal pass. */
const UNSEEN_BATCH = 500;

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
  durationMs: number;
}

function mirrored(user: CognitoListedUser): MirroredUser {
  return { sub: user.sub, username: user.username, email: user.email, phoneNumber: user.phoneNumber, nickname: user.nickname };
}

function drifted(row: UserMapping, user: CognitoListedUser): boolean {
  return row.email !== user.email || row.phoneNumber !== user.phoneNumber || row.nickname !== user.nickname;
}

/**
 * Repairs drift between Cognito and `user_mapping` left by changes made outside the API: a row
 * whose Cognito user is gone is withdrawn (the same event as any withdrawal), drifted email,
 * phone or nickname is copied from Cognito, and a confirmed Cognito user without a row gets one.
 *
 * Bounded memory whatever the pool's size: one ListUsers page at a time, the subs seen so far in
 * a temporary table, the withdrawal candidates read in batches. It does not fight the API: a row
 * created after the run started is never a candidate, each candidate is checked with AdminGetUser
 * before it is withdrawn, and a withdrawal already under way is left to the request or sweeper
 * finishing it.
 */
@Injectable()
export class ReconcileService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cognito: CognitoAdminService,
    private readonly users: UserMappingRepository,
    private readonly withdrawal: WithdrawalService,
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
      durationMs: 0,
    };
    // One connection holds the lock and the seen set for the whole run (both are per session).
    const session = this.dataSource.createQueryRunner();
    await session.connect();
    try {
      const [{ locked }]: Array<{ locked: boolean }> = await session.manager.query('SELECT pg_try_advisory_lock($1) AS locked', [
        RECONCILE_LOCK_KEY,
      ]);
      if (!locked) {
        return summary;
      }
      try {
        summary.ran = true;
        // The database's clock, the one that stamps user_mapping.created_at.
        const clock: Array<{ now: Date }> = await session.manager.query('SELECT now() AS now');
        const runStartedAt = clock[0].now;
        await this.users.startSeenSet(session.manager);
        for await (const page of this.cognito.listUsers()) {
          await this.reconcilePage(session.manager, page, summary, options.dryRun);
        }
        // Only after the whole pool was listed: a partial listing would make live users look gone.
        await this.withdrawGone(session.manager, runStartedAt, summary, options.dryRun);
      } finally {
        await session.query('SELECT pg_advisory_unlock($1)', [RECONCILE_LOCK_KEY]);
      }
    } finally {
      await session.release();
      summary.durationMs = Math.round(performance.now() - started);
    }
    return summary;
  }

  private async reconcilePage(
    session: DataSource['manager'],
    page: CognitoListedUser[],
    summary: ReconcileSummary,
    dryRun: boolean,
  ): Promise<void> {
    summary.cognitoUsers += page.length;
    const subs = page.map((user) => user.sub);
    await this.users.addSeen(session, subs);
    const rows = new Map((await this.users.findBySubs(subs)).map((row) => [row.cognitoSub, row]));
    const missing: MirroredUser[] = [];
    const changed: MirroredUser[] = [];
    for (const user of page) {
      const row = rows.get(user.sub);
      if (row === undefined) {
        if (user.status === 'UNCONFIRMED') {
          summary.unconfirmed += 1;
        } else {
          missing.push(mirrored(user));
        }
      } else if (row.status !== 'withdrawn' && row.withdrawalRequestedAt === null && drifted(row, user)) {
        changed.push(mirrored(user));
      }
    }
    if (dryRun) {
      summary.created += missing.length;
      summary.updated += changed.length;
      return;
    }
    summary.created += await this.users.insertMissing(missing);
    summary.updated += await this.users.updateMirroredAttributes(changed);
  }

  private async withdrawGone(
    session: DataSource['manager'],
    runStartedAt: Date,
    summary: ReconcileSummary,
    dryRun: boolean,
  ): Promise<void> {
    let afterId: string | null = null;
    for (;;) {
      const batch = await this.users.unseen(session, runStartedAt, afterId, UNSEEN_BATCH);
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
    `updated=${summary.updated} withdrawn=${summary.withdrawn} dry_run=${summary.dryRun} duration_ms=${summary.durationMs}`
  );
}
