import { Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';

/** Per-operation meaning of an SDK exception name; anything not named falls back to the defaults. */
export type CognitoErrorOverrides = Partial<Record<string, () => ApiError>>;

const THROTTLED = new Set(['LimitExceededException', 'TooManyRequestsException', 'TooManyFailedAttemptsException']);

const DEFAULTS: Record<string, () => ApiError> = {
  UsernameExistsException: () => ApiError.conflict('An account with this email already exists', 'USER_EXISTS'),
  AliasExistsException: () => ApiError.conflict('An account with this email already exists', 'USER_EXISTS'),
  GroupExistsException: () => ApiError.conflict('The group already exists', 'GROUP_EXISTS'),
  CodeMismatchException: () => new ApiError(400, 'CODE_MISMATCH', 'The verification code is wrong'),
  ExpiredCodeException: () => new ApiError(400, 'CODE_EXPIRED', 'The verification code has expired; request a new one'),
  InvalidPasswordException: () => new ApiError(400, 'INVALID_PASSWORD', 'The password does not meet the password policy'),
  NotAuthorizedException: () => new ApiError(401, 'INVALID_CREDENTIALS', 'Wrong email or password'),
  UserNotFoundException: () => ApiError.notFound('No such user'),
  ResourceNotFoundException: () => ApiError.notFound('No such resource'),
  UserNotConfirmedException: () => new ApiError(403, 'USER_NOT_CONFIRMED', 'Confirm the code sent to your email before logging in'),
  InvalidParameterException: () => ApiError.validation('The identity provider refused the input'),
};

interface SdkErrorLike {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const logger = new Logger('Cognito');

/** Turns an AWS SDK error into the contract's error. */
export function mapCognitoError(error: unknown, operation: string, overrides: CognitoErrorOverrides = {}): ApiError {
  const e = (error ?? {}) as SdkErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  const override = overrides[name];
  if (override !== undefined) {
    return override();
  }
  if (THROTTLED.has(name) || e.$retryable?.throttling === true) {
    return ApiError.tooManyRequests(1, 'Too many attempts, try again shortly');
  }
  const known = DEFAULTS[name];
  if (known !== undefined && e.$fault !== 'server') {
    return known();
  }
  // Network failures, timeouts, 5xx and anything we did not expect (IAM, config): the identity
  // provider cannot serve this request. Logged once with the SDK's name, never sent to the client.
  logger.warn({ operation, errorName: name || 'unknown', status: e.$metadata?.httpStatusCode }, 'cognito call failed');
  return ApiError.idpUnavailable(undefined, error);
}

export function errorName(error: unknown): string | undefined {
  const name = (error as SdkErrorLike | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

// ---- meanings several operations share --------------------------------------------------

/** The answer this operation gives for `name`, as if Cognito had said that instead. */
export function answerAs(name: string, operation: string): () => ApiError {
  return () => mapCognitoError({ name }, operation);
}

export function sessionExpired(): ApiError {
  return new ApiError(401, 'SESSION_EXPIRED', 'The login session has expired or is not yours; log in again');
}

export function codeMismatch(): ApiError {
  return new ApiError(400, 'CODE_MISMATCH', 'The code is wrong');
}

export function refreshRefused(): ApiError {
  return ApiError.unauthenticated('The refresh token is invalid, expired or revoked; log in again');
}
