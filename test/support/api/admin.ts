import type request from 'supertest';
import type { UserProfileBody } from './users';
import { expectBody, Query, segment, Sender, withQuery } from './sender';

export interface AdminUserSummaryBody {
  id: string;
  email: string | null;
  nickname: string | null;
  status: string;
  createdAt: string;
}

export interface AdminUserBody extends UserProfileBody {
  enabled: boolean;
}

export interface GroupBody {
  name: string;
  description: string | null;
  precedence: number | null;
}

export interface AuditEntryBody {
  id: string;
  actorId: string;
  action: string;
  outcome: string;
  targetUserId: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

/** /v1/admin/... for an admin (or for anyone, to see them refused). */
export class AdminApi {
  constructor(private readonly send: Sender) {}

  readonly users = {
    /** GET /v1/admin/users, e.g. `{ q, status, limit, cursor }`. */
    list: (query?: Query): request.Test => withQuery(this.send.get('/v1/admin/users'), query),
    /** POST /v1/admin/users: invites a user. */
    invite: (body: Record<string, unknown>): request.Test => this.send.post('/v1/admin/users').send(body),
    /** GET /v1/admin/users/:id */
    get: (id: string): request.Test => this.send.get(user(id)),
    /** A user's detail, which must be found (200). */
    found: (id: string): Promise<AdminUserBody> => expectBody<AdminUserBody>(this.users.get(id), 200),
    /** POST /v1/admin/users/:id/disable */
    disable: (id: string): request.Test => this.send.post(`${user(id)}/disable`),
    /** POST /v1/admin/users/:id/enable */
    enable: (id: string): request.Test => this.send.post(`${user(id)}/enable`),
    /** DELETE /v1/admin/users/:id */
    delete: (id: string): request.Test => this.send.delete(user(id)),
    /** PUT /v1/admin/users/:id/groups/:name */
    addToGroup: (id: string, group: string): request.Test => this.send.put(`${user(id)}/groups/${segment(group)}`),
    /** DELETE /v1/admin/users/:id/groups/:name */
    removeFromGroup: (id: string, group: string): request.Test => this.send.delete(`${user(id)}/groups/${segment(group)}`),
    /** GET /v1/admin/users/:id/sessions */
    sessions: (id: string): request.Test => this.send.get(`${user(id)}/sessions`),
    /** DELETE /v1/admin/users/:id/sessions/:sessionId */
    endSession: (id: string, sessionId: string): request.Test => this.send.delete(`${user(id)}/sessions/${segment(sessionId)}`),
  };

  readonly groups = {
    /** GET /v1/admin/groups */
    list: (): request.Test => this.send.get('/v1/admin/groups'),
    /** POST /v1/admin/groups */
    create: (body: Record<string, unknown>): request.Test => this.send.post('/v1/admin/groups').send(body),
    /** DELETE /v1/admin/groups/:name */
    delete: (name: string): request.Test => this.send.delete(`/v1/admin/groups/${segment(name)}`),
    /** GET /v1/admin/groups/:name/users */
    members: (name: string): request.Test => this.send.get(`/v1/admin/groups/${segment(name)}/users`),
  };

  /** GET /v1/admin/audit-log, e.g. `{ action, actorId, targetUserId, from, to, limit, cursor }`. */
  auditLog(query?: Query): request.Test {
    return withQuery(this.send.get('/v1/admin/audit-log'), query);
  }

  /** GET /v1/admin/audit-log/export, e.g. `'format=csv&actorId=...'`: a stream of CSV or JSON lines. */
  auditLogExport(query?: Query): request.Test {
    return withQuery(this.send.get('/v1/admin/audit-log/export'), query);
  }
}

const user = (id: string): string => `/v1/admin/users/${segment(id)}`;
