import { Injectable, Logger } from '@nestjs/common';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { ApiError } from '../common/api-error';
import { UserMapping } from '../identity/entities/user-mapping.entity';
import { mirroredFields } from '../users/mirrored-fields';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { CallerStateRepository } from '../users/caller-state.repository';
import { SessionOrigin, sessionKeyOf, SessionsRepository } from '../users/sessions.repository';
import type { AccessTokenClaims } from '../identity/auth-user';

/** Who the gate let in: the caller's row and the session of the token (null: none known). */
export interface Admitted {
  account: UserMapping;
  sessionId: string | null;
}

/**
 * After the token itself is proven, the caller's `user_mapping` row decides (docs/security.md):
 * withdrawn 401, disabled 403, revoked 401; a Cognito user with no row yet gets one just in time.
 * Read on every request, so a change made by any instance applies on the very next request.
 */
@Injectable()
export class AccountGateService {
  private readonly logger = new Logger(AccountGateService.name);

  constructor(
    private readonly users: UserMappingRepository,
    private readonly callers: CallerStateRepository,
    private readonly cognito: CognitoAdminService,
    private readonly sessions: SessionsRepository,
  ) {}

  /**
   * Returns the caller's `user_mapping` row and the token's session, or throws the reason the
   * token is refused. `origin` is asked only when the token starts a session.
   */
  async admit(claims: AccessTokenClaims, origin: () => SessionOrigin): Promise<Admitted> {
    const key = sessionKeyOf(claims);
    let state = await this.callers.callerState(claims.sub, claims.jti, key, claims.authTime);
    if (state === null) {
      await this.createJustInTime(claims);
      state = await this.callers.callerState(claims.sub, claims.jti, key, claims.authTime);
      if (state === null) {
        throw ApiError.unauthenticated('Unknown user');
      }
    }
    const { user } = state;
    if (user.status === 'withdrawn' || state.withdrawalRequested) {
      throw new ApiError(401, 'ACCOUNT_WITHDRAWN', 'This account has been withdrawn', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    }
    if (user.status === 'disabled') {
      throw new ApiError(403, 'ACCOUNT_DISABLED', 'This account is disabled');
    }
    // The cut-off is a whole second (UserMappingRepository.cutOffTokens): a token of that second
    // was issued after the revocation. While a change is in flight every token is refused.
    if (
      (user.tokensValidAfter !== null && claims.iat * 1000 < user.tokensValidAfter.getTime()) ||
      state.jtiRevoked ||
      state.changePending ||
      state.session?.ended === true
    ) {
      throw new ApiError(401, 'TOKEN_REVOKED', 'This token has been revoked; refresh or log in again', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    }
    const { session } = state;
    if (session === null) {
      // An unseen Cognito origin_jti starts a session (a client that signed in at Cognito itself).
      const starts = claims.originJti !== null && key !== null;
      return { account: user, sessionId: starts ? await this.sessions.startOnFirstSight(user.id, key, origin()) : null };
    }
    if (session.seenLongAgo) {
      // lastSeenAt is accurate to its resolution: written once it is older, off the answer's path.
      this.sessions
        .touch(session.id)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'could not record when a session was last seen'));
    }
    return { account: user, sessionId: session.id };
  }

  /**
   * A user created outside this API (Hosted UI, console): mirror what Cognito knows, once. Read
   * with the task role (AdminGetUser): a Hosted UI token often lacks the scope GetUser needs.
   */
  private async createJustInTime(claims: AccessTokenClaims): Promise<void> {
    const { created, user } = await this.users.ensure(claims.sub, claims.username);
    if (!created) {
      return;
    }
    this.logger.log({ userId: user.id }, 'user_mapping row created just in time');
    try {
      const profile = await this.cognito.adminGetUser(claims.username);
      await this.users.updateProfile(user.id, mirroredFields(profile));
    } catch (error) {
      // The row exists either way; its attributes follow on the next profile change.
      this.logger.warn({ userId: user.id, err: error }, 'could not read attributes for a just-in-time row');
    }
  }
}
