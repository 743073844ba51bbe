import { Injectable, Logger } from '@nestjs/common';
import { CLOCK_SKEW_SECONDS } from './access-token-claims';
import { RevokedTokensRepository } from './revoked-tokens.repository';
import { PeriodicTask } from '../common/periodic-task';
import { SessionsRepository } from '../users/sessions.repository';

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Deletes revoked access tokens once no check could accept them anyway: the guard accepts a token
 * until its exp plus the allowed clock skew, so the row stays until then. Expired sessions go too
 * (SessionsRepository.purgeExpired). Idempotent, so every instance may run it.
 */
@Injectable()
export class RevocationJanitor extends PeriodicTask {
  protected readonly logger = new Logger(RevocationJanitor.name);

  constructor(
    private readonly revokedTokens: RevokedTokensRepository,
    private readonly sessions: SessionsRepository,
  ) {
    super(PURGE_INTERVAL_MS, 'purging expired revocations failed; will retry');
  }

  protected runOnce(): Promise<number> {
    return this.purge();
  }

  /** The number of revocations purged. */
  async purge(): Promise<number> {
    const purged = await this.revokedTokens.purgeExpired(CLOCK_SKEW_SECONDS);
    const sessions = await this.sessions.purgeExpired();
    if (purged + sessions > 0) {
      this.logger.log({ purged, sessions }, 'expired token revocations and sessions purged');
    }
    return purged;
  }
}
