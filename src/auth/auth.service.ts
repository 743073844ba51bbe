import { Injectable, Logger } from '@nestjs/common';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { CognitoSelfService } from '../cognito/cognito-self.service';
import { AuthOutcome, CognitoTokens } from '../cognito/cognito.types';
import { HostedUiService } from '../cognito/hosted-ui.service';
import { ApiError } from '../common/api-error';
import { assertPasswordPolicy } from '../common/fields';
import { AppConfig } from '../config/app-config';
import { UserProfileResponse } from '../users/dto/user-profile.response';
import { otpauthUri } from '../users/otpauth-uri';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccountChangesService } from '../users/account-changes.service';
import { mirroredFields } from '../users/mirrored-fields';
import { UserMappingRepository } from '../users/user-mapping.repository';
import { assertSelfServiceScope, AuthUser } from '../identity/auth-user';
import {
  ChallengeAnswerDto,
  ChangePasswordDto,
  ConfirmSignupDto,
  LoginDto,
  OAuthTokenDto,
  ResetPasswordDto,
  SignupDto,
} from './dto/auth.dto';
import { LoginResponse, RefreshedTokensResponse, SignupResponse, TokensResponse } from './dto/auth.response';
import { RevokedTokensRepository } from './revoked-tokens.repository';
import { AuthSessionsService } from './auth-sessions.service';
import { SessionOrigin, SessionsRepository } from '../users/sessions.repository';

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly cognito: CognitoSelfService,
    private readonly cognitoAdmin: CognitoAdminService,
    private readonly hostedUi: HostedUiService,
    private readonly users: UserMappingRepository,
    private readonly config: AppConfig,
    private readonly changes: AccountChangesService,
    private readonly revokedTokens: RevokedTokensRepository,
    private readonly authSessions: AuthSessionsService,
    private readonly sessions: SessionsRepository,
  ) {}

  async signup(dto: SignupDto): Promise<SignupResponse> {
    assertPasswordPolicy(dto.password);
    const { userSub, codeDelivery } = await this.cognito.signUp(dto);
    return { userSub, confirmed: false, codeDelivery };
  }

  /** Confirms the code, then creates the `user_mapping` row from what Cognito holds (idempotent). */
  async confirm(dto: ConfirmSignupDto): Promise<{ user: UserProfileResponse }> {
    await this.cognito.confirmSignUp(dto.email, dto.code);
    const profile = await this.cognitoAdmin.adminGetUser(dto.email);
    const fields = { email: profile.email, phoneNumber: profile.phoneNumber, nickname: profile.nickname };
    const { user, created } = await this.users.ensure(profile.sub, profile.username, fields);
    // A row made just in time before the confirmation gets the attributes now.
    const current = created ? user : ((await this.users.updateProfile(user.id, fields)) ?? user);
    return { user: UserProfileResponse.from(current, []) };
  }

  resendCode(email: string): Promise<void> {
    return this.cognito.resendConfirmationCode(email);
  }

  /** Tokens, or the second step Cognito asks for (MFA, an invited user's new password). */
  async login(dto: LoginDto, origin: SessionOrigin): Promise<LoginResponse> {
    return this.answer(await this.cognito.login(dto.email, dto.password), origin);
  }

  /** Answers a login challenge; the result is tokens or the next challenge. */
  async challenge(dto: ChallengeAnswerDto, origin: SessionOrigin): Promise<LoginResponse> {
    switch (dto.name) {
      case 'NEW_PASSWORD_REQUIRED': {
        const newPassword = requireField(dto.newPassword, 'newPassword', dto.name);
        assertPasswordPolicy(newPassword, 'newPassword');
        return this.answer(await this.cognito.respondToChallenge(dto.email, dto.name, dto.session, { NEW_PASSWORD: newPassword }), origin);
      }
      case 'MFA_SETUP': {
        if (dto.code === undefined) {
          // First call: the secret to enrol; the same challenge comes back, to be answered with a code.
          const { secretCode, session } = await this.cognito.associateSoftwareTokenForSession(dto.session);
          const expiresIn = await this.cognitoAdmin.challengeSessionSeconds();
          return {
            challenge: { name: 'MFA_SETUP', session, expiresIn },
            totp: { secretCode, otpauthUri: otpauthUri(this.config.totpIssuer, dto.email, secretCode) },
          };
        }
        const session = await this.cognito.verifySoftwareTokenForSession(dto.session, dto.code);
        return this.answer(await this.cognito.respondToChallenge(dto.email, dto.name, session, {}), origin);
      }
      default: {
        const answerKey = CODE_ANSWER[dto.name];
        const code = requireField(dto.code, 'code', dto.name);
        return this.answer(await this.cognito.respondToChallenge(dto.email, dto.name, dto.session, { [answerKey]: code }), origin);
      }
    }
  }

  /**
   * The Hosted UI's authorization code (with its PKCE verifier) for tokens. The caller's row is
   * created now, from what Cognito holds, so the first API call finds a complete profile.
   */
  async exchangeAuthorizationCode(dto: OAuthTokenDto, origin: SessionOrigin): Promise<TokensResponse> {
    const hostedUi = this.config.cognito.hostedUi;
    if (hostedUi === undefined) {
      throw ApiError.notFound('The Hosted UI is not configured for this service');
    }
    if (!hostedUi.redirectUris.includes(dto.redirectUri)) {
      throw ApiError.validation('redirectUri is not one of the registered redirect URIs', [
        { field: 'redirectUri', message: 'redirectUri must be one of the registered redirect URIs' },
      ]);
    }
    const tokens = await this.hostedUi.exchangeCode(hostedUi, dto);
    await this.mirrorUser(tokens);
    await this.authSessions.recordSignIn(tokens, origin);
    return tokensBody(tokens);
  }

  private async answer(outcome: AuthOutcome, origin: SessionOrigin): Promise<LoginResponse> {
    if ('challenge' in outcome) {
      return { challenge: outcome.challenge };
    }
    await this.authSessions.recordSignIn(outcome.tokens, origin);
    return tokensBody(outcome.tokens);
  }

  /**
   * Creates the `user_mapping` row of the user the tokens belong to, or brings its attributes up to
   * date, from what Cognito holds (read with the task role: these tokens may lack the scope GetUser
   * needs). The token is read, not verified: it comes straight from the pool's token endpoint over
   * TLS, which OpenID Connect Core 3.1.3.7 accepts in place of the signature check. The API
   * verifies it in full on every request it is presented with.
   */
  private async mirrorUser(tokens: CognitoTokens): Promise<void> {
    const claims = this.authSessions.claimsOf(tokens.accessToken);
    const profile = await this.cognitoAdmin.adminGetUser(claims.username);
    const fields = mirroredFields(profile);
    const { user, created } = await this.users.ensure(profile.sub, profile.username, fields);
    if (!created && user.status !== 'withdrawn') {
      await this.users.updateProfile(user.id, fields);
    }
  }

  async refresh(refreshToken: string): Promise<RefreshedTokensResponse> {
    const sessionId = await this.authSessions.assertRefreshable(refreshToken);
    const tokens = await this.cognito.refresh(refreshToken);
    await this.authSessions.recordRefresh(sessionId, refreshToken, tokens);
    return { accessToken: tokens.accessToken, idToken: tokens.idToken, expiresIn: tokens.expiresIn, tokenType: 'Bearer' };
  }

  /**
   * Revokes the refresh token in Cognito first (idempotent), then ends the calling token's session
   * (all its access tokens) and refuses the calling access token itself (it may belong to none).
   */
  async logout(user: AuthUser, refreshToken: string): Promise<void> {
    await this.cognito.revokeRefreshToken(refreshToken);
    await this.authSessions.endForLogout(user, refreshToken);
    if (user.jti !== null) {
      await this.revokedTokens.revoke(user.id, user.jti, new Date(user.exp * 1000));
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
    // Account recovery evicts whoever held the old password: every session ends. A user who never
    // called the API gets its row now, so the sign-out is an account change like any other.
    const profile = await this.cognitoAdmin.adminGetUser(dto.email);
    const { user } = await this.users.ensure(profile.sub, profile.username, mirroredFields(profile));
    await this.signOutEverywhere(user.id);
  }

  async changePassword(user: AuthUser, dto: ChangePasswordDto): Promise<void> {
    assertSelfServiceScope(user);
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
   * Cognito is asked (every token issued before is refused from then on), the final cut-off after,
   * so a refresh in between is refused too. Changes of the user left half-done finish with it,
   * oldest first.
   *
   * Every caller has its effect before Cognito is asked: the password is changed, or (logout-all)
   * the sessions are ended and the tokens cut off. So a sign-out Cognito cannot do now (throttling,
   * an outage; cognito-local lacks it) is left to the sweep: the answer is a success, the old
   * tokens stay refused, the guard refuses tokens of sign-ins older than the cut-off meanwhile,
   * and a new sign-in works at once.
   */
  private async signOutEverywhere(userId: string): Promise<void> {
    // Every session ends first, in the database alone: its tokens are refused whatever Cognito does.
    await this.sessions.endAllBut(userId, null);
    await this.changes.start({ userId, action: 'user.sign_out', details: {}, actorId: null });
    try {
      await this.changes.finishPendingFor(userId);
    } catch (error) {
      this.logger.warn({ err: error, userId }, 'global sign-out left to the sweep');
      // Answers once the cut-off's second has begun, so a sign-in right after the answer is accepted.
      const cutOff = await this.users.cutOffTokens([userId]);
      await sleep(cutOff?.waitMs ?? 0);
    }
  }
}

/** The field each code challenge is answered with (RespondToAuthChallenge ChallengeResponses). */
const CODE_ANSWER: Record<'SOFTWARE_TOKEN_MFA' | 'SMS_MFA' | 'EMAIL_OTP', string> = {
  SOFTWARE_TOKEN_MFA: 'SOFTWARE_TOKEN_MFA_CODE',
  SMS_MFA: 'SMS_MFA_CODE',
  EMAIL_OTP: 'EMAIL_OTP_CODE',
};

function requireField(value: string | undefined, field: string, challenge: string): string {
  if (value === undefined) {
    throw ApiError.validation(`${challenge} is answered with ${field}`, [{ field, message: `${field} is required for ${challenge}` }]);
  }
  return value;
}

function tokensBody(tokens: CognitoTokens): TokensResponse {
  return {
    accessToken: tokens.accessToken,
    idToken: tokens.idToken,
    refreshToken: tokens.refreshToken ?? '',
    expiresIn: tokens.expiresIn,
    tokenType: 'Bearer',
  };
}
