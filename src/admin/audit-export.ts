import { stringify } from 'csv-stringify/sync';
import { AuditExportFormat } from './dto/audit-log.dto';
import { AuditEntryResponse } from './dto/admin.response';

/** Rows read from the database per query of an export: one batch is all an export holds in memory. */
export const EXPORT_BATCH_SIZE = 500;

export const CSV_COLUMNS = ['id', 'createdAt', 'action', 'actorId', 'targetUserId', 'details'] as const;

/** How an export's entries become bytes. */
export interface ExportEncoding {
  contentType: string;
  extension: string;
  /** Written before the first entry, also when nothing matches. */
  header: string;
  encode(entries: AuditEntryResponse[]): string;
}

/**
 * CSV by RFC 4180 (CRLF line ends; a cell with a comma, quote or line break is quoted, quotes
 * doubled), `details` as JSON text, a missing target as an empty cell. Cells are guarded against
 * formula injection (OWASP "CSV Injection"): a cell starting with =, +, -, @, a tab or a carriage
 * return (or their full-width forms) gets a leading single quote, so a spreadsheet shows it as text
 * instead of evaluating it. csv-stringify does both.
 */
const CSV: ExportEncoding = {
  contentType: 'text/csv; charset=utf-8',
  extension: 'csv',
  header: `${CSV_COLUMNS.join(',')}\r\n`,
  encode: (entries) =>
    stringify(
      entries.map((e) => [e.id, e.createdAt, e.action, e.actorId, e.targetUserId ?? '', JSON.stringify(e.details)]),
      // quoted_match: csv-stringify 6.9 leaves a cell with a bare CR unquoted, which splits the row.
      { escape_formulas: true, record_delimiter: 'windows', quoted_match: /[\r\n]/ },
    ),
};

/** JSON Lines: one entry per line, the same object the list returns. JSON escapes line breaks inside strings. */
const JSONL: ExportEncoding = {
  contentType: 'application/x-ndjson; charset=utf-8',
  extension: 'jsonl',
  header: '',
  encode: (entries) => entries.map((e) => `${JSON.stringify(e)}\n`).join(''),
};

export function exportEncoding(format: AuditExportFormat): ExportEncoding {
  return format === 'csv' ? CSV : JSONL;
}

/** e.g. audit-log-20261207T011500Z.csv: only characters that need no quoting in Content-Disposition. */
export function exportFilename(encoding: ExportEncoding, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `audit-log-${stamp}.${encoding.extension}`;
}
