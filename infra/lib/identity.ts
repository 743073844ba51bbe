import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DeploymentConfig } from './config';
import { acknowledgeWildcard, nagArn } from './nag';

export const GROUPS = ['admin', 'moderator'] as const;

/**
 * The user pool the API fronts, its app client (no secret) and the Hosted UI domain. The password
 * policy is the one the API checks before calling Cognito (src/common/fields.ts).
 */
export class Identity extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, config: DeploymentConfig) {
    super(scope, id);
    const prod = config.stage === 'prod';

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `api-${config.stage}`,
      // Email is the username (SignUp sends Username = email).
      signInAliases: { email: true },
      signInCaseSensitive: false,
      selfSignUpEnabled: true,
      autoVerify: { email: true },
      userVerification: { emailStyle: cognito.VerificationEmailStyle.CODE },
      standardAttributes: {
        email: { required: true, mutable: true },
        nickname: { required: false, mutable: true },
        phoneNumber: { required: false, mutable: true },
      },
      passwordPolicy: {
        minLength: 8,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(7),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: prod,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const group of GROUPS) {
      new cognito.CfnUserPoolGroup(this, `Group-${group}`, { userPoolId: this.userPool.userPoolId, groupName: group });
    }
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is optional by design: users opt in to TOTP (POST /v1/users/me/mfa/totp); requiring it would lock out every account that has not set it up.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason: 'The Essentials plan: the Plus plan (threat protection, billed per active user) is a budget decision; see COG3.',
      },
      {
        id: 'AwsSolutions-COG3',
        reason:
          'Threat protection needs the Plus feature plan (billed per active user). The API rate-limits its public auth routes per IP; switch to FeaturePlan.PLUS when the budget allows.',
      },
    );

    const { tokens } = config;
    this.client = this.userPool.addClient('AppClient', {
      userPoolClientName: 'api',
      // Mobile and browser clients cannot keep a secret, and the API calls Cognito as this client.
      generateSecret: false,
      // USER_PASSWORD_AUTH for POST /v1/auth/login (and its challenges); refresh is always on.
      authFlows: { userPassword: true },
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.minutes(tokens.idTokenMinutes),
      accessTokenValidity: Duration.minutes(tokens.accessTokenMinutes),
      refreshTokenValidity: Duration.days(tokens.refreshTokenDays),
      authSessionValidity: Duration.minutes(tokens.authSessionMinutes),
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        // aws.cognito.signin.user.admin: without it Cognito refuses the self-service calls
        // (GetUser, ChangePassword, the TOTP calls) for Hosted UI tokens.
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE, cognito.OAuthScope.COGNITO_ADMIN],
        callbackUrls: config.callbackUrls,
        logoutUrls: config.logoutUrls,
      },
      readAttributes: new cognito.ClientAttributes().withStandardAttributes({
        email: true,
        emailVerified: true,
        nickname: true,
        phoneNumber: true,
        phoneNumberVerified: true,
      }),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, nickname: true, phoneNumber: true }),
    });

    this.domain = this.userPool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: config.domainPrefix } });
  }

  /** `https://<prefix>.auth.<region>.amazoncognito.com`, the API's COGNITO_DOMAIN. */
  get domainUrl(): string {
    return this.domain.baseUrl();
  }
}

/**
 * The identity pool: authenticated identities of this user pool's app client only, whose role
 * may read and write nothing but its own `identity/<identity id>/` folder of the uploads bucket.
 */
export class UploadIdentityPool extends Construct {
  readonly pool: cognito.CfnIdentityPool;
  readonly authenticatedRole: iam.Role;

  constructor(scope: Construct, id: string, identity: Identity, bucket: s3.IBucket) {
    super(scope, id);
    this.pool = new cognito.CfnIdentityPool(this, 'Pool', {
      allowUnauthenticatedIdentities: false,
      allowClassicFlow: false,
      cognitoIdentityProviders: [
        {
          clientId: identity.client.userPoolClientId,
          providerName: identity.userPool.userPoolProviderName,
          // Cognito checks the ID token was not revoked (logout) before it hands out credentials.
          serverSideTokenCheck: true,
        },
      ],
    });

    this.authenticatedRole = new iam.Role(this, 'AuthenticatedRole', {
      description: 'Signed-in users of the app: their own identity/ folder of the uploads bucket',
      assumedBy: new iam.FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': this.pool.ref },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
        'sts:AssumeRoleWithWebIdentity',
      ),
    });
    this.authenticatedRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [bucket.arnForObjects('identity/${cognito-identity.amazonaws.com:sub}/*')],
      }),
    );
    acknowledgeWildcard(
      this.authenticatedRole,
      `${nagArn(bucket)}/identity/<cognito-identity.amazonaws.com:sub>/*`,
      "The keys under the caller's own folder: the policy variable pins the folder to the caller's identity.",
    );

    new cognito.CfnIdentityPoolRoleAttachment(this, 'Roles', {
      identityPoolId: this.pool.ref,
      roles: { authenticated: this.authenticatedRole.roleArn },
    });
  }
}
