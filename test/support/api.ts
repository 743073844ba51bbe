import type request from 'supertest';
import { bearer, expectStatus } from './test-app';

export interface AuthorBody {
  id: string;
  nickname: string | null;
  status: string;
}

export interface PostBody {
  id: string;
  title: string;
  body: string;
  author: AuthorBody;
  commentCount: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * What POST /v1/posts accepts. Loosely typed on purpose: specs send wrong values too, and the
 * API must answer them.
 */
export interface CreatePostRequest {
  title?: unknown;
  body?: unknown;
  attachmentIds?: unknown;
}

type Http = ReturnType<typeof request>;

/**
 * The routes the e2e specs call, typed, for one caller: `t.api.as(alice).posts.create(...)`
 * gives the raw answer to assert on; `created(...)` is the one a spec only needs as a fixture.
 */
export class Api {
  constructor(private readonly http: Http) {}

  as(user: { accessToken: string }): CallerApi {
    return new CallerApi(this.http, user.accessToken);
  }
}

export class CallerApi {
  constructor(
    private readonly http: Http,
    private readonly accessToken: string,
  ) {}

  readonly posts = {
    /** POST /v1/posts as sent, with an Idempotency-Key when given. */
    create: (body: CreatePostRequest, options: { idempotencyKey?: string } = {}): request.Test => {
      const req = this.http.post('/v1/posts').set(bearer(this.accessToken));
      return (options.idempotencyKey === undefined ? req : req.set('Idempotency-Key', options.idempotencyKey)).send(body);
    },
    /** A post that must be created (201), with a title and body unless given. */
    created: async (fields: { title?: string; body?: string } = {}): Promise<PostBody> => {
      const res = await this.posts.create({ title: fields.title ?? 'A title', body: fields.body ?? 'A body' });
      expectStatus(res, 201);
      return res.body as PostBody;
    },
  };
}
