import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { Page, pageRequest, toPage } from '../common/pagination';
import { EXPORT_BATCH_SIZE, ExportEncoding, exportEncoding, exportFilename } from './audit-export';
import { AuditEntry, AuditFilters, AuditLogRepository, AuditRow } from './audit-log.repository';
import { AuditEntryResponse } from './dto/admin.response';
import { AuditExportQueryDto, AuditLogFilterDto, AuditLogQueryDto, parseInstant } from './dto/audit-log.dto';

/** Cursor kind of GET /v1/admin/audit-log: a cursor of another list is refused. */
const AUDIT_CURSOR = 'audit';

/** An export, ready to send: its first batch is read, so a failure to read is still a problem-details answer. */
export interface AuditExport {
  contentType: string;
  filename: string;
  stream: Readable;
}

function toEntry(row: AuditRow): AuditEntryResponse {
  return {
    id: row.id,
    actorId: row.actor_id,
    action: row.action,
    targetUserId: row.target_user_id,
    details: { ...row.details, outcome: row.outcome },
    createdAt: row.created_at.toISOString(),
  };
}

/** The validated query's filters, normalised (UTC instants, lower-case ids); `from` after `to` is 400. */
export function auditFilters(query: AuditLogFilterDto): AuditFilters {
  const from = query.from === undefined ? undefined : parseInstant(query.from);
  const to = query.to === undefined ? undefined : parseInstant(query.to);
  // The DTO validated both; null here would be a bug, refused like bad input rather than ignored.
  if (from === null || to === null) {
    throw ApiError.validation('The time range is not valid', [{ field: from === null ? 'from' : 'to', message: 'is not valid' }]);
  }
  if (from !== undefined && to !== undefined && from.micros > to.micros) {
    throw ApiError.validation('from must not be after to', [{ field: 'from', message: 'must not be after to' }]);
  }
  return {
    action: query.action,
    actorId: query.actorId?.toLowerCase(),
    targetUserId: query.targetUserId?.toLowerCase(),
    from: from?.utc,
    to: to?.utc,
  };
}

/**
 * The cursor kind of a filtered list: a cursor is only valid with the filters it was issued for,
 * so continuing with other filters is a 400 rather than a page of some other list. (The filters
 * are applied to every page anyway; the cursor carries a position, never a filter.)
 */
function cursorKind(filters: AuditFilters): string {
  const values = [filters.action, filters.actorId, filters.targetUserId, filters.from, filters.to];
  if (values.every((v) => v === undefined)) {
    return AUDIT_CURSOR;
  }
  return `${AUDIT_CURSOR}:${createHash('sha256').update(JSON.stringify(values)).digest('base64url').slice(0, 22)}`;
}

/** The audit log: its list, and the record of an admin action that failed. */
@Injectable()
export class AuditLogService {
  private readonly logger = new Logger(AuditLogService.name);

  constructor(private readonly audit: AuditLogRepository) {}

  async list(query: AuditLogQueryDto): Promise<Page<AuditEntryResponse>> {
    const filters = auditFilters(query);
    const page = pageRequest(cursorKind(filters), query);
    return toPage(page, await this.audit.list(filters, page), toEntry);
  }

  /**
   * Every entry matching the filters, newest first, as a byte stream read from the database in
   * keyset batches of EXPORT_BATCH_SIZE: the next batch is queried only when the response has
   * taken the previous one (backpressure), and a stream destroyed because the client went away
   * queries no more. The first batch is read here, before the response starts.
   */
  async export(query: AuditExportQueryDto): Promise<AuditExport> {
    const filters = auditFilters(query);
    const encoding = exportEncoding(query.format);
    const first = await this.audit.list(filters, { after: null, take: EXPORT_BATCH_SIZE });
    return {
      contentType: encoding.contentType,
      filename: exportFilename(encoding, new Date()),
      // Bytes, not objects: the stream buffers at most its highWaterMark (16 KiB) ahead of the response.
      stream: Readable.from(this.exportChunks(encoding, filters, first), { objectMode: false }),
    };
  }

  private async *exportChunks(encoding: ExportEncoding, filters: AuditFilters, first: AuditRow[]): AsyncGenerator<string> {
    if (encoding.header !== '') {
      yield encoding.header;
    }
    let rows = first;
    try {
      while (rows.length > 0) {
        yield encoding.encode(rows.map(toEntry));
        const last = rows[rows.length - 1];
        if (rows.length < EXPORT_BATCH_SIZE) {
          return;
        }
        rows = await this.audit.list(filters, { after: { createdAt: last.cursor_ts, id: last.id }, take: EXPORT_BATCH_SIZE });
      }
    } catch (error) {
      // The status line is sent: the response can only be aborted (the client sees a truncated
      // transfer, never a complete-looking file).
      this.logger.error({ err: error }, 'audit log export failed after it started; response aborted');
      throw error;
    }
  }

  /** Runs `work`; if it fails, records the failure in the audit log (when there is a target to name) and rethrows. */
  async audited<T>(entry: AuditEntry | null, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (entry !== null) {
        await this.recordFailure(entry, error);
      }
      throw error;
    }
  }

  /** Records a failed action; a failure to record it is logged, never hides the action's own error. */
  async recordFailure(entry: AuditEntry, error: unknown): Promise<void> {
    try {
      await this.audit.recordFailure(entry, error);
    } catch (auditError) {
      this.logger.error({ err: auditError, action: entry.action }, 'could not audit a failed admin action');
    }
  }
}
