import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ApiError } from './api-error';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export const MAX_CURSOR_LENGTH = 512;
export const LIMIT_INTEGER_MESSAGE = `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`;

/** `?limit=` arrives as a string: only 1 to 4 plain digits become a number; anything else fails @IsInt. */
export function limitOf(value: unknown): unknown {
  return typeof value === 'string' && /^[0-9]{1,4}$/.test(value) ? Number(value) : value;
}

const toInt = Transform(({ value }: { value: unknown }) => limitOf(value));

/** `?limit&cursor` of every list (docs/api.md, pagination). Extend it for route-specific filters. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @toInt
  @IsInt({ message: LIMIT_INTEGER_MESSAGE })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque: the nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export class PageResponse {
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/**
 * A keyset position: the row's `created_at` at full PostgreSQL precision (microseconds, as text,
 * so no row is skipped or repeated by rounding to JavaScript milliseconds) and its id.
 */
export interface KeysetPosition {
  /** e.g. 2026-11-26T15:03:20.199123Z; compare in SQL as `$1::timestamptz` */
  createdAt: string;
  id: string;
}

/**
 * The SQL expression that renders `created_at` for a cursor; select it next to each row, e.g.
 * `SELECT ..., ${cursorTimestampSql('p.created_at')} AS cursor_ts`.
 */
export function cursorTimestampSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;

/**
 * Whether `text` names an instant PostgreSQL accepts as written: a real calendar date (no
 * February 30, no year 0) and time of day. Date.parse is no judge: it rolls 2024-02-30 over to
 * March 1 and takes year 0, where PostgreSQL refuses both and the query failed as a 500.
 */
function isCalendarTimestamp(text: string): boolean {
  const parts = TIMESTAMP.exec(text);
  if (parts === null) {
    return false;
  }
  const [year, month, day, hour, minute, second] = parts.slice(1).map(Number);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second);
  return (
    year >= 1 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Cursors name the list they belong to, so one list's cursor is refused by another. */
export function encodeCursor(kind: string, position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([kind, position.createdAt, position.id]), 'utf8').toString('base64url');
}

/** The position in a cursor of `kind`; 400 VALIDATION_FAILED for anything tampered or foreign. */
export function decodeCursor(kind: string, cursor: string): KeysetPosition {
  const invalid = (): ApiError =>
    ApiError.validation('The cursor is not valid for this list', [{ field: 'cursor', message: 'is not valid' }]);
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== kind ||
    typeof parsed[1] !== 'string' ||
    typeof parsed[2] !== 'string' ||
    !isCalendarTimestamp(parsed[1]) ||
    !UUID.test(parsed[2])
  ) {
    throw invalid();
  }
  return { createdAt: parsed[1], id: parsed[2] };
}

/**
 * One page of a list, as its service reads it from `?limit&cursor`. Every list works the same
 * way: the service makes the request (`pageRequest`), hands its keyset window to the repository,
 * which returns at most `take` rows with their `cursor_ts`, and turns those rows into the page
 * (`toPage`), mapping each to its response.
 */
export interface PageRequest extends KeysetWindow {
  /** The list's cursor kind: a cursor of another list is refused. */
  kind: string;
  limit: number;
}

/** What a repository needs of a page: where to continue, and how many rows to read. */
export interface KeysetWindow {
  /** The position to continue after; null on the first page. */
  after: KeysetPosition | null;
  /** One row more than the page: the extra row only says that a next page exists. */
  take: number;
}

/** The page `query` asks for; 400 VALIDATION_FAILED for a cursor that is not one of this list's. */
export function pageRequest(kind: string, query: { limit?: number; cursor?: string }): PageRequest {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const after = query.cursor === undefined ? null : decodeCursor(kind, query.cursor);
  return { kind, limit, after, take: limit + 1 };
}

/** Turns the rows a repository read for `request` into the page, mapping each row to its item. */
export function toPage<Row extends { cursor_ts: string; id: string }, Item>(
  request: PageRequest,
  rows: Row[],
  map: (row: Row) => Item,
): Page<Item> {
  const visible = pageRows(request, rows);
  const last = visible[visible.length - 1];
  return {
    items: visible.map(map),
    nextCursor:
      rows.length > request.limit && last !== undefined ? encodeCursor(request.kind, { createdAt: last.cursor_ts, id: last.id }) : null,
  };
}

/** The rows of `rows` that are on the page (for work a service does per page, before `toPage`). */
export function pageRows<Row>(request: PageRequest, rows: Row[]): Row[] {
  return rows.slice(0, request.limit);
}
