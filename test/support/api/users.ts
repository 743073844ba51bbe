import type request from 'supertest';
import { expectBody, segment, Sender } from './sender';

export interface UserProfileBody {
  id: string;
  email: string | null;
  phoneNumber: string | null;
  nickname: string | null;
  status: string;
  groups: string[];
  createdAt: string;
  updatedAt: string;
}

export interface SessionBody {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string | null;
  ipAddress: string | null;
  current: boolean;
}

export interface MfaStatusBody {
  totp: boolean;
  preferred: 'SOFTWARE_TOKEN_MFA' | null;
}

export interface TotpSecretBody {
  secretCode: string;
  otpauthUri: string;
}

/** The caller's own account: /v1/users/me and what hangs under it. */
export class UsersApi {
  constructor(private readonly send: Sender) {}

  /** GET /v1/users/me */
  me(): request.Test {
    return this.send.get('/v1/users/me');
  }

  /** GET /v1/users/:id: another user's public profile. */
  profile(id: string): request.Test {
    return this.send.get(`/v1/users/${segment(id)}`);
  }

  /** PATCH /v1/users/me */
  update(body: Record<string, unknown>): request.Test {
    return this.send.patch('/v1/users/me').send(body);
  }

  /** DELETE /v1/users/me: withdraws the account. */
  withdraw(): request.Test {
    return this.send.delete('/v1/users/me');
  }

  /** POST /v1/users/me/email: starts an email change. */
  changeEmail(body: Record<string, unknown>): request.Test {
    return this.send.post('/v1/users/me/email').send(body);
  }

  /** POST /v1/users/me/email/verify: the code sent to the new address. */
  verifyEmail(body: Record<string, unknown>): request.Test {
    return this.send.post('/v1/users/me/email/verify').send(body);
  }

  readonly sessions = {
    /** GET /v1/users/me/sessions */
    list: (): request.Test => this.send.get('/v1/users/me/sessions'),
    /** The caller's sessions, which must be listed (200). */
    listed: async (): Promise<SessionBody[]> => (await expectBody<{ items: SessionBody[] }>(this.sessions.list(), 200)).items,
    /** DELETE /v1/users/me/sessions/:id */
    end: (id: string): request.Test => this.send.delete(`/v1/users/me/sessions/${segment(id)}`),
    /** DELETE /v1/users/me/sessions: every session but the caller's. */
    endOthers: (): request.Test => this.send.delete('/v1/users/me/sessions'),
  };

  readonly mfa = {
    /** GET /v1/users/me/mfa */
    status: (): request.Test => this.send.get('/v1/users/me/mfa'),
    /** POST /v1/users/me/mfa/totp: a new authenticator secret. */
    startTotp: (): request.Test => this.send.post('/v1/users/me/mfa/totp'),
    /** POST /v1/users/me/mfa/totp/verify */
    verifyTotp: (body: Record<string, unknown>): request.Test => this.send.post('/v1/users/me/mfa/totp/verify').send(body),
    /** DELETE /v1/users/me/mfa/totp */
    disableTotp: (): request.Test => this.send.delete('/v1/users/me/mfa/totp'),
  };
}
