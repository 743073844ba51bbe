import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiConflictResponse, ApiHeader, ApiResponse } from '@nestjs/swagger';

export const IDEMPOTENT_KEY = 'idempotent';

/** The request header a client names its attempt with, and the rule a value must follow. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
/** Set on a response that was answered from a stored key instead of being processed again. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * Opts a create route into safe retries: a request with an `Idempotency-Key` is processed once
 * per user and key, and a retry gets the stored answer again. The handler's writes must go
 * through `Transactions` (see src/database/transactions.ts) to commit with the key.
 */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT_KEY, true),
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
