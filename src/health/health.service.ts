import { Injectable } from '@nestjs/common';
import { statement } from '../database/statement';
import { Transactions } from '../database/transactions';
import { JwksService } from '../auth/jwks.service';
import { ApiError } from '../common/api-error';
import { ShutdownState } from './shutdown-state';

const PING = statement<unknown, []>('SELECT 1');

export interface Readiness {
  status: 'ready';
  checks: { database: 'up'; jwks: 'loaded' };
}

@Injectable()
export class HealthService {
  constructor(
    private readonly transactions: Transactions,
    private readonly jwks: JwksService,
    private readonly shutdown: ShutdownState,
  ) {}

  async readiness(): Promise<Readiness> {
    if (this.shutdown.isDraining) {
      throw ApiError.serviceUnavailable('Shutting down');
    }
    try {
      await this.transactions.execute(PING, []);
    } catch (error) {
      throw ApiError.serviceUnavailable('The database does not answer', error);
    }
    if (!this.jwks.isLoaded) {
      throw ApiError.idpUnavailable('The signing keys of the user pool are not loaded yet');
    }
    return { status: 'ready', checks: { database: 'up', jwks: 'loaded' } };
  }
}
