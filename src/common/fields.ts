import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength, ValidateBy } from 'class-validator';
import { ApiError } from './api-error';

/* eslint-disable no-control-regex -- these patterns exist to refuse control characters */
/** No control characters; newlines and tabs are allowed in long text. */
const NO_CONTROL_CHARS_TEXT = /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$/;
const NO_CONTROL_CHARS = /^[^\u0000-\u001F\u007F]*$/;
/* eslint-enable no-control-regex */

const trim = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/**
 * `min..max` Unicode code points: what PostgreSQL's char_length and varchar(n) count. validator.js's
 * Length does not count a variation selector (U+FE0E/U+FE0F) after a character, so 200 "❤️" would
 * pass Length(1, 200) yet be 400 code points and hit the database's limit as a 500.
 */
function CodePointLength(min: number, max: number): PropertyDecorator {
  return ValidateBy({
    name: 'codePointLength',
    constraints: [min, max],
    validator: {
      validate: (value: unknown) => typeof value === 'string' && hasCodePoints(value, min, max),
      defaultMessage: () => `$property must be ${min} to ${max} characters long`,
    },
  });
}

/** `min..max` code points, counted without spreading the string into an array. */
function hasCodePoints(value: string, min: number, max: number): boolean {
  if (value.length < min || value.length > 2 * max) {
    return false;
  }
  let count = 0;
  for (let i = 0; i < value.length; i += 1) {
    const unit = value.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 1;
      }
    }
    count += 1;
  }
  return count >= min && count <= max;
}

/**
 * What `TrimmedText(min, max)` makes of a value it accepts (the trimmed string), or undefined
 * where it would refuse it: for bodies read by hand (`CheckedBody`), which leave every refusal
 * to the validation pipe.
 */
export function trimmedTextOf(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const text = value.trim();
  return hasCodePoints(text, min, max) && NO_CONTROL_CHARS_TEXT.test(text) ? text : undefined;
}

/** class-validator's `@IsUUID('all')`: versions 1 to 8 with the RFC variant, or the nil and max UUIDs. */
export const ANY_UUID =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/i;

/** A string, trimmed, with its length counted after trimming, as the database counts it. */
export function TrimmedText(min: number, max: number, description?: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ minLength: min, maxLength: max, description }),
    trim,
    IsString(),
    CodePointLength(min, max),
    // No control characters (newlines and tabs are fine in long text).
    Matches(NO_CONTROL_CHARS_TEXT, { message: '$property must not contain control characters' }),
  );
}

export function EmailField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ format: 'email', maxLength: 254, example: 'jane@example.com' }),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value)),
    IsString(),
    MaxLength(254),
    IsEmail({ allow_display_name: false, allow_ip_domain: false, require_tld: true }),
  );
}

/** Shape only; the password policy itself is `assertPasswordPolicy` (its own error code). */
export function PasswordField(description = 'The password'): PropertyDecorator {
  return applyDecorators(ApiProperty({ minLength: 1, maxLength: 256, format: 'password', description }), IsString(), Length(1, 256));
}

export function CodeField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ example: '123456', description: 'The 6-digit code sent by email' }),
    IsString(),
    Matches(/^[0-9]{6}$/, { message: '$property must be the 6-digit code' }),
  );
}

export function NicknameField(optional = false): PropertyDecorator {
  const base = [
    trim,
    IsString(),
    CodePointLength(1, 50),
    Matches(NO_CONTROL_CHARS, { message: '$property must not contain control characters' }),
  ];
  return optional
    ? applyDecorators(ApiPropertyOptional({ minLength: 1, maxLength: 50 }), IsOptional(), ...base)
    : applyDecorators(ApiProperty({ minLength: 1, maxLength: 50 }), ...base);
}

export function PhoneNumberField(optional = true): PropertyDecorator {
  const base = [IsString(), Matches(/^\+[1-9][0-9]{6,14}$/, { message: '$property must be in E.164 form, e.g. +821012345678' })];
  return optional
    ? applyDecorators(ApiPropertyOptional({ example: '+821012345678' }), IsOptional(), ...base)
    : applyDecorators(ApiProperty({ example: '+821012345678' }), ...base);
}

/**
 * The user pool's password policy, checked before Cognito is called (cognito-local enforces
 * none): 8+ characters with a lower-case letter, an upper-case letter, a digit and a symbol.
 */
export function assertPasswordPolicy(password: string, field = 'password'): void {
  const problems: string[] = [];
  if (password.length < 8) {
    problems.push('at least 8 characters');
  }
  if (!/[a-z]/.test(password)) {
    problems.push('a lower-case letter');
  }
  if (!/[A-Z]/.test(password)) {
    problems.push('an upper-case letter');
  }
  if (!/[0-9]/.test(password)) {
    problems.push('a digit');
  }
  if (!/[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/.test(password)) {
    problems.push('a symbol');
  }
  if (/^\s|\s$/.test(password)) {
    problems.push('no leading or trailing space');
  }
  if (problems.length > 0) {
    throw new ApiError(400, 'INVALID_PASSWORD', `The password needs ${problems.join(', ')}`, {
      errors: problems.map((p) => ({ field, message: `needs ${p}` })),
    });
  }
}
