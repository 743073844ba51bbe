import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiConflictResponse, ApiHeader, ApiResponse } from '@nestjs/swagger';
import { IdempotencyGuard, IdempotentRequest } from './idempotency.guard';
import type { KeyedRequest } from './idempotency.service';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_PATTERN, ONE_STATEMENT_WHEN, REPLAYED_HEADER } from './idempotency-key';

export interface IdempotentOptions {
  /**
   * True for a request body whose create the route makes in one statement that also claims the
   * key and stores the answer (it takes `PendingKeys.take()` and sends that statement): no
   * transaction is opened for it. It must hold only for bodies the pipes accept. Other bodies take
   * the transaction path.
   */
  oneStatementWhen?: (body: unknown) => boolean;
}

/**
 * Opts a create route into safe retries: a request with an `Idempotency-Key` is processed once
 * per user and key, and a retry gets the stored answer again. The handler takes
 * `@IdempotencyKey()` and returns `Idempotency.once(key, work)`; the work's writes must go through
 * `Transactions` (see src/database/transactions.ts) to commit with the key, unless
 * `oneStatementWhen` says the route makes this request's effect in one keyed statement.
 */
export const Idempotent = (options: IdempotentOptions = {}): MethodDecorator =>
  applyDecorators(
    SetMetadata(ONE_STATEMENT_WHEN, options.oneStatementWhen),
    UseGuards(IdempotencyGuard),
    ApiHeader({
      name: IDEMPOTENCY_KEY_HEADER,
      required: false,
      description:
        'Makes a retry safe: within 24 h the same key (per user) with the same body is answered with the first ' +
        `response again, with ${REPLAYED_HEADER}: true, and has no second effect. 1..255 characters of [A-Za-z0-9_-], e.g. a UUID.`,
      schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source, maxLength: 255 },
    }),
    ApiConflictResponse({ description: 'CONFLICT: a request with this key is still in flight; retry after Retry-After seconds' }),
    ApiResponse({ status: 422, description: 'IDEMPOTENCY_KEY_REUSED: this key was used for a different request' }),
  );

/** The request's valid `Idempotency-Key` on an `@Idempotent()` route, or undefined when it sent none. */
export const IdempotencyKey = createParamDecorator(
  (_: unknown, context: ExecutionContext): KeyedRequest | undefined => context.switchToHttp().getRequest<IdempotentRequest>().idempotency,
);
