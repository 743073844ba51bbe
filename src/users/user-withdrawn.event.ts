import { EntityManager } from 'typeorm';

export const USER_WITHDRAWN = 'user.withdrawn';

/** Published once the Cognito user is gone; handled by scrubbing the `user_mapping` row. */
export class UserWithdrawnEvent {
  constructor(
    readonly userId: string,
    /** The transaction holding the row's lock, so the handler's write commits with it. */
    readonly manager: EntityManager,
  ) {}
}
