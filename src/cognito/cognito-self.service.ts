import {
  AssociateSoftwareTokenCommand,
  AttributeType,
  ChallengeNameType,
  ChangePasswordCommand,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  ForgotPasswordCommand,
  GetTokensFromRefreshTokenCommand,
  GetUserCommand,
  InitiateAuthCommand,
  ResendConfirmationCodeCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  SetUserMFAPreferenceCommand,
  SignUpCommand,
  UpdateUserAttributesCommand,
  VerifySoftwareTokenCommand,
  VerifyUserAttributeCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { AuthenticationResultType } from '@aws-sdk/client-cognito-identity-provider';
import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { CognitoAdminService } from './cognito-admin.service';
import { CognitoApi } from './cognito-api';
import { answerAs, codeMismatch, CognitoErrorOverrides, mapCognitoError, refreshRefused, sessionExpired } from './cognito-errors';
import { AuthOutcome, CodeDelivery, CognitoProfile, CognitoTokens, toDelivery, toProfile, toTokens } from './cognito.types';

/**
 * The Cognito calls a user makes through the public app client: sign-up, login and its
 * challenges, refresh, passwords, and the calls that carry the user's own access token. None
 * needs an IAM permission; the one admin call a login needs (the app client's session duration)
 * is `CognitoAdminService`'s.
 */
@Injectable()
export class CognitoSelfService {
  constructor(
    private readonly api: CognitoApi,
    private readonly admin: CognitoAdminService,
  ) {}

  private get clientId(): string {
    return this.api.clientId;
  }

  // ---- sign-up ------------------------------------------------------------------------------

  async signUp(input: { email: string; password: string; nickname: string; phoneNumber?: string }): Promise<{ userSub: string; codeDelivery: CodeDelivery }> {
    const attributes: AttributeType[] = [
      { Name: 'email', Value: input.email },
      { Name: 'nickname', Value: input.nickname },
    ];
    if (input.phoneNumber !== undefined) {
      attributes.push({ Name: 'phone_number', Value: input.phoneNumber });
    }
    const out = await this.api.send(
      'SignUp',
      new SignUpCommand({
        ClientId: this.clientId,
        Username: input.email,
        Password: input.password,
        UserAttributes: attributes,
        ...this.api.secretHash(input.email),
        ...this.api.userContext(),
      }),
    );
    return { userSub: out.UserSub ?? '', codeDelivery: toDelivery(out.CodeDeliveryDetails) };
  }

  async confirmSignUp(email: string, code: string): Promise<void> {
    await this.api.send(
      'ConfirmSignUp',
      new ConfirmSignUpCommand({ ClientId: this.clientId, Username: email, ConfirmationCode: code, ...this.api.secretHash(email) }),
      {
        // Unknown email, or an account that cannot be confirmed (already confirmed): the same
        // answer as a wrong code, so the route tells nothing about who exists.
        UserNotFoundException: answerAs('CodeMismatchException', 'ConfirmSignUp'),
        NotAuthorizedException: answerAs('CodeMismatchException', 'ConfirmSignUp'),
      },
    );
  }

  /** Sends a new code; unknown or already-confirmed emails are not revealed to the caller. */
  async resendConfirmationCode(email: string): Promise<void> {
    await this.api.sendOrNull(
      'ResendConfirmationCode',
      new ResendConfirmationCodeCommand({ ClientId: this.clientId, Username: email, ...this.api.secretHash(email), ...this.api.userContext() }),
      ['UserNotFoundException', 'InvalidParameterException'],
    );
  }

  // ---- login --------------------------------------------------------------------------------

  async login(email: string, password: string): Promise<AuthOutcome> {
    const notAuthorized = answerAs('NotAuthorizedException', 'InitiateAuth');
    const out = await this.api.send(
      'InitiateAuth',
      new InitiateAuthCommand({
        ClientId: this.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password, ...this.api.secretHashParam(email) },
        ...this.api.userContext(),
      }),
      {
        // Unknown email and wrong password get the same answer (no user enumeration).
        UserNotFoundException: notAuthorized,
        // cognito-local reports a wrong password as InvalidPasswordException; Cognito says NotAuthorized.
        InvalidPasswordException: notAuthorized,
        // Cognito says so before it checks the password: answering it would tell anyone that the
        // account exists. The user recovers the way anyone with a wrong password does, through
        // password/forgot (which works for an account in this state).
        PasswordResetRequiredException: notAuthorized,
      },
    );
    return this.outcome('InitiateAuth', out);
  }

  /**
   * Answers a challenge of `login` (or of a previous answer). A session Cognito no longer knows,
   * or one that belongs to another user, is SESSION_EXPIRED: the client has to log in again.
   */
  async respondToChallenge(email: string, name: ChallengeNameType, session: string, answers: Record<string, string>): Promise<AuthOutcome> {
    const out = await this.api.send(
      'RespondToAuthChallenge',
      new RespondToAuthChallengeCommand({
        ClientId: this.clientId,
        ChallengeName: name,
        Session: session,
        ChallengeResponses: { USERNAME: email, ...answers, ...this.api.secretHashParam(email) },
        ...this.api.userContext(),
      }),
      { NotAuthorizedException: sessionExpired, UserNotFoundException: sessionExpired },
    );
    return this.outcome('RespondToAuthChallenge', out);
  }

  /** MFA_SETUP during login: the TOTP secret for the challenge session (no access token yet). */
  async associateSoftwareTokenForSession(session: string): Promise<{ secretCode: string; session: string }> {
    const out = await this.api.send('AssociateSoftwareToken', new AssociateSoftwareTokenCommand({ Session: session }), {
      NotAuthorizedException: sessionExpired,
    });
    return { secretCode: out.SecretCode ?? '', session: out.Session ?? session };
  }

  /** MFA_SETUP during login: proves the authenticator app, and returns the session to answer MFA_SETUP with. */
  async verifySoftwareTokenForSession(session: string, code: string): Promise<string> {
    const out = await this.api.send('VerifySoftwareToken', new VerifySoftwareTokenCommand({ Session: session, UserCode: code }), {
      NotAuthorizedException: sessionExpired,
      EnableSoftwareTokenMFAException: codeMismatch,
    });
    return out.Session ?? session;
  }

  private async outcome(
    operation: string,
    out: { AuthenticationResult?: AuthenticationResultType; ChallengeName?: string; Session?: string },
  ): Promise<AuthOutcome> {
    const tokens = toTokens(out.AuthenticationResult);
    if (tokens !== null) {
      return { tokens };
    }
    if (out.ChallengeName !== undefined && out.Session !== undefined) {
      return { challenge: { name: out.ChallengeName, session: out.Session, expiresIn: await this.admin.challengeSessionSeconds() } };
    }
    // Neither tokens nor a challenge: not something Cognito documents, so not the client's fault.
    throw mapCognitoError({ name: 'UnexpectedAnswer', $fault: 'server' }, operation);
  }

  // ---- refresh and logout -------------------------------------------------------------------

  async refresh(refreshToken: string): Promise<CognitoTokens> {
    const overrides: CognitoErrorOverrides = {
      NotAuthorizedException: refreshRefused,
      InvalidParameterException: refreshRefused,
      UserNotFoundException: refreshRefused,
    };
    const secret = this.api.config.clientSecret;
    // With a client secret, SECRET_HASH would need the username, which an opaque refresh token
    // does not reveal; GetTokensFromRefreshToken takes the client secret itself instead.
    const out =
      secret === undefined
        ? await this.api.send(
            'InitiateAuth',
            new InitiateAuthCommand({ ClientId: this.clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refreshToken } }),
            overrides,
          )
        : await this.api.send(
            'GetTokensFromRefreshToken',
            new GetTokensFromRefreshTokenCommand({ ClientId: this.clientId, ClientSecret: secret, RefreshToken: refreshToken }),
            overrides,
          );
    const tokens = toTokens(out.AuthenticationResult);
    if (tokens === null) {
      throw refreshRefused();
    }
    return tokens;
  }

  async revokeRefreshToken(refreshToken: string): Promise<void> {
    // A refresh token that is already invalid is as revoked as it gets: logout still succeeds.
    await this.api.sendOrNull(
      'RevokeToken',
      new RevokeTokenCommand({ ClientId: this.clientId, ClientSecret: this.api.config.clientSecret, Token: refreshToken }),
      ['NotAuthorizedException', 'UnsupportedTokenTypeException', 'InvalidParameterException'],
    );
  }

  // ---- passwords ----------------------------------------------------------------------------

  /** Unknown emails are not revealed: the caller answers 202 either way. */
  async forgotPassword(email: string): Promise<void> {
    await this.api.sendOrNull(
      'ForgotPassword',
      new ForgotPasswordCommand({ ClientId: this.clientId, Username: email, ...this.api.secretHash(email), ...this.api.userContext() }),
      ['UserNotFoundException', 'InvalidParameterException', 'NotAuthorizedException'],
    );
  }

  async confirmForgotPassword(email: string, code: string, newPassword: string): Promise<void> {
    await this.api.send(
      'ConfirmForgotPassword',
      new ConfirmForgotPasswordCommand({
        ClientId: this.clientId,
        Username: email,
        ConfirmationCode: code,
        Password: newPassword,
        ...this.api.secretHash(email),
        ...this.api.userContext(),
      }),
      { UserNotFoundException: answerAs('CodeMismatchException', 'ConfirmForgotPassword') },
    );
  }

  async changePassword(accessToken: string, currentPassword: string, newPassword: string): Promise<void> {
    // cognito-local reports a wrong previous password as InvalidPasswordException; our own policy
    // check runs before this call, so here it can only mean the current password is wrong.
    const wrongCurrent = (): ApiError => new ApiError(400, 'INVALID_CREDENTIALS', 'The current password is wrong');
    await this.api.send(
      'ChangePassword',
      new ChangePasswordCommand({ AccessToken: accessToken, PreviousPassword: currentPassword, ProposedPassword: newPassword }),
      { NotAuthorizedException: wrongCurrent, InvalidPasswordException: wrongCurrent },
    );
  }

  // ---- the caller's own attributes and second factor ----------------------------------------

  async getUser(accessToken: string): Promise<CognitoProfile> {
    const out = await this.api.send('GetUser', new GetUserCommand({ AccessToken: accessToken }));
    return toProfile(out.Username ?? '', out.UserAttributes);
  }

  async updateUserAttributes(accessToken: string, attributes: Record<string, string>): Promise<CodeDelivery | null> {
    const out = await this.api.send(
      'UpdateUserAttributes',
      new UpdateUserAttributesCommand({
        AccessToken: accessToken,
        UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
      }),
    );
    const details = out.CodeDeliveryDetailsList?.[0];
    return details === undefined ? null : toDelivery(details);
  }

  async verifyUserAttribute(accessToken: string, name: string, code: string): Promise<void> {
    await this.api.send('VerifyUserAttribute', new VerifyUserAttributeCommand({ AccessToken: accessToken, AttributeName: name, Code: code }));
  }

  /** Starts TOTP enrolment: a new secret for the caller's authenticator app. */
  async associateSoftwareToken(accessToken: string): Promise<string> {
    const out = await this.api.send('AssociateSoftwareToken', new AssociateSoftwareTokenCommand({ AccessToken: accessToken }));
    return out.SecretCode ?? '';
  }

  /** Proves the authenticator app with one of its codes; a wrong code is CODE_MISMATCH. */
  async verifySoftwareToken(accessToken: string, code: string): Promise<void> {
    const out = await this.api.send('VerifySoftwareToken', new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: code }), {
      EnableSoftwareTokenMFAException: codeMismatch,
      // Verify before Associate: there is no secret to check the code against.
      InvalidParameterException: () => ApiError.conflict('Start TOTP enrolment first (POST /v1/users/me/mfa/totp)'),
    });
    if (out.Status !== undefined && out.Status !== 'SUCCESS') {
      throw codeMismatch();
    }
  }

  /** TOTP on (and preferred) or off as the caller's second step. */
  async setSoftwareTokenMfa(accessToken: string, enabled: boolean): Promise<void> {
    await this.api.send(
      'SetUserMFAPreference',
      new SetUserMFAPreferenceCommand({ AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: enabled, PreferredMfa: enabled } }),
      { InvalidParameterException: () => ApiError.conflict('TOTP is not verified for this account') },
    );
  }
}
