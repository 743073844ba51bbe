import { createHash } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import stringify from 'safe-stable-stringify';
import type { AuthUser } from '../identity/auth-user';
import { ApiError } from '../common/api-error';
import { pathOf } from '../common/request-id';
import { Idempotency, KeyedRequest } from './idempotency.service';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_PATTERN, ONE_STATEMENT_WHEN } from './idempotency-key';

/** The request as this guard leaves it for `@IdempotencyKey()`. */
export type IdempotentRequest = FastifyRequest & { user?: AuthUser; idempotency?: KeyedRequest };

/**
 * Reads the `Idempotency-Key` of a route marked `@Idempotent()`, before any pipe: a malformed key
 * is a 400; a valid one becomes the request's KeyedRequest, which the handler passes to
 * `Idempotency.once`. A request that will take the transaction path has its key checked here
 * first (`Idempotency.refuseHeld`), so that a key in flight or used for another request is
 * answered 409 or 422 even when the pipes would refuse the body. A guard rather than an
 * interceptor: Nest's interceptor chain (rxjs, per request, with or without a key) cost
 * `POST /v1/posts` about a tenth of its throughput (bench), and a request without a key returns
 * here at once.
 */
@Injectable()
export class IdempotencyGuard implements CanActivate {
  constructor(
    private readonly idempotency: Idempotency,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<IdempotentRequest>();
    const key = request.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
    // Keys are per user: a route without a caller has nothing to scope them by.
    if (key === undefined || request.user === undefined) {
      return true;
    }
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw ApiError.validation(`${IDEMPOTENCY_KEY_HEADER} must be 1 to 255 characters of A-Z, a-z, 0-9, _ and -`, [
        { field: IDEMPOTENCY_KEY_HEADER, message: 'must match ^[A-Za-z0-9_-]{1,255}$ (send it once)' },
      ]);
    }
    const oneStatementWhen = this.reflector.get<((body: unknown) => boolean) | undefined>(ONE_STATEMENT_WHEN, context.getHandler());
    const keyed: KeyedRequest = {
      userId: request.user.id,
      key,
      requestHash: fingerprint(request),
      oneStatement: oneStatementWhen?.(request.body) === true,
      reply: http.getResponse<FastifyReply>(),
    };
    request.idempotency = keyed;
    return keyed.oneStatement ? true : this.idempotency.refuseHeld(keyed).then(() => true);
  }
}

/** What makes two requests "the same": method, path and body (keys in any order). */
function fingerprint(request: FastifyRequest): Buffer {
  return createHash('sha256')
    .update(`${request.method} ${pathOf(request.url)}\n${stringify(request.body ?? null)}`)
    .digest();
}
