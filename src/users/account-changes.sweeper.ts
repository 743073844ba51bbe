import { Injectable, Logger } from '@nestjs/common';
import { PeriodicTask } from '../common/periodic-task';
import { AccountChangesService, CHANGE_SWEEP_INTERVAL_MS } from './account-changes.service';

/**
 * Runs the sweep every 30 s on each API task. Apart from AccountChangesService so that a one-off
 * job (reconcile, which withdraws users) can use the service without starting a timer.
 */
@Injectable()
export class AccountChangesSweeper extends PeriodicTask {
  protected readonly logger = new Logger(AccountChangesSweeper.name);

  constructor(private readonly changes: AccountChangesService) {
    super(CHANGE_SWEEP_INTERVAL_MS, 'account change sweep failed; will retry');
  }

  protected async runOnce(): Promise<void> {
    const { completed, failed } = await this.changes.sweep();
    if (completed + failed > 0) {
      this.logger.log({ completed, failed }, 'pending account changes swept');
    }
  }
}
