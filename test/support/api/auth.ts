import type request from 'supertest';
import { expectBody, Sender } from './sender';

export interface TokensBody {
  accessToken: string;
  idToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

export type RefreshedTokensBody = Omit<TokensBody, 'refreshToken'>;

export interface ChallengeBody {
  challenge: { name: string; session: string; expiresIn: number };
  totp?: { secretCode: string; otpauthUri: string };
}

/** A login step answers tokens or the next challenge. */
export type LoginBody = TokensBody | ChallengeBody;

/** The request bodies of the auth routes: loose, since specs send wrong values on purpose too. */
export type AuthRequest = Record<string, unknown>;

/** The public auth routes (no bearer token): /v1/auth/... */
export class PublicAuthApi {
  constructor(private readonly send: Sender) {}

  /** POST /v1/auth/signup */
  signup(body: AuthRequest): request.Test {
    return this.send.post('/v1/auth/signup').send(body);
  }

  /** POST /v1/auth/confirm: the sign-up code. */
  confirm(body: AuthRequest): request.Test {
    return this.send.post('/v1/auth/confirm').send(body);
  }

  /** POST /v1/auth/resend-code */
  resendCode(body: AuthRequest): request.Test {
    return this.send.post('/v1/auth/resend-code').send(body);
  }

  /** POST /v1/auth/login */
  login(body: AuthRequest): request.Test {
    return this.send.post('/v1/auth/login').send(body);
  }

  /** A login that must give tokens (200), with extra headers (a `User-Agent`, an `X-Forwarded-For`) when given. */
  loggedIn(body: { email: string; password: string }, headers: Record<string, string> = {}): Promise<TokensBody> {
    return expectBody<TokensBody>(this.login(body).set(headers), 200);
  }

  /** POST /v1/auth/challenge */
  challenge(body: AuthRequest): request.Test {
    return this.send.post('/v1/auth/challenge').send(body);
  }

  /** POST /v1/auth/oauth/token: the Hosted UI's authorization code, exchanged with its PKCE verifier. */
  oauthToken(body: AuthRequest): request.Test {
    return this.send.post('/v1/auth/oauth/token').send(body);
  }

  /** POST /v1/auth/refresh */
  refresh(body: AuthRequest): request.Test {
    return this.send.post('/v1/auth/refresh').send(body);
  }

  /** A refresh that must give a new access token (200). */
  refreshed(refreshToken: string): Promise<RefreshedTokensBody> {
    return expectBody<RefreshedTokensBody>(this.refresh({ refreshToken }), 200);
  }

  readonly password = {
    /** POST /v1/auth/password/forgot */
    forgot: (body: AuthRequest): request.Test => this.send.post('/v1/auth/password/forgot').send(body),
    /** POST /v1/auth/password/reset */
    reset: (body: AuthRequest): request.Test => this.send.post('/v1/auth/password/reset').send(body),
  };
}

/** The auth routes a signed-in caller sends with its token. */
export class AuthApi {
  constructor(private readonly send: Sender) {}

  /** POST /v1/auth/logout, with the refresh token of the session when given. */
  logout(body?: AuthRequest): request.Test {
    const req = this.send.post('/v1/auth/logout');
    return body === undefined ? req : req.send(body);
  }

  /** POST /v1/auth/logout-all */
  logoutAll(): request.Test {
    return this.send.post('/v1/auth/logout-all');
  }

  readonly password = {
    /** POST /v1/auth/password/change */
    change: (body: AuthRequest): request.Test => this.send.post('/v1/auth/password/change').send(body),
  };
}
