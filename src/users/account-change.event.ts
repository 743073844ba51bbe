import { EntityManager } from 'typeorm';

export const ACCOUNT_CHANGE_COMPLETED = 'account.change.completed';

export type ChangeAction =
  | 'group.add_user'
  | 'group.remove_user'
  | 'group.delete'
  | 'user.disable'
  | 'user.enable'
  | 'user.sign_out'
  | 'user.invite';

/** One account change as recorded before Cognito is called. */
export interface ChangeRecord {
  /**
   * Null for a group deletion, which concerns every member, and for an invitation until the
   * invitee's row exists (the event of a finished invitation names it).
   */
  userId: string | null;
  action: ChangeAction;
  details: Record<string, unknown>;
  /** The admin who asked for it; null when users act on their own sessions. */
  actorId: string | null;
}

/** Published in the transaction that finishes a change, so its audit entry commits with it. */
export class AccountChangeCompletedEvent {
  constructor(
    readonly change: ChangeRecord,
    readonly manager: EntityManager,
    /** For a group deletion: how many members' tokens it revoked. */
    readonly membersRevoked: number,
  ) {}
}
