import { Global, Module } from '@nestjs/common';
import { AccountChangeAudit } from '../users/account-change';
import { UsersModule } from '../users/users.module';
import { AdminChangeAudit } from './admin-change-audit';
import { AdminGroupsController } from './admin-groups.controller';
import { AdminGroupsService } from './admin-groups.service';
import { AdminUsersController } from './admin-users.controller';
import { AdminSessionsController } from './admin-sessions.controller';
import { AdminSessionsService } from './admin-sessions.service';
import { AdminUsersService } from './admin-users.service';
import { AuditLogController } from './audit-log.controller';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';

/**
 * Global only for the audit port: the users layer below asks for AccountChangeAudit and must not
 * import this module (layering), so its one export is visible to every module.
 */
@Global()
@Module({
  imports: [UsersModule],
  controllers: [AdminUsersController, AdminSessionsController, AdminGroupsController, AuditLogController],
  providers: [
    AdminUsersService,
    AdminSessionsService,
    AdminGroupsService,
    AuditLogService,
    AuditLogRepository,
    AdminChangeAudit,
    { provide: AccountChangeAudit, useExisting: AdminChangeAudit },
  ],
  exports: [AccountChangeAudit],
})
export class AdminModule {}
