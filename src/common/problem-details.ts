import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { ApiError, ErrorCode, FieldError } from './api-error';
import { isDatabaseUnavailable } from './database-errors';

export interface ProblemDetails {
  status: number;
  title: string;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

export interface RenderedProblem {
  body: ProblemDetails;
  headers: Record<string, string>;
  /** Set when the error was not one we expected: the caller logs it once. */
  unexpected: boolean;
}

/** The contract's default code for a status when the thrower did not name one. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  431: 'HEADERS_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
};

/** What Fastify's own errors (body parsing, limits) mean to a client. */
const FASTIFY_ERRORS: Record<string, { status: number; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, detail: 'The request body exceeds 64 KiB' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, detail: 'Send the body as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, detail: 'Content-Length does not match the body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, detail: 'The JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, detail: 'The body is not valid JSON' },
  // The router's own refusals, which reach here through Fastify's frameworkErrors: a path with
  // malformed percent-encoding, or a path parameter longer than any id (contract: a malformed
  // path id is 400 VALIDATION_FAILED, not Fastify's 414).
  FST_ERR_BAD_URL: { status: 400, detail: 'The URL is not valid: malformed percent-encoding' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 400, detail: 'A path parameter is too long' },
  FST_ERR_CTP_INSTANCE_ALREADY_STARTED: { status: 500, detail: 'Internal error' },
};

function problem(status: number, code: ErrorCode, detail: string, requestId: string, errors?: FieldError[]): ProblemDetails {
  const body: ProblemDetails = {
    status,
    title: STATUS_CODES[status] ?? 'Error',
    detail,
    code,
    requestId,
  };
  if (errors !== undefined && errors.length > 0) {
    body.errors = errors;
  }
  return body;
}

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  name?: unknown;
}

/**
 * Turns any error into problem details. Only our own `ApiError`, Nest's HTTP exceptions and
 * Fastify's client errors keep their text; anything else becomes a generic 500 (or 503 when it
 * says the database is unavailable) so no library, SQL or stack text reaches a client.
 */
export function renderProblem(error: unknown, requestId: string): RenderedProblem {
  if (error instanceof ApiError) {
    return {
      body: problem(error.getStatus(), error.code, error.message, requestId, error.errors),
      headers: error.headers,
      unexpected: error.getStatus() >= 500 && error.code !== 'SERVICE_UNAVAILABLE' && error.code !== 'IDP_UNAVAILABLE',
    };
  }
  // Nest's Fastify adapter wraps Fastify's own 4xx errors (the body parser's, the body limit's)
  // in an HttpException whose message is Fastify's sentence; the wrapped error is rendered
  // instead, in our words.
  if (error instanceof HttpException && error.cause instanceof Error) {
    return renderProblem(error.cause, requestId);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const detail = status === 404 ? 'No such route or resource' : status >= 500 ? 'Internal error' : error.message;
    return {
      body: problem(status, CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST'), detail, requestId),
      headers: {},
      unexpected: status >= 500,
    };
  }
  if (isDatabaseUnavailable(error)) {
    const e = ApiError.serviceUnavailable();
    return { body: problem(503, e.code, e.message, requestId), headers: e.headers, unexpected: false };
  }
  const fastifyError = error as FastifyLikeError | null;
  if (typeof fastifyError?.code === 'string' && fastifyError.code in FASTIFY_ERRORS) {
    const known = FASTIFY_ERRORS[fastifyError.code];
    return {
      body: problem(known.status, CODE_BY_STATUS[known.status] ?? 'INTERNAL_ERROR', known.detail, requestId),
      headers: {},
      unexpected: known.status >= 500,
    };
  }
  // JSON syntax errors from the body parser carry statusCode 400 and no FST code.
  if (fastifyError?.statusCode === 400 && fastifyError.name === 'SyntaxError') {
    return { body: problem(400, 'VALIDATION_FAILED', 'The body is not valid JSON', requestId), headers: {}, unexpected: false };
  }
  const statusCode = typeof fastifyError?.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (statusCode >= 400 && statusCode < 500) {
    return {
      body: problem(statusCode, CODE_BY_STATUS[statusCode] ?? 'BAD_REQUEST', STATUS_CODES[statusCode] ?? 'Bad request', requestId),
      headers: {},
      unexpected: false,
    };
  }
  return {
    body: problem(500, 'INTERNAL_ERROR', 'Something went wrong on our side; quote the requestId if you report it', requestId),
    headers: {},
    unexpected: true,
  };
}
