import { Injectable } from '@nestjs/common';
import { CognitoService } from '../cognito/cognito.service';
import { ApiError } from '../common/api-error';
import { assertPasswordPolicy } from '../common/fields';
import { UserProfileResponse } from '../users/dto/user-profile.response';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccountChangesService } from '../users/account-changes.service';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { AuthUser } from './auth-user';
import { ChangePasswordDto, ConfirmSignupDto, LoginDto, ResetPasswordDto, SignupDto } from './dto/auth.dto';
import { RefreshedTokensResponse, SignupResponse, TokensResponse } from './dto/auth.response';

@Injectable()
export class AuthService {
  constructor(
    private readonly cognito: CognitoService,
    private readonly users: UserMappingRepository,
    private readonly changes: AccountChangesService,
  ) {}

  async signup(dto: SignupDto): Promise<SignupResponse> {
    assertPasswordPolicy(dto.password);
    const { userSub, codeDelivery } = await this.cognito.signUp(dto);
    return { userSub, confirmed: false, codeDelivery };
  }

  /** Confirms the code, then creates the `user_mapping` row from what Cognito holds (idempotent). */
  async confirm(dto: ConfirmSignupDto): Promise<{ user: UserProfileResponse }> {
    await this.cognito.confirmSignUp(dto.email, dto.code);
    const profile = await this.cognito.adminGetUser(dto.email);
    const fields = { email: profile.email, phoneNumber: profile.phoneNumber, nickname: profile.nickname };
    const { user, created } = await this.users.ensure(profile.sub, profile.username, fields);
    // A row made just in time before the confirmation gets the attributes now.
    const current = created ? user : ((await this.users.updateProfile(user.id, fields)) ?? user);
    return { user: UserProfileResponse.from(current, []) };
  }

  resendCode(email: string): Promise<void> {
    return this.cognito.resendConfirmationCode(email);
  }

  async login(dto: LoginDto): Promise<TokensResponse> {
    const tokens = await this.cognito.login(dto.email, dto.password);
    return {
      accessToken: tokens.accessToken,
      idToken: tokens.idToken,
      refreshToken: tokens.refreshToken ?? '',
      expiresIn: tokens.expiresIn,
      tokenType: 'Bearer',
    };
  }

  async refresh(refreshToken: string): Promise<RefreshedTokensResponse> {
    const tokens = await this.cognito.refresh(refreshToken);
    return { accessToken: tokens.accessToken, idToken: tokens.idToken, expiresIn: tokens.expiresIn, tokenType: 'Bearer' };
  }

  /** Revokes the refresh token in Cognito first (idempotent), then the calling access token here. */
  async logout(user: AuthUser, refreshToken: string): Promise<void> {
    await this.cognito.revokeRefreshToken(refreshToken);
    if (user.jti !== null) {
      await this.users.revokeToken(user.id, user.jti, new Date(user.exp * 1000));
    } else {
      const cutOff = await this.users.cutOffTokens([user.id]);
      await sleep(cutOff?.waitMs ?? 0);
    }
  }

  /**
   * Signs out every session in Cognito with the task role (works for tokens without the
   * self-service scope) and refuses every token issued before now.
   */
  logoutAll(user: AuthUser): Promise<void> {
    return this.signOutEverywhere(user.id);
  }

  async forgotPassword(email: string): Promise<void> {
    await this.cognito.forgotPassword(email);
  }

  async resetPassword(dto: ResetPasswordDto): Promise<void> {
    assertPasswordPolicy(dto.newPassword, 'newPassword');
    await this.cognito.confirmForgotPassword(dto.email, dto.code, dto.newPassword);
    // Account recovery evicts whoever held the old password: every session ends.
    const profile = await this.cognito.adminGetUser(dto.email);
    const row = await this.users.findBySub(profile.sub);
    if (row === null) {
      await this.cognito.adminUserGlobalSignOut(profile.username);
    } else {
      await this.signOutEverywhere(row.id);
    }
  }

  async changePassword(user: AuthUser, dto: ChangePasswordDto): Promise<void> {
    assertPasswordPolicy(dto.newPassword, 'newPassword');
    if (dto.newPassword === dto.currentPassword) {
      throw new ApiError(400, 'INVALID_PASSWORD', 'The new password must differ from the current one');
    }
    await this.cognito.changePassword(user.accessToken, dto.currentPassword, dto.newPassword);
    // Every other session (and this one) ends; the client logs in again with the new password.
    await this.signOutEverywhere(user.id);
  }

  /**
   * Global sign-out as an account change: the intent and a first cut-off are committed before
   * Cognito is asked, the final cut-off after, so a refresh in between is refused too; if it is cut
   * short, the sweep finishes it and the guard refuses the user's tokens meanwhile.
   */
  private async signOutEverywhere(userId: string): Promise<void> {
    await this.changes.finishPendingFor(userId);
    const change = await this.changes.start({ userId, action: 'user.sign_out', details: {}, actorId: null });
    await this.changes.finish(change);
  }
}
