import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { UserProfileEnvelope } from '../users/dto/user-profile.response';
import { AuthService } from './auth.service';
import { AuthUser } from '../identity/auth-user';
import { CurrentUser } from '../identity/current-user.decorator';
import { Authenticated } from '../identity/authenticated.decorator';
import {
  ChallengeAnswerDto,
  ChangePasswordDto,
  ConfirmSignupDto,
  EmailOnlyDto,
  LoginDto,
  OAuthTokenDto,
  RefreshTokenDto,
  ResetPasswordDto,
  SignupDto,
} from './dto/auth.dto';
import { ChallengeEnvelope, LoginResponse, RefreshedTokensResponse, SignupResponse, TokensResponse } from './dto/auth.response';
import { RateLimitGuard } from './rate-limit.guard';
import { PublicAuthRoute } from './public-auth-route.decorator';
import { ClientOrigin } from './client-origin.decorator';
import type { SessionOrigin } from '../users/sessions.repository';

/** Login and its challenges answer tokens or the next challenge. */
const TOKENS_OR_CHALLENGE = {
  schema: { oneOf: [{ $ref: getSchemaPath(TokensResponse) }, { $ref: getSchemaPath(ChallengeEnvelope) }] },
};

@ApiTags('auth')
@ApiExtraModels(TokensResponse, ChallengeEnvelope)
@Controller('v1/auth')
@UseGuards(RateLimitGuard)
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @PublicAuthRoute()
  @Post('signup')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an account; a verification code is emailed (valid 24 h)' })
  signup(@Body() dto: SignupDto): Promise<SignupResponse> {
    return this.auth.signup(dto);
  }

  @PublicAuthRoute()
  @Post('confirm')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm the signup code; creates the user record' })
  confirm(@Body() dto: ConfirmSignupDto): Promise<UserProfileEnvelope> {
    return this.auth.confirm(dto);
  }

  @PublicAuthRoute()
  @Post('resend-code')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a new signup code (202 whether or not the email exists)' })
  async resendCode(@Body() dto: EmailOnlyDto): Promise<void> {
    await this.auth.resendCode(dto.email);
  }

  @PublicAuthRoute()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Tokens, or the second step Cognito asks for (answer it with POST /v1/auth/challenge)' })
  @ApiOkResponse(TOKENS_OR_CHALLENGE)
  login(@Body() dto: LoginDto, @ClientOrigin() origin: SessionOrigin): Promise<LoginResponse> {
    return this.auth.login(dto, origin);
  }

  @PublicAuthRoute()
  @Post('challenge')
  @HttpCode(200)
  @ApiOperation({ summary: 'Answer a login challenge (TOTP code, new password, ...): tokens or the next challenge' })
  @ApiOkResponse(TOKENS_OR_CHALLENGE)
  challenge(@Body() dto: ChallengeAnswerDto, @ClientOrigin() origin: SessionOrigin): Promise<LoginResponse> {
    return this.auth.challenge(dto, origin);
  }

  @PublicAuthRoute()
  @Post('oauth/token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a Hosted UI authorization code (PKCE) for tokens' })
  oauthToken(@Body() dto: OAuthTokenDto, @ClientOrigin() origin: SessionOrigin): Promise<TokensResponse> {
    return this.auth.exchangeAuthorizationCode(dto, origin);
  }

  @PublicAuthRoute()
  @Post('refresh')
  @HttpCode(200)
  refresh(@Body() dto: RefreshTokenDto): Promise<RefreshedTokensResponse> {
    return this.auth.refresh(dto.refreshToken);
  }

  @PublicAuthRoute()
  @Post('password/forgot')
  @HttpCode(202)
  @ApiOperation({ summary: 'Email a password reset code (202 whether or not the email exists)' })
  async forgotPassword(@Body() dto: EmailOnlyDto): Promise<void> {
    await this.auth.forgotPassword(dto.email);
  }

  @PublicAuthRoute()
  @Post('password/reset')
  @HttpCode(204)
  resetPassword(@Body() dto: ResetPasswordDto): Promise<void> {
    return this.auth.resetPassword(dto);
  }

  @Authenticated()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: "End the calling token's session: its refresh token and every access token refreshed from it" })
  logout(@CurrentUser() user: AuthUser, @Body() dto: RefreshTokenDto): Promise<void> {
    return this.auth.logout(user, dto.refreshToken);
  }

  @Authenticated()
  @Post('logout-all')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out every session of the caller' })
  logoutAll(@CurrentUser() user: AuthUser): Promise<void> {
    return this.auth.logoutAll(user);
  }

  @Authenticated()
  @Post('password/change')
  @HttpCode(204)
  changePassword(@CurrentUser() user: AuthUser, @Body() dto: ChangePasswordDto): Promise<void> {
    return this.auth.changePassword(user, dto);
  }
}
