import { Injectable, Logger, Optional } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_GROUP } from '../identity/auth-user';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { CognitoProfile } from '../cognito/cognito.types';
import { ApiError } from '../common/api-error';
import { AccountChangeAudit, ChangeRecord } from './account-change';
import { AdvisoryLock } from '../database/advisory-locks';
import { statement } from '../database/statement';
import { PendingChange, PendingChangesRepository } from './pending-changes.repository';
import { UserMappingRepository } from './user-mapping.repository';
import { ensureInvitee, Invitation, invitationOf, inviteInCognito, sameInvitation } from './invitation';

/** Serializes every change that could remove the last admin (two admins demoting each other). */
const ADMIN_MEMBERSHIP_LOCK = AdvisoryLock.ADMIN_MEMBERSHIP;
/** Serializes group deletion against additions to the same group. */
const GROUP_LOCK_NAMESPACE = AdvisoryLock.GROUP_NAMESPACE;

/** Held until the transaction ends. */
const LOCK_ADMIN_MEMBERSHIP = statement<unknown, [key: number]>('SELECT pg_advisory_xact_lock($1)');
const LOCK_GROUP = statement<unknown, [namespace: number, group: string]>('SELECT pg_advisory_xact_lock($1, hashtext($2))');

export const CHANGE_SWEEP_INTERVAL_MS = 30_000;
const SWEEP_MAX_PER_RUN = 200;

/**
 * Account changes that Cognito and the database must agree on, made so that no order of events
 * and no partial failure leaves a stale token valid (docs/security.md):
 *
 * 1. `begin`, in the caller's transaction: the intent is recorded and the user's tokens are cut
 *    off. While the intent exists the guard refuses every token of the user.
 * 2. `finish`: Cognito is changed, then one transaction cuts the tokens off again (the cut-off is
 *    taken after Cognito changed, so a token refreshed in between is refused too), applies the
 *    status, writes the audit entry through AccountChangeAudit and deletes the intent.
 *
 * A change cut short (database or Cognito gone mid-way, process killed) is finished by the next
 * change of the same user (`finishPendingFor`) or by the sweep (every 30 s, on any instance, with a
 * per-row backoff). Every Cognito call here is idempotent, so finishing twice is harmless.
 */
@Injectable()
export class AccountChangesService {
  private readonly logger = new Logger(AccountChangesService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly cognito: CognitoAdminService,
    private readonly users: UserMappingRepository,
    private readonly pending: PendingChangesRepository,
    /** Absent where no admin feature runs (the reconcile job): nothing is audited there. */
    @Optional() private readonly audit?: AccountChangeAudit,
  ) {}

  /** Step 1, in the transaction that checked the change is allowed. */
  async begin(change: ChangeRecord): Promise<PendingChange> {
    const pending = await this.pending.insert(change);
    // Enabling grants nothing a token could carry: only the status follows, at the end.
    if (change.userId !== null && change.action !== 'user.enable') {
      await this.revoke([change.userId]);
    }
    return pending;
  }

  /** Step 1 in a transaction of its own, for a change that needs no other check. */
  start(change: ChangeRecord): Promise<PendingChange> {
    return this.transactions.run(() => this.begin(change));
  }

  /**
   * Step 2: Cognito, then the database; answers once tokens of the next second are accepted.
   * Returns the target's row id (for an invitation, the invitee's row, made here). `firstAttempt`:
   * no earlier attempt can have acted in Cognito (see inviteInCognito).
   */
  async finish(change: PendingChange, firstAttempt = false): Promise<string | null> {
    let members: string[] = [];
    let invitee: CognitoProfile | null = null;
    try {
      if (change.action === 'user.invite') {
        invitee = await inviteInCognito(this.cognito, change, firstAttempt);
      } else {
        members = await this.applyToCognito(change);
      }
    } catch (error) {
      if (isDefinitive(error)) {
        // Cognito refused the change itself (not an outage): nothing will ever apply it.
        await this.pending.delete(change.id);
      }
      throw error;
    }
    const [cutOff, target] = await this.transactions.run(async () => {
      // An invitation names its target once the invitee's row exists, whoever finishes it.
      const done = invitee === null ? change : { ...change, userId: await ensureInvitee(this.users, invitee) };
      const stillPending = await this.pending.delete(change.id);
      const targets = done.userId === null ? members : [done.userId];
      // Enabling and inviting grant nothing an existing token could carry.
      const revoked = change.action === 'user.enable' || change.action === 'user.invite' ? null : await this.revoke(targets);
      if (!stillPending) {
        // Another instance finished it first (and audited it); our cut-off above is harmless.
        return [revoked, done.userId] as const;
      }
      if (change.action === 'user.disable') {
        await this.users.setStatus(change.userId, 'active', 'disabled');
      } else if (change.action === 'user.enable') {
        await this.users.setStatus(change.userId, 'disabled', 'active');
      }
      await this.audit?.changeCompleted(done, members.length);
      return [revoked, done.userId] as const;
    });
    if (cutOff !== null) {
      await sleep(cutOff.waitMs);
    }
    return target;
  }

  /**
   * An invitation, recorded before Cognito creates the user so that one cut short (the database
   * lost right after Cognito acted) is finished and audited by a retry or the sweep. A retry of an
   * invitation an earlier attempt left unfinished finishes that one (audited once); a different
   * one for the address is finished first. Returns the invitee's row id.
   */
  async invite(actorId: string, invitation: Invitation): Promise<string> {
    const earlier = await this.pending.invitation(invitation.email);
    if (earlier !== null) {
      const id = await this.finish(earlier);
      if (id !== null && sameInvitation(invitationOf(earlier), invitation)) {
        return id;
      }
    }
    const change = await this.start({ userId: null, action: 'user.invite', details: { ...invitation }, actorId });
    // finish() names the invitee's row for every invitation it completes.
    return (await this.finish(change, true)) as string;
  }

  /** Finishes what an earlier attempt left half-done for this user, before a new change starts. */
  async finishPendingFor(userId: string): Promise<void> {
    for (const change of await this.pending.forUser(userId)) {
      await this.finish(change);
    }
  }

  /** Finishes half-done deletions of a group (a deleted group has no members to revoke later). */
  async finishPendingGroupDeletions(group: string): Promise<void> {
    for (const change of await this.pending.groupDeletions(group)) {
      await this.finish(change);
    }
  }

  /** Cuts the users' tokens off (see UserMappingRepository.cutOffTokens). */
  revoke(userIds: string[]): Promise<{ waitMs: number } | null> {
    return this.users.cutOffTokens(userIds);
  }

  /**
   * Takes the group's lock for this transaction and refuses a change to a group whose deletion is
   * in flight (409), so no member can join between the deletion's member list and its end.
   */
  async lockGroup(group: string): Promise<void> {
    await this.transactions.execute(LOCK_GROUP, [GROUP_LOCK_NAMESPACE, group]);
    if (await this.pending.pendingFor('group.delete', group)) {
      throw ApiError.conflict(`The group ${group} is being deleted`);
    }
  }

  /** Whether a change that adds members to the group is in flight (a deletion must wait for it). */
  additionsPending(group: string): Promise<boolean> {
    return this.pending.pendingFor('group.add_user', group);
  }

  /**
   * 409 if the user is the last member of the admin group who can sign in: enabled, past their
   * first login (an invited admin stays in FORCE_CHANGE_PASSWORD until then, and may never come),
   * active, and not on the way out (withdrawal, disable or removal from admin in flight). Holds
   * the admin lock for the caller's transaction, which must record its own intent before it commits.
   */
  async assertNotLastAdmin(cognitoSub: string): Promise<void> {
    await this.transactions.execute(LOCK_ADMIN_MEMBERSHIP, [ADMIN_MEMBERSHIP_LOCK]);
    const admins = await this.cognito.listUsersInGroup(ADMIN_GROUP);
    if (!admins.some((u) => u.sub === cognitoSub)) {
      return;
    }
    const others = admins.filter((u) => u.sub !== cognitoSub && u.enabled && u.status !== 'FORCE_CHANGE_PASSWORD').map((u) => u.sub);
    if ((await this.users.countStaying(others, ADMIN_GROUP)) === 0) {
      throw ApiError.conflict('This is the last admin: promote another admin first');
    }
  }

  /**
   * Finishes changes left half-done, one at a time. Each row is claimed by pushing its next attempt
   * out (30 s, doubling) before it is tried, so one that keeps failing waits its turn instead of
   * starving the rest, and two instances never try the same row at once.
   */
  async sweep(): Promise<{ completed: number; failed: number }> {
    let completed = 0;
    let failed = 0;
    while (completed + failed < SWEEP_MAX_PER_RUN) {
      const change = await this.pending.claimNextDue();
      if (change === null) {
        break;
      }
      try {
        await this.finish(change);
        completed += 1;
      } catch (error) {
        failed += 1;
        this.logger.warn({ err: error, changeId: change.id, action: change.action }, 'pending account change failed; will retry');
      }
    }
    return { completed, failed };
  }

  /** The Cognito side of a change; for a group deletion, the members whose tokens it revokes. */
  private async applyToCognito(change: PendingChange): Promise<string[]> {
    const group = typeof change.details.group === 'string' ? change.details.group : '';
    if (change.action === 'group.delete') {
      return this.deleteGroup(change, group);
    }
    const username = await this.users.liveUsername(change.userId);
    if (username === null) {
      return []; // the user was withdrawn meanwhile: nothing left to change
    }
    try {
      switch (change.action) {
        case 'group.add_user':
          await this.cognito.adminAddUserToGroup(username, group);
          break;
        case 'group.remove_user':
          await this.cognito.adminRemoveUserFromGroup(username, group);
          break;
        case 'user.disable':
          await this.cognito.adminSetEnabled(username, false);
          break;
        case 'user.enable':
          await this.cognito.adminSetEnabled(username, true);
          break;
        case 'user.sign_out':
          await this.cognito.adminUserGlobalSignOut(username);
          break;
      }
    } catch (error) {
      // The Cognito user (or group) is gone: there is nothing left to change, only to revoke.
      if (!(error instanceof ApiError && error.getStatus() === 404)) {
        throw error;
      }
    }
    return [];
  }

  /**
   * The members are listed once (after the intent blocks new members) and kept on the intent, so
   * a retry after Cognito deleted the group still knows whom to revoke. Their tokens are cut off
   * before the deletion and again after it.
   */
  private async deleteGroup(change: PendingChange, group: string): Promise<string[]> {
    let members = Array.isArray(change.details.members) ? change.details.members : null;
    if (members === null) {
      const subs = (await this.cognito.listUsersInGroup(group)).map((u) => u.sub);
      members = await this.transactions.run(async () => {
        const found = (await this.users.findBySubs(subs)).map((user) => user.id);
        await this.pending.storeMembers(change.id, found);
        await this.revoke(found);
        return found;
      });
    }
    try {
      await this.cognito.deleteGroup(group);
    } catch (error) {
      if (!(error instanceof ApiError && error.getStatus() === 404)) {
        throw error;
      }
    }
    return members;
  }
}

/** A refusal by Cognito that a retry cannot turn into success (not an outage, not throttling). */
function isDefinitive(error: unknown): boolean {
  return error instanceof ApiError && error.getStatus() < 500 && error.getStatus() !== 429 && error.getStatus() !== 404;
}
