import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AdminAuditHandler } from './admin-audit.handler';
import { AdminGroupsController } from './admin-groups.controller';
import { AdminGroupsService } from './admin-groups.service';
import { AdminUsersController } from './admin-users.controller';
import { AdminSessionsController } from './admin-sessions.controller';
import { AdminSessionsService } from './admin-sessions.service';
import { AdminUsersService } from './admin-users.service';
import { AuditLogController } from './audit-log.controller';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';

@Module({
  imports: [UsersModule],
  controllers: [AdminUsersController, AdminSessionsController, AdminGroupsController, AuditLogController],
  providers: [AdminUsersService, AdminSessionsService, AdminGroupsService, AuditLogService, AuditLogRepository, AdminAuditHandler],
})
export class AdminModule {}
