import { Authenticated } from '../identity/authenticated.decorator';
import { Controller, Get, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Page } from '../common/pagination';
import { CSV_COLUMNS } from './audit-export';
import { AuditLogService } from './audit-log.service';
import { AuditEntryResponse, AuditPage } from './dto/admin.response';
import { AuditExportQueryDto, AuditLogQueryDto } from './dto/audit-log.dto';

@ApiTags('admin')
@Authenticated({ admin: true })
@Controller('v1/admin/audit-log')
export class AuditLogController {
  constructor(private readonly auditLog: AuditLogService) {}

  @Get()
  @ApiOperation({
    summary: 'A page of the audit log, newest first',
    description: 'Filters combine with AND; `from` is inclusive, `to` exclusive. A cursor is valid only with the filters it came with.',
  })
  @ApiOkResponse({ type: AuditPage })
  list(@Query() query: AuditLogQueryDto): Promise<Page<AuditEntryResponse>> {
    return this.auditLog.list(query);
  }

  @Get('export')
  @ApiOperation({
    summary: 'Every matching audit entry, newest first, streamed as a download',
    description:
      `csv: header row \`${CSV_COLUMNS.join(',')}\`, \`details\` as JSON text, RFC 4180 quoting, cells starting with ` +
      '= + - @ tab or CR prefixed with a single quote (formula injection). jsonl: one entry per line, as in the list. ' +
      'An error before the first byte is problem details; after it the response is aborted (truncated transfer).',
  })
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse({
    description: 'The export, with Content-Disposition: attachment',
    content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  async export(@Query() query: AuditExportQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<StreamableFile> {
    const file = await this.auditLog.export(query);
    // The log is sensitive: no cache, shared or private, keeps a copy.
    void reply.header('Cache-Control', 'no-store');
    return new StreamableFile(file.stream, { type: file.contentType, disposition: `attachment; filename="${file.filename}"` });
  }
}
