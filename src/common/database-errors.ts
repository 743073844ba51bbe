/** PostgreSQL SQLSTATEs that mean "the database cannot serve this now", not "your request is wrong". */
const UNAVAILABLE_SQLSTATES = new Set([
  '08000',
  '08001',
  '08003',
  '08004',
  '08006', // connection exceptions
  '53300', // too_many_connections
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available (lock_timeout)
  '57P01',
  '57P02',
  '57P03', // admin/crash shutdown, cannot_connect_now (failover)
  '40001',
  '40P01', // serialization failure, deadlock: retryable
]);

const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

const UNAVAILABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error',
  'Connection is not established',
  'the database system is',
  'Cannot use a pool after calling end',
  // TypeORM's QueryRunnerProviderAlreadyReleasedError: the transaction's connection died under it.
  'Database connection provided by a query runner was already released',
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

/** True when the error (or what it wraps) says the database is unreachable, failing over or saturated. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 3 || typeof error !== 'object' || error === null) {
    return false;
  }
  const e = error as ErrorLike;
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_ERRNOS.has(e.code))) {
    return true;
  }
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => (e.message as string).includes(m))) {
    return true;
  }
  return isDatabaseUnavailable(e.driverError, depth + 1) || isDatabaseUnavailable(e.cause, depth + 1);
}

/** The SQLSTATE of a failed query, if any. */
export function sqlState(error: unknown): string | undefined {
  const e = error as ErrorLike | null;
  const code = (e?.driverError as ErrorLike | undefined)?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}
