import { Injectable } from '@nestjs/common';
import { CognitoService } from '../cognito/cognito.service';
import { ApiError } from '../common/api-error';
import { assertPasswordPolicy } from '../common/fields';
import { UserProfileResponse } from '../users/dto/user-profile.response';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { AuthUser } from './auth-user';
import { ChangePasswordDto, ConfirmSignupDto, LoginDto, ResetPasswordDto, SignupDto } from './dto/auth.dto';
import { RefreshedTokensResponse, SignupResponse, TokensResponse } from './dto/auth.response';

@Injectable()
export class AuthService {
  constructor(
    private readonly cognito: CognitoService,
    private readonly users: UserMappingRepository,
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
      await this.users.revokeTokensIssuedBeforeNow(user.id);
    }
  }

  /** Signs out every session in Cognito and refuses every token issued before now. */
  async logoutAll(user: AuthUser): Promise<void> {
    await this.cognito.globalSignOut(user.accessToken);
    await this.users.revokeTokensIssuedBeforeNow(user.id);
  }

  async forgotPassword(email: string): Promise<void> {
    await this.cognito.forgotPassword(email);
  }

  async resetPassword(dto: ResetPasswordDto): Promise<void> {
    assertPasswordPolicy(dto.newPassword, 'newPassword');
    await this.cognito.confirmForgotPassword(dto.email, dto.code, dto.newPassword);
  }

  async changePassword(user: AuthUser, dto: ChangePasswordDto): Promise<void> {
    assertPasswordPolicy(dto.newPassword, 'newPassword');
    if (dto.newPassword === dto.currentPassword) {
      throw new ApiError(400, 'INVALID_PASSWORD', 'The new password must differ from the current one');
    }
    await this.cognito.changePassword(user.accessToken, dto.currentPassword, dto.newPassword);
  }
}
