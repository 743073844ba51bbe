import { Module } from '@nestjs/common';
import { AccountChangesService, AccountChangesSweeper } from './account-changes.service';
import { MfaService } from './mfa.service';
import { PendingChangesRepository } from './pending-changes.repository';
import { UserMappingRepository } from './user-mapping.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';
import { WithdrawalHandler } from './withdrawal.handler';
import { WithdrawalRepository } from './withdrawal.repository';
import { WithdrawalService, WithdrawalSweeper } from './withdrawal.service';

@Module({
  controllers: [UsersController],
  providers: [
    AccountChangesService,
    AccountChangesSweeper,
    PendingChangesRepository,
    UserMappingRepository,
    UsersService,
    MfaService,
    WithdrawalService,
    WithdrawalRepository,
    WithdrawalSweeper,
    WithdrawalHandler,
  ],
  exports: [AccountChangesService, UserMappingRepository, WithdrawalService],
})
export class UsersModule {}
