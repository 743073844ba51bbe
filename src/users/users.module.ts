import { Module } from '@nestjs/common';
import { UserMappingRepository } from './user-mapping.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';
import { WithdrawalHandler } from './withdrawal.handler';
import { WithdrawalService, WithdrawalSweeper } from './withdrawal.service';

@Module({
  controllers: [UsersController],
  providers: [UserMappingRepository, UsersService, WithdrawalService, WithdrawalSweeper, WithdrawalHandler],
  exports: [UserMappingRepository, WithdrawalService],
})
export class UsersModule {}
