import { Injectable, Logger } from '@nestjs/common';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { ApiError } from '../common/api-error';
import { UserMapping } from '../identity/entities/user-mapping.entity';
import { mirroredFields } from '../users/mirrored-fields';
import { UserMappingRepository } from '../users/user-mapping.repository';
import type { AccessTokenClaims } from '../identity/auth-user';

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
    private readonly cognito: CognitoAdminService,
  ) {}

  /** Returns the caller's `user_mapping` row, or throws the reason the token is refused. */
  async admit(claims: AccessTokenClaims): Promise<UserMapping> {
    let state = await this.users.callerState(claims.sub, claims.jti, claims.authTime);
    if (state === null) {
      await this.createJustInTime(claims);
      state = await this.users.callerState(claims.sub, claims.jti, claims.authTime);
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
      state.changePending
    ) {
      throw new ApiError(401, 'TOKEN_REVOKED', 'This token has been revoked; refresh or log in again', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    }
    return user;
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
