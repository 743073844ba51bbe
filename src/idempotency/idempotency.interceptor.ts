import { createHash } from 'node:crypto';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { lastValueFrom, Observable, of } from 'rxjs';
import stringify from 'safe-stable-stringify';
import type { AuthUser } from '../identity/auth-user';
import { ApiError } from '../common/api-error';
import { pathOf } from '../common/request-id';
import { Transactions } from '../database/transactions';
import { IdempotencyRepository, StoredResponse } from './idempotency.repository';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_PATTERN, ONE_STATEMENT_WHEN, REPLAYED_HEADER } from './idempotency-key';
import { KeyHeld, PendingKey, PendingKeys } from './pending-key';

/** The response headers a replay repeats (the rest, such as X-Request-Id, belong to each response). */
const REPLAYED_HEADERS = ['location'];

/** A request with the same key committed between this one's snapshot and its lock. */
class KeyTakenMeanwhile extends Error {}

/**
 * Safe retries (docs/retries.md), on the routes marked `@Idempotent()` (route-scoped: no other route pays for
 * it). With an `Idempotency-Key`, the handler runs inside a transaction that first takes the key
 * (a lock, without waiting) and finally stores the response under it, so the effect and the key
 * commit together: a commit whose answer was lost on the way to the client is found by the retry
 * and replayed, never repeated. A request without the header is processed as usual.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly transactions: Transactions,
    private readonly keys: IdempotencyRepository,
    private readonly pendingKeys: PendingKeys,
    private readonly reflector: Reflector,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: AuthUser }>();
    const key = request.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
    // Keys are per user: a route without a caller has nothing to scope them by.
    if (key === undefined || request.user === undefined) {
      return next.handle();
    }
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw ApiError.validation(`${IDEMPOTENCY_KEY_HEADER} must be 1 to 255 characters of A-Z, a-z, 0-9, _ and -`, [
        { field: IDEMPOTENCY_KEY_HEADER, message: 'must match ^[A-Za-z0-9_-]{1,255}$ (send it once)' },
      ]);
    }
    const userId = request.user.id;
    const reply = http.getResponse<FastifyReply>();
    const requestHash = fingerprint(request);

    const oneStatementWhen = this.reflector.get<((body: unknown) => boolean) | undefined>(ONE_STATEMENT_WHEN, context.getHandler());
    const outcome =
      oneStatementWhen?.(request.body) === true
        ? await this.processInOneStatement({ userId, key, requestHash, sent: false }, next)
        : await this.processOnce(userId, key, requestHash, reply, next);
    if (outcome.kind === 'processed') {
      return of(outcome.body);
    }
    if (!outcome.stored.requestHash.equals(requestHash)) {
      throw new ApiError(422, 'IDEMPOTENCY_KEY_REUSED', `This ${IDEMPOTENCY_KEY_HEADER} was used for a different request; use a new key`);
    }
    void reply.status(outcome.stored.statusCode).headers(outcome.stored.headers).header(REPLAYED_HEADER, 'true');
    return of(outcome.stored.body);
  }

  /** Runs the handler under the key, or answers what the key already holds. */
  private async processOnce(userId: string, key: string, requestHash: Buffer, reply: FastifyReply, next: CallHandler): Promise<Outcome> {
    try {
      return await this.transactions.run(async (): Promise<Outcome> => {
        const claim = await this.keys.claim(userId, key);
        if (claim.kind === 'in-flight') {
          throw inFlight();
        }
        if (claim.kind === 'completed') {
          return { kind: 'stored', stored: claim.stored };
        }
        // Called here, inside the transaction's async context, so the handler's writes join it.
        const body: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
        if (!(await this.keys.store(userId, key, { requestHash, statusCode: reply.statusCode, body, headers: pick(reply) }))) {
          throw new KeyTakenMeanwhile();
        }
        return { kind: 'processed', body };
      });
    } catch (error) {
      if (!(error instanceof KeyTakenMeanwhile)) {
        throw error;
      }
      // This attempt's effect was rolled back; the one that committed answers for the key.
      const stored = await this.keys.find(userId, key);
      if (stored === null) {
        throw inFlight();
      }
      return { kind: 'stored', stored };
    }
  }

  /**
   * The route claims the key, makes its effect and stores its answer in one statement (see
   * PendingKey), which tells what it found by throwing KeyHeld. A request refused before that
   * statement (a 400 of the body, say) answers as it would have after taking the key: 409 while
   * the key is in flight, its stored answer or 422 when the key was used, else its own error.
   */
  private async processInOneStatement(pending: PendingKey, next: CallHandler): Promise<Outcome> {
    try {
      const body: unknown = await this.pendingKeys.run(pending, () => lastValueFrom(next.handle(), { defaultValue: undefined }));
      if (!pending.sent) {
        throw new Error('An @Idempotent({ oneStatementWhen }) route answered without its keyed statement');
      }
      return { kind: 'processed', body };
    } catch (error) {
      if (error instanceof KeyHeld) {
        return heldOutcome(error);
      }
      if (pending.sent) {
        throw error;
      }
      const claim = await this.keys.claim(pending.userId, pending.key);
      if (claim.kind === 'claimed') {
        throw error;
      }
      return heldOutcome(new KeyHeld(claim));
    }
  }
}

function heldOutcome(held: KeyHeld): Outcome {
  if (held.by.kind === 'in-flight') {
    throw inFlight();
  }
  return { kind: 'stored', stored: held.by.stored };
}

type Outcome = { kind: 'processed'; body: unknown } | { kind: 'stored'; stored: StoredResponse };

function inFlight(): ApiError {
  return new ApiError(409, 'CONFLICT', `A request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry shortly`, {
    headers: { 'Retry-After': '1' },
  });
}

/** What makes two requests "the same": method, path and body (keys in any order). */
function fingerprint(request: FastifyRequest): Buffer {
  return createHash('sha256')
    .update(`${request.method} ${pathOf(request.url)}\n${stringify(request.body ?? null)}`)
    .digest();
}

function pick(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (typeof value === 'string') {
      headers[name] = value;
    }
  }
  return headers;
}
