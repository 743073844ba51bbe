import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { USER_WITHDRAWN, UserWithdrawnEvent } from './user-withdrawn.event';

/**
 * Withdrawal in the database: the row stays (posts and comments keep their author id) but is
 * marked withdrawn and its personal data is cleared. Idempotent.
 */
@Injectable()
export class WithdrawalHandler {
  @OnEvent(USER_WITHDRAWN, { promisify: true, suppressErrors: false })
  async onUserWithdrawn(event: UserWithdrawnEvent): Promise<void> {
    await event.manager.query(
      `UPDATE user_mapping
          SET status = 'withdrawn', withdrawn_at = now(), updated_at = now(),
              email = NULL, phone_number = NULL, nickname = NULL
        WHERE id = $1 AND status <> 'withdrawn'`,
      [event.userId],
    );
  }
}
