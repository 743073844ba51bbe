import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ADMIN_GROUP } from '../identity/auth-user';
import { Roles } from '../identity/roles.decorator';
import { Page } from '../common/pagination';
import { AuditLogService } from './audit-log.service';
import { AuditEntryResponse, AuditPage } from './dto/admin.response';
import { AuditLogQueryDto } from './dto/audit-log.dto';

@ApiTags('admin')
@ApiBearerAuth()
@Roles(ADMIN_GROUP)
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
}
