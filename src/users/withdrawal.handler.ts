import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { USER_WITHDRAWN, UserWithdrawnEvent } from './user-withdrawn.event';
import { WithdrawalRepository } from './withdrawal.repository';

/**
 * Withdrawal in the database: the row stays (posts and comments keep their author id) but is
 * marked withdrawn and its personal data is cleared. Idempotent.
 */
@Injectable()
export class WithdrawalHandler {
  constructor(private readonly withdrawals: WithdrawalRepository) {}

  @OnEvent(USER_WITHDRAWN, { promisify: true, suppressErrors: false })
  async onUserWithdrawn(event: UserWithdrawnEvent): Promise<void> {
    await this.withdrawals.markWithdrawn(event.manager, event.userId);
  }
}
