import { ArgumentMetadata, Param, ParseUUIDPipe, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError, FieldError } from './api-error';

/**
 * Deeper than any body or query of this API nests (the DTOs are flat). Refused before
 * class-transformer recurses into it: JSON 30,000 levels deep fits in 64 KiB and overflowed the
 * call stack as a 500.
 */
export const MAX_INPUT_DEPTH = 32;

/**
 * Keys Nest's ValidationPipe strips and class-transformer skips without a word, so
 * forbidNonWhitelisted never sees them: refused like any other unknown property instead of
 * silently dropped (docs/api.md, conventions).
 */
const SILENTLY_DROPPED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A UTF-16 surrogate without its pair: not Unicode text, and stored as U+FFFD if let through. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What the DTO validation cannot be trusted to refuse in a parsed body or query, found without
 * recursion: nesting beyond MAX_INPUT_DEPTH, keys that would be dropped silently, strings (or
 * keys) that are not valid Unicode, and NUL characters. Null when there is nothing of the sort.
 */
export function inspectInput(input: unknown): { detail: string; error: FieldError } | null {
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value: input, path: '', depth: 0 }];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    const field = path === '' ? '(root)' : path;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) {
        return { detail: 'The request is not valid', error: { field, message: 'must be valid Unicode text' } };
      }
      // PostgreSQL text cannot hold NUL: a search with one failed as a 500 (found by fuzzing).
      if (value.includes('\u0000')) {
        return { detail: 'The request is not valid', error: { field, message: 'must not contain NUL characters' } };
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) {
      continue;
    }
    if (depth >= MAX_INPUT_DEPTH) {
      return { detail: 'The request nests too deeply', error: { field, message: `must not nest deeper than ${MAX_INPUT_DEPTH} levels` } };
    }
    const isArray = Array.isArray(value);
    for (const key of Object.keys(value)) {
      const child = path === '' ? key : `${path}.${key}`;
      if (!isArray && (SILENTLY_DROPPED_KEYS.has(key) || LONE_SURROGATE.test(key))) {
        return { detail: 'The request has unknown properties', error: { field: child, message: `property ${key} should not exist` } };
      }
      pending.push({ value: (value as Record<string, unknown>)[key], path: child, depth: depth + 1 });
    }
  }
  return null;
}

/** The global pipe: `inspectInput` on bodies and queries, then class-validator on the DTO. */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') {
      const problem = inspectInput(value);
      if (problem !== null) {
        throw ApiError.validation(problem.detail, [problem.error]);
      }
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent === '' ? error.property : `${parent}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Strict validation for every body and query: unknown properties are refused (never silently
 * dropped), values are not coerced, and anything but a JSON object where a DTO is expected is 400.
 */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      const unknown = fields.filter((f) => f.message.includes('should not exist'));
      const detail = unknown.length > 0 ? 'The request has unknown properties' : 'The request is not valid';
      return ApiError.validation(detail, fields.length > 0 ? fields : [{ field: '(root)', message: 'must be a JSON object' }]);
    },
  });
}

/** A path id: a UUID, else 400 VALIDATION_FAILED naming the parameter (never a 404 or a database error). */
export function UuidParam(name: string): ParameterDecorator {
  return Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () => ApiError.validation(`The ${name} in the path must be a UUID`, [{ field: name, message: 'must be a UUID' }]),
    }),
  );
}
