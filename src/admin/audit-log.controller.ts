import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ADMIN_GROUP } from '../identity/auth-user';
import { Roles } from '../identity/roles.decorator';
import { Page, PageQueryDto } from '../common/pagination';
import { AuditLogService } from './audit-log.service';
import { AuditEntryResponse, AuditPage } from './dto/admin.response';

@ApiTags('admin')
@ApiBearerAuth()
@Roles(ADMIN_GROUP)
@Controller('v1/admin/audit-log')
export class AuditLogController {
  constructor(private readonly auditLog: AuditLogService) {}

  @Get()
  @ApiOkResponse({ type: AuditPage })
  list(@Query() query: PageQueryDto): Promise<Page<AuditEntryResponse>> {
    return this.auditLog.list(query);
  }
}
