import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AdminAuditHandler } from './admin-audit.handler';
import { AdminGroupsController } from './admin-groups.controller';
import { AdminUsersController } from './admin-users.controller';
import { AdminService } from './admin.service';
import { AuditLogController } from './audit-log.controller';
import { AuditLogRepository } from './audit-log.repository';

@Module({
  imports: [UsersModule],
  controllers: [AdminUsersController, AdminGroupsController, AuditLogController],
  providers: [AdminService, AuditLogRepository, AdminAuditHandler],
})
export class AdminModule {}
