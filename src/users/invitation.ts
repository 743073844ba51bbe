import { ApiError } from '../common/api-error';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { CognitoProfile } from '../cognito/cognito.types';
import { PendingChange } from './pending-changes.repository';
import { UserMappingRepository } from './user-mapping.repository';

/** What an invitation's intent keeps: enough to create the user if Cognito never did. */
export interface Invitation {
  email: string;
  nickname: string;
  phoneNumber?: string;
  groups: string[];
}

/**
 * On a later attempt, how much earlier than the intent Cognito's clock may date the user it created
 * for it (both keep NTP time). A first attempt allows none: a user created just before it is
 * another invitation's.
 */
const CLOCK_SKEW_MS = 5_000;

export function invitationOf(change: PendingChange): Invitation {
  const d = change.details;
  return {
    email: String(d.email),
    nickname: String(d.nickname),
    ...(typeof d.phoneNumber === 'string' ? { phoneNumber: d.phoneNumber } : {}),
    groups: Array.isArray(d.groups) ? d.groups.map(String) : [],
  };
}

/** Whether two invitations ask for the same thing (a retry of the same request). */
export function sameInvitation(a: Invitation, b: Invitation): boolean {
  const key = (i: Invitation): string =>
    JSON.stringify([i.email.toLowerCase(), i.nickname, i.phoneNumber ?? null, [...new Set(i.groups)].sort()]);
  return key(a) === key(b);
}

/**
 * The Cognito side of an invitation: Cognito creates the user (and emails the temporary password),
 * then the user joins its groups (idempotent; a group deleted meanwhile is skipped). Finishing an
 * invitation that an earlier attempt cut short after Cognito created the user meets USER_EXISTS:
 * that user is this invitation's when Cognito created it after the intent was recorded and it has
 * never logged in (FORCE_CHANGE_PASSWORD, which only an invitation yields); so is one the sweep
 * created while a slow first attempt was still running. For any other account with the address,
 * USER_EXISTS stands (409).
 */
export async function inviteInCognito(cognito: CognitoAdminService, change: PendingChange, firstAttempt: boolean): Promise<CognitoProfile> {
  const invitation = invitationOf(change);
  let invitee: CognitoProfile;
  try {
    invitee = await cognito.adminCreateUser(invitation);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 'USER_EXISTS')) {
      throw error;
    }
    const found = await cognito.adminFindUser(invitation.email);
    const createdForThis =
      found !== null &&
      found.status === 'FORCE_CHANGE_PASSWORD' &&
      found.createdAt !== null &&
      found.createdAt.getTime() >= change.requestedAt.getTime() - (firstAttempt ? 0 : CLOCK_SKEW_MS);
    if (!createdForThis) {
      throw error;
    }
    invitee = found.profile;
  }
  for (const group of invitation.groups) {
    try {
      await cognito.adminAddUserToGroup(invitee.username, group);
    } catch (error) {
      if (!(error instanceof ApiError && error.getStatus() === 404)) {
        throw error;
      }
    }
  }
  return invitee;
}

/** The invitee's row (made unless it exists, as at a first login), in the transaction that finishes the invitation. */
export async function ensureInvitee(users: UserMappingRepository, invitee: CognitoProfile): Promise<string> {
  const fields = { email: invitee.email, phoneNumber: invitee.phoneNumber, nickname: invitee.nickname };
  return (await users.ensure(invitee.sub, invitee.username, fields)).user.id;
}
