import { Injectable } from '@nestjs/common';
import { assertSelfServiceScope, AuthUser } from '../identity/auth-user';
import { CognitoSelfService } from '../cognito/cognito-self.service';
import { ApiError } from '../common/api-error';
import { CodeDeliveryEnvelope, PublicProfileResponse, UserProfileResponse } from './dto/user-profile.response';
import { UpdateProfileDto } from './dto/users.dto';
import { UserMapping } from '../identity/entities/user-mapping.entity';
import { UserMappingRepository } from './user-mapping.repository';
import { WithdrawalService } from './withdrawal.service';
import { SessionsRepository } from './sessions.repository';

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserMappingRepository,
    private readonly cognito: CognitoSelfService,
    private readonly withdrawal: WithdrawalService,
    private readonly sessions: SessionsRepository,
  ) {}

  /** The row the guard read for this request: no second query. */
  me(caller: AuthUser): UserProfileResponse {
    return UserProfileResponse.from(caller.account, caller.groups);
  }

  /** Cognito first; the row follows only if Cognito accepted the change. */
  async updateMe(caller: AuthUser, dto: UpdateProfileDto): Promise<UserProfileResponse> {
    assertSelfServiceScope(caller);
    const attributes: Record<string, string> = {};
    if (dto.nickname !== undefined) {
      attributes.nickname = dto.nickname;
    }
    if (dto.phoneNumber !== undefined) {
      attributes.phone_number = dto.phoneNumber;
    }
    if (Object.keys(attributes).length === 0) {
      throw ApiError.validation('Nothing to update: send nickname and/or phoneNumber');
    }
    await this.cognito.updateUserAttributes(caller.accessToken, attributes);
    const updated = await this.users.updateProfile(caller.id, { nickname: dto.nickname, phoneNumber: dto.phoneNumber });
    return UserProfileResponse.from(updated ?? (await this.existingUser(caller.id)), caller.groups);
  }

  /** Cognito sends a code to the new address; the row keeps the old email until it is verified. */
  async requestEmailChange(caller: AuthUser, email: string): Promise<CodeDeliveryEnvelope> {
    assertSelfServiceScope(caller);
    const codeDelivery = await this.cognito.updateUserAttributes(caller.accessToken, { email });
    return { codeDelivery: codeDelivery ?? { destination: email, medium: 'EMAIL' } };
  }

  /** A verified new address ends every other session: whoever held one keeps nothing of the old. */
  async verifyEmailChange(caller: AuthUser, code: string): Promise<UserProfileResponse> {
    assertSelfServiceScope(caller);
    await this.cognito.verifyUserAttribute(caller.accessToken, 'email', code);
    await this.sessions.endAllBut(caller.id, caller.sessionId);
    const profile = await this.cognito.getUser(caller.accessToken);
    const updated = await this.users.updateProfile(caller.id, { email: profile.email });
    return UserProfileResponse.from(updated ?? (await this.existingUser(caller.id)), caller.groups);
  }

  withdraw(caller: AuthUser): Promise<void> {
    return this.withdrawal.withdraw(caller.id);
  }

  async publicProfile(id: string): Promise<PublicProfileResponse> {
    return PublicProfileResponse.from(await this.existingUser(id));
  }

  private async existingUser(id: string): Promise<UserMapping> {
    const user = await this.users.findById(id);
    if (user === null) {
      throw ApiError.notFound('No such user');
    }
    return user;
  }
}
