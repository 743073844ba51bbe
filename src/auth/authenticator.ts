import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { KeyObject } from 'node:crypto';
import { Strategy as JwtStrategy } from 'passport-jwt';
import { ApiError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { AccessTokenClaims, AuthUser } from '../identity/auth-user';
import { CLOCK_SKEW_SECONDS, checkAccessTokenClaims } from './access-token-claims';
import { AccountGateService } from './account-gate.service';
import { bearerToken } from './bearer-token';
import { requestOrigin } from './client-origin.decorator';
import { JwksService } from './jwks.service';
import { VerifiedTokenCache } from './verified-token-cache';

/** What jsonwebtoken gives back with `complete: true`. */
interface VerifiedJwt {
  header: { kid?: unknown };
  payload: Record<string, unknown>;
}

/** What passport-jwt reads from the "request" it is given: here, the token we already parsed. */
interface TokenHolder {
  token: string;
}

/** The outcomes a passport strategy reports for one run. */
interface StrategyRun {
  success(verified: VerifiedJwt): void;
  fail(info?: unknown): void;
  error(err: unknown): void;
  pass(): void;
  redirect(): void;
  authenticate(request: TokenHolder, options: object): void;
}

/** No usable bearer token: immutable and never logged (a 4xx is not an unexpected error), so built once. */
const NO_TOKEN = ApiError.unauthenticated();

function decodeHeader(token: string): Record<string, unknown> | null {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The one place a request is authenticated (docs/architecture.md, the request path): the bearer
 * token, the verified-token cache, passport-jwt + jwks-rsa verification, the claim checks, then
 * the caller's row and session (AccountGateService). The Fastify hook that refuses before Nest runs
 * and the global AuthGuard both call `authenticate`, so there is one decision and one 401.
 *
 * Runs its own passport-jwt strategy instance the way passport itself does (a per-request object
 * inheriting from the strategy) instead of registering it by name in passport's process-wide
 * registry, where a second application instance in the same process (tests, tooling) would
 * silently replace it with one configured for another user pool.
 */
@Injectable()
export class Authenticator {
  /** Verified tokens by digest; bounded (about 200 bytes an entry). */
  private readonly verified = new VerifiedTokenCache(10_000);
  private readonly strategy: JwtStrategy;

  constructor(
    private readonly config: AppConfig,
    private readonly jwks: JwksService,
    private readonly gate: AccountGateService,
  ) {
    const issuer = config.cognito.issuer;
    this.strategy = new JwtStrategy(
      {
        jwtFromRequest: (holder: TokenHolder) => holder.token,
        secretOrKeyProvider: (_holder: unknown, rawJwt: string, done: (err: unknown, key?: string | Buffer) => void) => {
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
        issuer,
        ignoreExpiration: false,
        // complete: the verified header comes back too (its kid, for the cache) without decoding it again.
        jsonWebTokenOptions: { algorithms: ['RS256'], issuer, clockTolerance: CLOCK_SKEW_SECONDS, complete: true },
      },
      (verified: VerifiedJwt, done: (err: unknown, user?: VerifiedJwt) => void) => done(null, verified),
    );
  }

  /**
   * Who is calling, or the ApiError that says why not (401, 403, 503...). A request without a
   * usable token is refused with a rejected promise from this plain function, not by a throw
   * inside an async one: in CPU profiles of the 401 path, this function's self time fell from 9.5%
   * to 1.4% of the busy CPU (why the throw cost that much here was not established).
   */
  authenticate(request: FastifyRequest): Promise<AuthUser> {
    const token = bearerToken(request);
    return token === null ? Promise.reject(NO_TOKEN) : this.authenticateBearer(token, request);
  }

  private async authenticateBearer(token: string, request: FastifyRequest): Promise<AuthUser> {
    const claims = await this.claimsOf(token);
    const { account, sessionId } = await this.gate.admit(claims, () => requestOrigin(request));
    return { ...claims, id: account.id, account, accessToken: token, sessionId };
  }

  /**
   * The token's claims: remembered when it passed verification before (VerifiedTokenCache: expiry
   * and the signing key are checked again), else verified in full and remembered.
   */
  private async claimsOf(token: string): Promise<AccessTokenClaims> {
    const key = VerifiedTokenCache.keyOf(token);
    const remembered = this.verified.get(key, Math.floor(Date.now() / 1000), CLOCK_SKEW_SECONDS, (kid) => this.jwks.has(kid));
    if (remembered !== null) {
      return remembered;
    }
    const { header, payload } = await this.verify(token);
    const claims = checkAccessTokenClaims(payload, this.config.cognito.clientId, Math.floor(Date.now() / 1000));
    if (typeof header.kid === 'string') {
      this.verified.set(key, claims, header.kid);
    }
    return claims;
  }

  /** passport-jwt's verdict on the signature, algorithm, issuer, exp and nbf. */
  private verify(token: string): Promise<VerifiedJwt> {
    return new Promise<VerifiedJwt>((resolve, reject) => {
      const run = Object.create(this.strategy) as StrategyRun;
      run.success = resolve;
      // passport-jwt reports refusals as `info`; ours are ApiErrors with the precise code.
      run.fail = (info) => reject(info instanceof ApiError ? info : ApiError.unauthenticated());
      run.error = reject;
      run.pass = () => reject(ApiError.unauthenticated());
      run.redirect = () => reject(ApiError.unauthenticated());
      run.authenticate({ token }, {});
    });
  }
}
