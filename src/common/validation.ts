import { Param, ParseUUIDPipe, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError, FieldError } from './api-error';

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
  return new ValidationPipe({
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
