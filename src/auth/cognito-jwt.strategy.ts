import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { KeyObject } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ApiError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { AccountGateService } from './account-gate.service';
import { AccessTokenClaims, AuthUser } from '../identity/auth-user';
import { bearerToken } from './bearer-token';
import { JwksService } from './jwks.service';
import { VerifiedTokenCache } from './verified-token-cache';
import type { SessionOrigin } from '../users/sessions.repository';

/** Allowed clock skew for exp / nbf / iat: 5 s either way (docs/architecture.md, the auth guard). */
export const CLOCK_SKEW_SECONDS = 5;

function decodeHeader(token: string): Record<string, unknown> | null {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The client of a request as a session records it: `request.ip` follows the TRUST_PROXY rules. */
export function requestOrigin(request: FastifyRequest): SessionOrigin {
  const userAgent = request.headers['user-agent'];
  return { userAgent: typeof userAgent === 'string' && userAgent !== '' ? userAgent : null, ipAddress: request.ip ?? null };
}

/**
 * The claim checks jsonwebtoken does not do for us (it already checked signature, RS256, exp
 * when present, nbf and the exact issuer). Cognito access tokens have no `aud`, so `client_id`
 * is compared here.
 */
export function checkAccessTokenClaims(payload: Record<string, unknown>, clientId: string, nowSeconds: number): AccessTokenClaims {
  const refuse = (why: string): never => {
    throw ApiError.unauthenticated(why);
  };
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
    refuse('The token has no expiry');
  }
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat) || payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    refuse('The token has no valid issue time');
  }
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowSeconds + CLOCK_SKEW_SECONDS)) {
    refuse('The token is not valid yet');
  }
  if (payload.token_use !== 'access') {
    refuse('Only access tokens are accepted');
  }
  if (payload.client_id !== clientId) {
    refuse('The token was issued to another client');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    refuse('The token has no subject');
  }
  const groups = payload['cognito:groups'];
  if (groups !== undefined && (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string'))) {
    refuse('The token groups are malformed');
  }
  if (payload.jti !== undefined && typeof payload.jti !== 'string') {
    refuse('The token id is malformed');
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string') {
    refuse('The token scope is malformed');
  }
  if (payload.origin_jti !== undefined && (typeof payload.origin_jti !== 'string' || payload.origin_jti === '')) {
    refuse('The token origin is malformed');
  }
  if (payload.auth_time !== undefined && (typeof payload.auth_time !== 'number' || !Number.isFinite(payload.auth_time))) {
    refuse('The token sign-in time is malformed');
  }
  const username = typeof payload.username === 'string' && payload.username !== '' ? payload.username : (payload.sub as string);
  return {
    sub: payload.sub as string,
    username,
    groups: (groups as string[] | undefined) ?? [],
    jti: (payload.jti as string | undefined) ?? null,
    scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter((s) => s !== '') : [],
    iat: payload.iat as number,
    exp: payload.exp as number,
    authTime: typeof payload.auth_time === 'number' && Number.isFinite(payload.auth_time) ? payload.auth_time : null,
    originJti: typeof payload.origin_jti === 'string' && payload.origin_jti !== '' ? payload.origin_jti : null,
  };
}

/**
 * passport-jwt fed by the pool's JWKS (jwks-rsa): verifies a Cognito access token with every
 * check listed in docs/architecture.md (the auth guard), then lets the caller's `user_mapping` row decide.
 */
@Injectable()
export class CognitoJwtStrategy extends PassportStrategy(Strategy, 'cognito-jwt') {
  /** Verified tokens by digest; bounded (about 200 bytes an entry). */
  private readonly verified = new VerifiedTokenCache(10_000);

  constructor(
    private readonly config: AppConfig,
    private readonly jwks: JwksService,
    private readonly gate: AccountGateService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([(req: FastifyRequest) => bearerToken(req)]),
      secretOrKeyProvider: (_req: unknown, rawJwt: string, done: (err: unknown, key?: string | Buffer) => void) => {
        const header = decodeHeader(rawJwt);
        // Only RS256 with a kid; jku / x5u / jwk headers are never followed.
        if (header === null || header.alg !== 'RS256' || typeof header.kid !== 'string') {
          done(ApiError.unauthenticated('The token is not an RS256 token of this user pool'));
          return;
        }
        jwks.keyFor(header.kid).then(
          // jsonwebtoken accepts a KeyObject (no createPublicKey per request);
          // @types/passport-jwt only knows string | Buffer.
          (key: KeyObject) => done(null, key as unknown as Buffer),
          (error: unknown) => done(error),
        );
      },
      algorithms: ['RS256'],
      issuer: config.cognito.issuer,
      ignoreExpiration: false,
      jsonWebTokenOptions: { algorithms: ['RS256'], issuer: config.cognito.issuer, clockTolerance: CLOCK_SKEW_SECONDS },
      passReqToCallback: true,
    });
  }

  /** After passport-jwt verified the signature: the remaining claim checks, then the caller's row. */
  async validate(request: FastifyRequest, payload: Record<string, unknown>): Promise<AuthUser> {
    const claims = checkAccessTokenClaims(payload, this.config.cognito.clientId, Math.floor(Date.now() / 1000));
    const accessToken = bearerToken(request) ?? '';
    const kid = decodeHeader(accessToken)?.kid;
    if (typeof kid === 'string') {
      this.verified.set(VerifiedTokenCache.keyOf(accessToken), claims, kid);
    }
    return this.admit(claims, accessToken, request);
  }

  /**
   * The same result as passport-jwt + `validate` for a token that passed verification before
   * (see VerifiedTokenCache); null when the token has to be verified in full.
   */
  async authenticateRemembered(accessToken: string, request: FastifyRequest): Promise<AuthUser | null> {
    const claims = this.verified.get(VerifiedTokenCache.keyOf(accessToken), Math.floor(Date.now() / 1000), CLOCK_SKEW_SECONDS, (kid) =>
      this.jwks.has(kid),
    );
    return claims === null ? null : this.admit(claims, accessToken, request);
  }

  private async admit(claims: AccessTokenClaims, accessToken: string, request: FastifyRequest): Promise<AuthUser> {
    const { account, sessionId } = await this.gate.admit(claims, () => requestOrigin(request));
    return { ...claims, id: account.id, account, accessToken, sessionId };
  }
}
