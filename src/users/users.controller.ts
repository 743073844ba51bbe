import { Authenticated } from '../identity/authenticated.decorator';
import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../identity/auth-user';
import { CurrentUser } from '../identity/current-user.decorator';
import { UuidParam } from '../common/validation';
import { MaybeRecentSignIn, RecentSignIn } from '../identity/recent-sign-in';
import { MfaStatusResponse, TotpSecretResponse } from './dto/mfa.response';
import { CodeDeliveryEnvelope, PublicProfileResponse, UserProfileResponse } from './dto/user-profile.response';
import { ChangeEmailDto, UpdateProfileDto, VerifyEmailDto, VerifyTotpDto } from './dto/users.dto';
import { MfaService } from './mfa.service';
import { UsersService } from './users.service';

@ApiTags('users')
@Authenticated()
@Controller('v1/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly mfa: MfaService,
  ) {}

  @Get('me')
  me(@CurrentUser() caller: AuthUser): UserProfileResponse {
    return this.users.me(caller);
  }

  @Patch('me')
  updateMe(@CurrentUser() caller: AuthUser, @Body() dto: UpdateProfileDto): Promise<UserProfileResponse> {
    return this.users.updateMe(caller, dto);
  }

  @Post('me/email')
  @HttpCode(202)
  @RecentSignIn()
  @ApiOperation({ summary: 'Ask for a new email (needs a recent sign-in); once verified, every other session ends' })
  requestEmailChange(@CurrentUser() caller: AuthUser, @Body() dto: ChangeEmailDto): Promise<CodeDeliveryEnvelope> {
    return this.users.requestEmailChange(caller, dto.email);
  }

  @Post('me/email/verify')
  @HttpCode(200)
  verifyEmailChange(@CurrentUser() caller: AuthUser, @Body() dto: VerifyEmailDto): Promise<UserProfileResponse> {
    return this.users.verifyEmailChange(caller, dto.code);
  }

  @Get('me/mfa')
  @ApiOperation({ summary: 'The second steps of the caller' })
  mfaStatus(@CurrentUser() caller: AuthUser): Promise<MfaStatusResponse> {
    return this.mfa.status(caller);
  }

  @Post('me/mfa/totp')
  @HttpCode(200)
  @ApiOperation({ summary: 'Start TOTP enrolment: a secret for an authenticator app (while TOTP is on: needs a recent sign-in)' })
  @MaybeRecentSignIn('While TOTP is on')
  startTotp(@CurrentUser() caller: AuthUser): Promise<TotpSecretResponse> {
    return this.mfa.startTotp(caller);
  }

  @Post('me/mfa/totp/verify')
  @HttpCode(204)
  @ApiOperation({ summary: "Verify an authenticator app code: TOTP becomes the caller's second step" })
  verifyTotp(@CurrentUser() caller: AuthUser, @Body() dto: VerifyTotpDto): Promise<void> {
    return this.mfa.verifyTotp(caller, dto.code);
  }

  @Delete('me/mfa/totp')
  @HttpCode(204)
  @RecentSignIn()
  @ApiOperation({ summary: 'Stop asking for TOTP at login (needs a recent sign-in); every other session ends' })
  removeTotp(@CurrentUser() caller: AuthUser): Promise<void> {
    return this.mfa.removeTotp(caller);
  }

  @Delete('me')
  @HttpCode(204)
  @RecentSignIn()
  withdraw(@CurrentUser() caller: AuthUser): Promise<void> {
    return this.users.withdraw(caller);
  }

  @Get(':id')
  publicProfile(@UuidParam('id') id: string): Promise<PublicProfileResponse> {
    return this.users.publicProfile(id);
  }
}
