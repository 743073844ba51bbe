import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { AuthUser } from '../identity/auth-user';
import { SessionList, SessionResponse } from './dto/session.response';
import { SessionsRepository } from './sessions.repository';

/**
 * The caller's sessions (docs/sessions.md). Ending one refuses every access token of it on the
 * next request, on every instance: the guard reads the session with the caller's row each time.
 */
@Injectable()
export class SessionsService {
  constructor(private readonly sessions: SessionsRepository) {}

  async list(userId: string, currentId: string | null): Promise<SessionList> {
    return { items: (await this.sessions.listLive(userId)).map((row) => SessionResponse.from(row, currentId)) };
  }

  async end(caller: AuthUser, sessionId: string): Promise<void> {
    if (!(await this.sessions.end(caller.id, sessionId))) {
      throw ApiError.notFound('No such session');
    }
  }

  /** Every session of the caller but the calling one (all of them when the token belongs to none known). */
  async endOthers(caller: AuthUser): Promise<void> {
    await this.sessions.endAllBut(caller.id, caller.sessionId);
  }
}
