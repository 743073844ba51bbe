import type request from 'supertest';
import { expectBody, Query, segment, Sender, withQuery } from './sender';

export interface AuthorBody {
  id: string;
  nickname: string | null;
  status: string;
}

export interface AttachmentBody {
  id: string;
  contentType: string;
  size: number;
  url: string;
}

export interface PostBody {
  id: string;
  title: string;
  body: string;
  author: AuthorBody;
  commentCount: number;
  attachments: AttachmentBody[];
  createdAt: string;
  updatedAt: string;
}

export interface CommentBody {
  id: string;
  postId: string;
  body: string;
  author: AuthorBody;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
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

/** /v1/posts */
export class PostsApi {
  constructor(private readonly send: Sender) {}

  /** POST /v1/posts as sent, with an Idempotency-Key when given. */
  create(body: CreatePostRequest, options: { idempotencyKey?: string } = {}): request.Test {
    const req = this.send.post('/v1/posts');
    return (options.idempotencyKey === undefined ? req : req.set('Idempotency-Key', options.idempotencyKey)).send(body);
  }

  /** A post that must be created (201), with a title and body unless given. */
  created(fields: { title?: string; body?: string } = {}): Promise<PostBody> {
    return expectBody<PostBody>(this.create({ title: fields.title ?? 'A title', body: fields.body ?? 'A body' }), 201);
  }

  /** GET /v1/posts, e.g. `{ authorId, limit, cursor }`. */
  list(query?: Query): request.Test {
    return withQuery(this.send.get('/v1/posts'), query);
  }

  /** GET /v1/posts/:id */
  get(id: string): request.Test {
    return this.send.get(`/v1/posts/${segment(id)}`);
  }

  /** PATCH /v1/posts/:id */
  update(id: string, body: Record<string, unknown>): request.Test {
    return this.send.patch(`/v1/posts/${segment(id)}`).send(body);
  }

  /** DELETE /v1/posts/:id */
  delete(id: string): request.Test {
    return this.send.delete(`/v1/posts/${segment(id)}`);
  }
}

/** /v1/posts/:postId/comments */
export class CommentsApi {
  constructor(private readonly send: Sender) {}

  /** POST /v1/posts/:postId/comments, with an Idempotency-Key when given. */
  create(postId: string, body: Record<string, unknown>, options: { idempotencyKey?: string } = {}): request.Test {
    const req = this.send.post(comments(postId));
    return (options.idempotencyKey === undefined ? req : req.set('Idempotency-Key', options.idempotencyKey)).send(body);
  }

  /** A comment that must be created (201). */
  created(postId: string, body = 'A comment'): Promise<CommentBody> {
    return expectBody<CommentBody>(this.create(postId, { body }), 201);
  }

  /** GET /v1/posts/:postId/comments */
  list(postId: string, query?: Query): request.Test {
    return withQuery(this.send.get(comments(postId)), query);
  }

  /** PATCH /v1/posts/:postId/comments/:commentId */
  update(postId: string, commentId: string, body: Record<string, unknown>): request.Test {
    return this.send.patch(`${comments(postId)}/${segment(commentId)}`).send(body);
  }

  /** DELETE /v1/posts/:postId/comments/:commentId */
  delete(postId: string, commentId: string): request.Test {
    return this.send.delete(`${comments(postId)}/${segment(commentId)}`);
  }
}

const comments = (postId: string): string => `/v1/posts/${segment(postId)}/comments`;
