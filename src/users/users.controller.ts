import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { UuidParam } from '../common/validation';
import { CodeDeliveryEnvelope, PublicProfileResponse, UserProfileResponse } from './dto/user-profile.response';
import { ChangeEmailDto, UpdateProfileDto, VerifyEmailDto } from './dto/users.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

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
  requestEmailChange(@CurrentUser() caller: AuthUser, @Body() dto: ChangeEmailDto): Promise<CodeDeliveryEnvelope> {
    return this.users.requestEmailChange(caller, dto.email);
  }

  @Post('me/email/verify')
  @HttpCode(200)
  verifyEmailChange(@CurrentUser() caller: AuthUser, @Body() dto: VerifyEmailDto): Promise<UserProfileResponse> {
    return this.users.verifyEmailChange(caller, dto.code);
  }

  @Delete('me')
  @HttpCode(204)
  withdraw(@CurrentUser() caller: AuthUser): Promise<void> {
    return this.users.withdraw(caller);
  }

  @Get(':id')
  publicProfile(@UuidParam('id') id: string): Promise<PublicProfileResponse> {
    return this.users.publicProfile(id);
  }
}
