import { Injectable } from '@nestjs/common';
import { assertSelfServiceScope, AuthUser } from '../identity/auth-user';
import { CognitoAdminService } from '../cognito/cognito-admin.service';
import { CognitoSelfService } from '../cognito/cognito-self.service';
import { AppConfig } from '../config/app-config';
import { MfaStatusResponse, TotpSecretResponse } from './dto/mfa.response';
import { otpauthUri } from './otpauth-uri';

/** The caller's second step: TOTP with an authenticator app, enrolled and removed by the caller. */
@Injectable()
export class MfaService {
  constructor(
    private readonly cognito: CognitoSelfService,
    private readonly cognitoAdmin: CognitoAdminService,
    private readonly config: AppConfig,
  ) {}

  /** Read with the task role, so it also answers for a token without the self-service scope. */
  async status(caller: AuthUser): Promise<MfaStatusResponse> {
    const { totp, preferred } = await this.cognitoAdmin.adminGetMfa(caller.account.cognitoUsername);
    return { totp, preferred: preferred === 'SOFTWARE_TOKEN_MFA' ? preferred : null };
  }

  /** A new secret; TOTP is asked for only once a code of it is verified. */
  async startTotp(caller: AuthUser): Promise<TotpSecretResponse> {
    assertSelfServiceScope(caller);
    const secretCode = await this.cognito.associateSoftwareToken(caller.accessToken);
    const account = caller.account.email ?? caller.username;
    return { secretCode, otpauthUri: otpauthUri(this.config.totpIssuer, account, secretCode) };
  }

  async verifyTotp(caller: AuthUser, code: string): Promise<void> {
    assertSelfServiceScope(caller);
    await this.cognito.verifySoftwareToken(caller.accessToken, code);
    await this.cognito.setSoftwareTokenMfa(caller.accessToken, true);
  }

  async removeTotp(caller: AuthUser): Promise<void> {
    assertSelfServiceScope(caller);
    await this.cognito.setSoftwareTokenMfa(caller.accessToken, false);
  }
}
