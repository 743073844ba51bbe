import { HttpException } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * Every error code a client can receive: the contract's table, plus the codes Fastify's own refusals map to. A code
 * outside this list does not compile, so a typo cannot reach a client.
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'CODE_MISMATCH'
  | 'CODE_EXPIRED'
  | 'INVALID_PASSWORD'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_GRANT'
  | 'UNAUTHENTICATED'
  | 'TOKEN_REVOKED'
  | 'REAUTHENTICATION_REQUIRED'
  | 'ACCOUNT_WITHDRAWN'
  | 'SESSION_EXPIRED'
  | 'ACCOUNT_DISABLED'
  | 'USER_NOT_CONFIRMED'
  | 'FORBIDDEN'
  | 'INSUFFICIENT_SCOPE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_ACCEPTABLE'
  | 'USER_EXISTS'
  | 'GROUP_EXISTS'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'TOO_MANY_REQUESTS'
  | 'HEADERS_TOO_LARGE'
  | 'BAD_REQUEST'
  | 'INTERNAL_ERROR'
  | 'IDP_UNAVAILABLE'
  | 'SERVICE_UNAVAILABLE';

/** RFC 6750: what a 401 for a bad, revoked or withdrawn token tells the client. */
export const INVALID_TOKEN_CHALLENGE = { 'WWW-Authenticate': 'Bearer error="invalid_token"' } as const;

export interface ApiErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * The error every service throws: an HTTP status, one of the contract's error codes and a
 * human-readable detail. The global filter renders it as RFC 9457 problem details.
 */
export class ApiError extends HttpException {
  readonly code: ErrorCode;
  readonly errors?: FieldError[];
  readonly headers: Record<string, string>;

  constructor(status: number, code: ErrorCode, detail: string, options: ApiErrorOptions = {}) {
    super(detail, status, { cause: options.cause });
    this.code = code;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  static validation(detail: string, errors?: FieldError[]): ApiError {
    return new ApiError(400, 'VALIDATION_FAILED', detail, { errors });
  }

  static notFound(detail = 'The resource does not exist'): ApiError {
    return new ApiError(404, 'NOT_FOUND', detail);
  }

  static forbidden(detail = 'You are not allowed to do this'): ApiError {
    return new ApiError(403, 'FORBIDDEN', detail);
  }

  static conflict(detail: string, code: ErrorCode = 'CONFLICT'): ApiError {
    return new ApiError(409, code, detail);
  }

  static unauthenticated(detail = 'A valid access token is required'): ApiError {
    return new ApiError(401, 'UNAUTHENTICATED', detail, { headers: { ...INVALID_TOKEN_CHALLENGE } });
  }

  static serviceUnavailable(detail = 'The database is unavailable, try again shortly', cause?: unknown): ApiError {
    return new ApiError(503, 'SERVICE_UNAVAILABLE', detail, { headers: { 'Retry-After': '1' }, cause });
  }

  static idpUnavailable(detail = 'The identity provider is unavailable, try again shortly', cause?: unknown): ApiError {
    return new ApiError(503, 'IDP_UNAVAILABLE', detail, { headers: { 'Retry-After': '1' }, cause });
  }

  static tooManyRequests(retryAfterSeconds: number, detail = 'Too many requests, slow down'): ApiError {
    return new ApiError(429, 'TOO_MANY_REQUESTS', detail, {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}
