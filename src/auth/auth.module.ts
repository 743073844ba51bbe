import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AccountGateService } from './account-gate.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { AuthSessionsService } from './auth-sessions.service';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import { JwksService } from './jwks.service';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitStore } from './rate-limit.store';
import { RevocationJanitor } from './revocation-janitor';
import { RevokedTokensRepository } from './revoked-tokens.repository';
import { RolesGuard } from './roles.guard';

@Module({
  imports: [UsersModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    AuthSessionsService,
    AccountGateService,
    Authenticator,
    JwksService,
    AuthGuard,
    RolesGuard,
    RateLimitGuard,
    RateLimitStore,
    RevokedTokensRepository,
    RevocationJanitor,
  ],
  exports: [JwksService, Authenticator, AuthGuard, RolesGuard],
})
export class AuthModule {}
