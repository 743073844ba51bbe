import {
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  DescribeUserPoolClientCommand,
  ForgotPasswordCommand,
  GetTokensFromRefreshTokenCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { createHmac } from 'node:crypto';
import { loadConfig } from '../config/app-config';
import { AppConfig } from '../config/app-config';
import { CognitoAdminService } from './cognito-admin.service';
import { CognitoApi } from './cognito-api';
import { CognitoSelfService } from './cognito-self.service';

/** Both Cognito services over one client, as the module wires them. */
function cognitoServices(config: AppConfig): { service: CognitoSelfService; admin: CognitoAdminService } {
  const api = new CognitoApi(config);
  const admin = new CognitoAdminService(api);
  return { service: new CognitoSelfService(api, admin), admin };
}

/**
 * The app-client-secret path, at the SDK command boundary: cognito-local has no
 * GetTokensFromRefreshToken, so the inputs are asserted instead.
 */
describe('the Cognito services with an app client secret', () => {
  const env = {
    DATABASE_URL: 'postgres://u:p@localhost:5432/db',
    COGNITO_REGION: 'ap-northeast-2',
    COGNITO_USER_POOL_ID: 'ap-northeast-2_Abc123',
    COGNITO_CLIENT_ID: 'client123',
    COGNITO_CLIENT_SECRET: 's3cr3t',
  };
  const sdk = mockClient(CognitoIdentityProviderClient);
  let service: CognitoSelfService;
  let admin: CognitoAdminService;
  const hash = (username: string) => createHmac('sha256', 's3cr3t').update(`${username}client123`).digest('base64');
  const tokens = { AuthenticationResult: { AccessToken: 'a', IdToken: 'i', RefreshToken: 'r', ExpiresIn: 3600 } };

  beforeEach(() => {
    sdk.reset();
    ({ service, admin } = cognitoServices(loadConfig(env)));
  });
  afterAll(() => sdk.restore());

  it('sends SECRET_HASH with sign-up, confirmation, login and forgot-password', async () => {
    sdk.on(SignUpCommand).resolves({ UserSub: 'sub' });
    sdk.on(ConfirmSignUpCommand).resolves({});
    sdk.on(InitiateAuthCommand).resolves(tokens);
    sdk.on(ForgotPasswordCommand).resolves({});
    await service.signUp({ email: 'a@example.com', password: 'P4ss!word', nickname: 'a' });
    await service.confirmSignUp('a@example.com', '123456');
    await service.login('a@example.com', 'P4ss!word');
    await service.forgotPassword('a@example.com');
    expect(sdk.commandCalls(SignUpCommand)[0].args[0].input).toMatchObject({ ClientId: 'client123', SecretHash: hash('a@example.com') });
    expect(sdk.commandCalls(ConfirmSignUpCommand)[0].args[0].input).toMatchObject({ SecretHash: hash('a@example.com') });
    expect(sdk.commandCalls(InitiateAuthCommand)[0].args[0].input.AuthParameters).toEqual({
      USERNAME: 'a@example.com',
      PASSWORD: 'P4ss!word',
      SECRET_HASH: hash('a@example.com'),
    });
    expect(sdk.commandCalls(ForgotPasswordCommand)[0].args[0].input).toMatchObject({ SecretHash: hash('a@example.com') });
  });

  it('refreshes with GetTokensFromRefreshToken and the client secret (the username is unknown)', async () => {
    sdk.on(GetTokensFromRefreshTokenCommand).resolves(tokens);
    await expect(service.refresh('refresh-token')).resolves.toMatchObject({ accessToken: 'a', idToken: 'i' });
    expect(sdk.commandCalls(GetTokensFromRefreshTokenCommand)[0].args[0].input).toEqual({
      ClientId: 'client123',
      ClientSecret: 's3cr3t',
      RefreshToken: 'refresh-token',
    });
    expect(sdk.commandCalls(InitiateAuthCommand)).toHaveLength(0);
  });

  it('revokes a refresh token with the client secret', async () => {
    sdk.on(RevokeTokenCommand).resolves({});
    await service.revokeRefreshToken('refresh-token');
    expect(sdk.commandCalls(RevokeTokenCommand)[0].args[0].input).toEqual({
      ClientId: 'client123',
      ClientSecret: 's3cr3t',
      Token: 'refresh-token',
    });
  });

  it('signs a user out everywhere with AdminUserGlobalSignOut on the pool, and maps its failures', async () => {
    sdk
      .on(AdminUserGlobalSignOutCommand)
      .resolvesOnce({})
      .rejects(Object.assign(new Error('down'), { name: 'InternalErrorException', $fault: 'server' }));
    await admin.adminUserGlobalSignOut('user-1');
    expect(sdk.commandCalls(AdminUserGlobalSignOutCommand).map((c) => c.args[0].input)).toEqual([
      { UserPoolId: 'ap-northeast-2_Abc123', Username: 'user-1' },
    ]);
    await expect(admin.adminUserGlobalSignOut('user-1')).rejects.toMatchObject({ status: 503, code: 'IDP_UNAVAILABLE' });
  });

  it('answers a refused refresh with 401', async () => {
    sdk.on(GetTokensFromRefreshTokenCommand).rejects(Object.assign(new Error('revoked'), { name: 'NotAuthorizedException' }));
    await expect(service.refresh('refresh-token')).rejects.toMatchObject({ status: 401 });
  });

  it('answers a challenge with SECRET_HASH, and announces the app client session duration as expiresIn', async () => {
    sdk.on(InitiateAuthCommand).resolves({ ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 'session-1' });
    sdk.on(DescribeUserPoolClientCommand).resolves({ UserPoolClient: { AuthSessionValidity: 10 } });
    sdk.on(RespondToAuthChallengeCommand).resolves(tokens);
    await expect(service.login('a@example.com', 'P4ss!word')).resolves.toEqual({
      challenge: { name: 'SOFTWARE_TOKEN_MFA', session: 'session-1', expiresIn: 600 },
    });
    await expect(
      service.respondToChallenge('a@example.com', 'SOFTWARE_TOKEN_MFA', 'session-1', { SOFTWARE_TOKEN_MFA_CODE: '123456' }),
    ).resolves.toEqual({
      tokens: { accessToken: 'a', idToken: 'i', refreshToken: 'r', expiresIn: 3600 },
    });
    expect(sdk.commandCalls(DescribeUserPoolClientCommand)[0].args[0].input).toEqual({
      UserPoolId: 'ap-northeast-2_Abc123',
      ClientId: 'client123',
    });
    expect(sdk.commandCalls(RespondToAuthChallengeCommand)[0].args[0].input).toEqual({
      ClientId: 'client123',
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: 'session-1',
      ChallengeResponses: { USERNAME: 'a@example.com', SOFTWARE_TOKEN_MFA_CODE: '123456', SECRET_HASH: hash('a@example.com') },
    });
  });

  it('announces the shortest session Cognito allows when the app client cannot be read, and asks again next time', async () => {
    sdk.on(InitiateAuthCommand).resolves({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's' });
    sdk
      .on(DescribeUserPoolClientCommand)
      .rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }))
      .resolves({
        UserPoolClient: { AuthSessionValidity: 15 },
      });
    await expect(service.login('a@example.com', 'x')).resolves.toMatchObject({ challenge: { expiresIn: 180 } });
    await expect(service.login('a@example.com', 'x')).resolves.toMatchObject({ challenge: { expiresIn: 900 } });
    await expect(service.login('a@example.com', 'x')).resolves.toMatchObject({ challenge: { expiresIn: 900 } });
    expect(sdk.commandCalls(DescribeUserPoolClientCommand)).toHaveLength(2);
  });

  it('signs a user out everywhere with the task role (AdminUserGlobalSignOut)', async () => {
    sdk.on(AdminUserGlobalSignOutCommand).resolves({});
    await admin.adminUserGlobalSignOut('user-sub');
    expect(sdk.commandCalls(AdminUserGlobalSignOutCommand)[0].args[0].input).toEqual({
      UserPoolId: 'ap-northeast-2_Abc123',
      Username: 'user-sub',
    });
  });
});

describe('the Cognito services without a client secret', () => {
  const sdk = mockClient(CognitoIdentityProviderClient);
  afterAll(() => sdk.restore());

  it('sends no SECRET_HASH and refreshes with REFRESH_TOKEN_AUTH', async () => {
    sdk.reset();
    sdk.on(InitiateAuthCommand).resolves({ AuthenticationResult: { AccessToken: 'a', IdToken: 'i', ExpiresIn: 60 } });
    const { service } = cognitoServices(
      loadConfig({
        DATABASE_URL: 'postgres://u:p@localhost:5432/db',
        COGNITO_REGION: 'ap-northeast-2',
        COGNITO_USER_POOL_ID: 'ap-northeast-2_Abc123',
        COGNITO_CLIENT_ID: 'client123',
      }),
    );
    await service.refresh('refresh-token');
    expect(sdk.commandCalls(InitiateAuthCommand)[0].args[0].input).toEqual({
      ClientId: 'client123',
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: 'refresh-token' },
    });
  });
});
