import { Injectable } from '@nestjs/common';
import { assertSelfServiceScope, AuthUser } from '../identity/auth-user';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { CognitoSelfService } from '../cognito/cognito-self.service';
import { AppConfig } from '../config/app-config';
import { MfaStatusResponse, TotpSecretResponse } from './dto/mfa.response';
import { otpauthUri } from './otpauth-uri';
import { assertRecentSignIn } from '../identity/recent-sign-in';
import { SessionsRepository } from './sessions.repository';

/** The caller's second step: TOTP with an authenticator app, enrolled and removed by the caller. */
@Injectable()
export class MfaService {
  constructor(
    private readonly cognito: CognitoSelfService,
    private readonly cognitoAdmin: CognitoAdminService,
    private readonly config: AppConfig,
    private readonly sessions: SessionsRepository,
  ) {}

  /** Read with the task role, so it also answers for a token without the self-service scope. */
  async status(caller: AuthUser): Promise<MfaStatusResponse> {
    const { totp, preferred } = await this.cognitoAdmin.adminGetMfa(caller.account.cognitoUsername);
    return { totp, preferred: preferred === 'SOFTWARE_TOKEN_MFA' ? preferred : null };
  }

  /**
   * A new secret; TOTP is asked for only once a code of it is verified. Re-binding TOTP while it
   * is on needs a recent sign-in (a first enrolment does not).
   */
  async startTotp(caller: AuthUser): Promise<TotpSecretResponse> {
    assertSelfServiceScope(caller);
    if (await this.totpOn(caller)) {
      assertRecentSignIn(caller, this.config.reauthMaxAgeSeconds);
    }
    const secretCode = await this.cognito.associateSoftwareToken(caller.accessToken);
    const account = caller.account.email ?? caller.username;
    return { secretCode, otpauthUri: otpauthUri(this.config.totpIssuer, account, secretCode) };
  }

  /** A new authenticator bound while TOTP was on ends every other session; a first enrolment none. */
  async verifyTotp(caller: AuthUser, code: string): Promise<void> {
    assertSelfServiceScope(caller);
    const rebinding = await this.totpOn(caller);
    await this.cognito.verifySoftwareToken(caller.accessToken, code);
    await this.cognito.setSoftwareTokenMfa(caller.accessToken, true);
    if (rebinding) {
      await this.sessions.endAllBut(caller.id, caller.sessionId);
    }
  }

  /** The route needs a recent sign-in (RecentSignInGuard); every other session ends. */
  async removeTotp(caller: AuthUser): Promise<void> {
    assertSelfServiceScope(caller);
    await this.cognito.setSoftwareTokenMfa(caller.accessToken, false);
    await this.sessions.endAllBut(caller.id, caller.sessionId);
  }

  private async totpOn(caller: AuthUser): Promise<boolean> {
    return (await this.cognitoAdmin.adminGetMfa(caller.account.cognitoUsername)).totp;
  }
}
