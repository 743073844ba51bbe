export type ChangeAction =
  'group.add_user' | 'group.remove_user' | 'group.delete' | 'user.disable' | 'user.enable' | 'user.sign_out' | 'user.invite';

/** What a change records beside its action (`pending_changes.details`, jsonb); each field names the actions that set it. */
export interface ChangeDetails {
  /** group.add_user, group.remove_user, group.delete: the group. */
  group?: string;
  /** group.delete: the members whose tokens it cuts off, stored once listed (a retry reuses them). */
  members?: string[];
  /** user.invite: the invitation (see Invitation). */
  email?: string;
  nickname?: string;
  phoneNumber?: string;
  groups?: string[];
  /** user.disable, user.enable made by the reconcile job: 'cognito' (the change was made there). */
  source?: 'cognito';
}

/** One account change as recorded before Cognito is called. */
export interface ChangeRecord {
  /**
   * Null for a group deletion, which concerns every member, and for an invitation until the
   * invitee's row exists (the record of a finished invitation names it).
   */
  userId: string | null;
  action: ChangeAction;
  details: ChangeDetails;
  /** The admin who asked for it; null when users act on their own sessions. */
  actorId: string | null;
}

/**
 * The users layer's port for auditing (an abstract class as the DI token): called inside the
 * transaction that finishes a change, so the audit entry commits with it, whether the request, a
 * retry or the sweep finished it. The admin feature implements it (AdminChangeAudit); where no
 * admin feature runs (the reconcile job), changes are not audited.
 */
export abstract class AccountChangeAudit {
  /** Records `change` (finished) in the surrounding transaction (Transactions.run). */
  abstract changeCompleted(change: ChangeRecord, membersRevoked: number): Promise<void>;
}
