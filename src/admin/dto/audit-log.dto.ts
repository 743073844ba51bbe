import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, ValidateBy } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { KNOWN_AUDIT_ACTIONS } from '../audit-actions';

/**
 * Audit actions are dotted lower-case names (`user.disable`, `group.add_user`,
 * `user.delete.complete`); the column holds at most 64 characters. A pattern rather than a fixed
 * list, so an action added by a new feature is filterable without touching this file.
 */
export const AUDIT_ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
export const AUDIT_ACTION_MAX_LENGTH = 64;


/**
 * An ISO-8601 / RFC 3339 date-time that names its offset: `2026-12-01T09:30:00+09:00`,
 * `2026-12-01T00:00:00.123456Z`. Seconds and a fraction (up to microseconds, PostgreSQL's
 * precision) are optional; the offset is not, since a bare local time means a different instant
 * on every server.
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-](\d{2}):(\d{2}))$/;

/** An instant as microseconds since the epoch (comparable exactly) and as the UTC text the SQL reads. */
export interface Instant {
  micros: bigint;
  utc: string;
}

/**
 * The instant `text` names, or null when it is not such a date-time, not a real calendar date
 * (Date.UTC would roll 2026-02-30 over to March) or outside years 1..9999 once in UTC (PostgreSQL
 * refuses year 0, and the refusal would be a 500).
 */
export function parseInstant(text: string): Instant | null {
  const parts = INSTANT.exec(text);
  if (parts === null) {
    return null;
  }
  const [year, month, day, hour, minute] = parts.slice(1, 6).map(Number);
  const second = Number(parts[6] ?? '0');
  const fraction = (parts[7] ?? '').padEnd(6, '0');
  const offsetMinutes = parts[8] === 'Z' ? 0 : (parts[8].startsWith('-') ? -1 : 1) * (Number(parts[9]) * 60 + Number(parts[10]));
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, 0);
  const valid =
    local.getUTCFullYear() === year &&
    local.getUTCMonth() === month - 1 &&
    local.getUTCDate() === day &&
    local.getUTCHours() === hour &&
    local.getUTCMinutes() === minute &&
    local.getUTCSeconds() === second &&
    Number(parts[9] ?? 0) <= 14 &&
    Number(parts[10] ?? 0) <= 59;
  if (!valid) {
    return null;
  }
  const utc = new Date(local.getTime() - offsetMinutes * 60_000);
  const utcYear = utc.getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) {
    return null;
  }
  const iso = utc.toISOString(); // years 1..9999 render as YYYY-MM-DDTHH:MM:SS.mmmZ
  return {
    micros: BigInt(utc.getTime()) * 1000n + BigInt(fraction.slice(3)),
    utc: `${iso.slice(0, 19)}.${fraction}Z`,
  };
}

function IsInstantWithOffset(): PropertyDecorator {
  return ValidateBy({
    name: 'isInstantWithOffset',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseInstant(value) !== null,
      defaultMessage: () =>
        // An unencoded + in a query string arrives as a space: the usual reason a +hh:mm offset fails.
        '$property must be an ISO-8601 date-time with an offset, e.g. 2026-12-01T00:00:00Z or 2026-12-01T09:00:00+09:00 (+ encoded as %2B)',
    },
  });
}

/** The filters of the audit log and of its export; they combine with AND. */
export class AuditLogFilterDto {
  @ApiPropertyOptional({
    description: `Exact action name (dotted lower case, e.g. ${KNOWN_AUDIT_ACTIONS.join(', ')})`,
    example: 'user.disable',
    maxLength: AUDIT_ACTION_MAX_LENGTH,
  })
  @IsOptional()
  @IsString()
  @MaxLength(AUDIT_ACTION_MAX_LENGTH)
  @Matches(AUDIT_ACTION, { message: 'action must be a dotted lower-case action name, e.g. user.disable' })
  action?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The admin who acted' })
  @IsOptional()
  @IsUUID('all', { message: 'actorId must be a UUID' })
  actorId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The user acted upon' })
  @IsOptional()
  @IsUUID('all', { message: 'targetUserId must be a UUID' })
  targetUserId?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Inclusive lower bound; ISO-8601 with an offset',
    example: '2026-12-01T00:00:00Z',
  })
  @IsOptional()
  @IsInstantWithOffset()
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Exclusive upper bound; ISO-8601 with an offset',
    example: '2026-12-02T00:00:00Z',
  })
  @IsOptional()
  @IsInstantWithOffset()
  to?: string;
}

/** `GET /v1/admin/audit-log`: a page of the filtered entries. */
export class AuditLogQueryDto extends IntersectionType(PageQueryDto, AuditLogFilterDto) {}

export const AUDIT_EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** `GET /v1/admin/audit-log/export`: every filtered entry, in one of the formats. */
export class AuditExportQueryDto extends AuditLogFilterDto {
  @ApiProperty({ enum: AUDIT_EXPORT_FORMATS })
  @IsIn(AUDIT_EXPORT_FORMATS, { message: 'format must be csv or jsonl' })
  format: AuditExportFormat;
}
