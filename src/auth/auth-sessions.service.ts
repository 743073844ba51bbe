import { Injectable, Logger } from '@nestjs/common';
import { CognitoSelfService } from '../cognito/cognito-self.service';
import { refreshRefused } from '../cognito/cognito-errors';
import { CognitoTokens } from '../cognito/cognito.types';
import { ApiError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { AccessTokenClaims, AuthUser } from '../identity/auth-user';
import { SessionOrigin, sessionKeyOf, SessionsRepository } from '../users/sessions.repository';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { checkAccessTokenClaims } from './access-token-claims';

/** A token's payload, read without verification (see AuthSessionsService.claimsOf). */
export function tokenPayload(token: string): Record<string, unknown> {
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
      return payload as Record<string, unknown>;
    }
  } catch {
    // falls through: not a JWT
  }
  throw ApiError.idpUnavailable('The identity provider answered with a malformed token');
}

/**
 * The sessions of the tokens this service hands out itself (docs/sessions.md): a sign-in is
 * recorded when its tokens are issued, a refresh links the new access token to the sign-in's
 * session, and a refresh token of an ended session no longer refreshes here.
 */
@Injectable()
export class AuthSessionsService {
  private readonly logger = new Logger(AuthSessionsService.name);

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly users: UserMappingRepository,
    private readonly cognito: CognitoSelfService,
    private readonly config: AppConfig,
  ) {}

  /**
   * The claims of tokens straight from the pool's endpoints over TLS, read, not verified (OpenID
   * Connect Core 3.1.3.7 accepts that in place of the signature check); the guard verifies them
   * in full on every request they are presented with.
   */
  claimsOf(accessToken: string): AccessTokenClaims {
    return checkAccessTokenClaims(tokenPayload(accessToken), this.config.cognito.clientId, Math.floor(Date.now() / 1000));
  }

  /**
   * Records the session of a sign-in. A user with no row yet (created in the console, not seen by
   * this service) gets no session here: its tokens are accepted as tokens of no known session.
   */
  async recordSignIn(tokens: CognitoTokens, origin: SessionOrigin): Promise<void> {
    const claims = this.readableClaims(tokens.accessToken);
    if (claims === null) {
      return;
    }
    const key = sessionKeyOf(claims);
    const user = await this.users.findBySub(claims.sub);
    if (key !== null && user !== null) {
      await this.sessions.record(user.id, key, tokens.refreshToken ?? null, origin);
    }
  }

  /** Before a refresh: a refresh token of an ended session is refused (and revoked in Cognito). */
  async assertRefreshable(refreshToken: string): Promise<string | null> {
    const session = await this.sessions.byRefreshToken(refreshToken);
    if (session?.ended === true) {
      await this.refuse(refreshToken);
    }
    return session?.id ?? null;
  }

  /** After a refresh: the new access token joins its session; one of an ended session is refused. */
  async recordRefresh(sessionId: string | null, refreshToken: string, tokens: CognitoTokens): Promise<void> {
    const claims = this.readableClaims(tokens.accessToken);
    const key = claims === null ? null : sessionKeyOf(claims);
    if (key === null) {
      return;
    }
    if (sessionId !== null) {
      await this.sessions.link(sessionId, key);
    }
    // A Cognito origin_jti session the service first saw at a request, and ended since.
    if (await this.sessions.keyEnded(key)) {
      await this.refuse(refreshToken);
    }
  }

  /** Logout: the calling token's session ends, and the presented refresh token's if it is the caller's. */
  async endForLogout(user: AuthUser, refreshToken: string): Promise<void> {
    if (user.sessionId !== null) {
      await this.sessions.end(user.id, user.sessionId);
    }
    const session = await this.sessions.byRefreshToken(refreshToken);
    if (session !== null && session.userId === user.id && session.id !== user.sessionId) {
      await this.sessions.end(user.id, session.id);
    }
  }

  /**
   * The claims, or null for a token that is not a readable access token of this client: it gets
   * no session (the guard refuses it anyway), and the sign-in answers as Cognito did.
   */
  private readableClaims(accessToken: string): AccessTokenClaims | null {
    try {
      return this.claimsOf(accessToken);
    } catch {
      this.logger.warn('an access token from Cognito could not be read: no session recorded for it');
      return null;
    }
  }

  private async refuse(refreshToken: string): Promise<never> {
    try {
      await this.cognito.revokeRefreshToken(refreshToken);
    } catch (error) {
      // The API refuses it either way; Cognito is asked again the next time it is presented.
      this.logger.warn({ err: error }, 'could not revoke the refresh token of an ended session');
    }
    throw refreshRefused();
  }
}
