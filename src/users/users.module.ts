import { Module } from '@nestjs/common';
import { AccountChangesService } from './account-changes.service';
import { AccountChangesSweeper } from './account-changes.sweeper';
import { MfaService } from './mfa.service';
import { PendingChangesRepository } from './pending-changes.repository';
import { AdminUserListRepository } from './admin-user-list.repository';
import { UserMappingRepository } from './user-mapping.repository';
import { SessionsRepository } from './sessions.repository';
import { CallerStateRepository } from './caller-state.repository';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';
import { WithdrawalRepository } from './withdrawal.repository';
import { WithdrawalService, WithdrawalSweeper } from './withdrawal.service';

@Module({
  controllers: [UsersController, SessionsController],
  providers: [
    AccountChangesService,
    AccountChangesSweeper,
    PendingChangesRepository,
    UserMappingRepository,
    AdminUserListRepository,
    SessionsRepository,
    CallerStateRepository,
    SessionsService,
    UsersService,
    MfaService,
    WithdrawalService,
    WithdrawalRepository,
    WithdrawalSweeper,
  ],
  exports: [
    AccountChangesService,
    UserMappingRepository,
    AdminUserListRepository,
    CallerStateRepository,
    SessionsRepository,
    SessionsService,
    WithdrawalService,
  ],
})
export class UsersModule {}
