/** The request header a client names its attempt with, and the rule a value must follow. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
/** Set on a response that was answered from a stored key instead of being processed again. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** Route metadata: the `@Idempotent({ oneStatementWhen })` predicate over the request body. */
export const ONE_STATEMENT_WHEN = 'idempotency:one-statement-when';
