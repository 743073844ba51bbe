import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AdminMfaGate } from './admin-mfa';
import { DeploymentConfig } from './config';

export const GROUPS = ['admin', 'moderator'] as const;

/**
 * The user pool the API fronts, its app client (no secret) and the Hosted UI domain. The password
 * policy is the one the API checks before calling Cognito (src/common/fields.ts).
 */
export class Identity extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  /** Keeps `admin` out of the tokens of a user without MFA. */
  readonly adminMfa: AdminMfaGate;

  constructor(scope: Construct, id: string, config: DeploymentConfig) {
    super(scope, id);
    const prod = config.stage === 'prod';

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      // Through SES from the configured address: Cognito's own sender has a small daily quota
      // that a few scripted sign-ups exhaust. dev without emailFrom keeps Cognito's sender.
      email: config.emailFrom === undefined ? undefined : sesEmail(config.emailFrom),
      userPoolName: `api-${config.stage}`,
      // Email is the username (SignUp sends Username = email).
      signInAliases: { email: true },
      signInCaseSensitive: false,
      selfSignUpEnabled: true,
      autoVerify: { email: true },
      // A changed email takes effect only once the new address is verified: until then the
      // user keeps signing in with, and receiving mail at, the old one.
      keepOriginal: { email: true },
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
      // prod: the Plus plan, for threat protection (adaptive authentication, compromised
      // credentials) enforced on sign-in; dev stays on Essentials (billed per user either way).
      featurePlan: prod ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      standardThreatProtectionMode: prod ? cognito.StandardThreatProtectionMode.FULL_FUNCTION : undefined,
      deletionProtection: prod,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.adminMfa = new AdminMfaGate(this, 'AdminMfa', this.userPool);
    for (const group of GROUPS) {
      new cognito.CfnUserPoolGroup(this, `Group-${group}`, { userPoolId: this.userPool.userPoolId, groupName: group });
    }
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is optional by design: users opt in to TOTP (POST /v1/users/me/mfa/totp); requiring it would lock out every account that has not set it up. Admins must have MFA: a pre token generation trigger leaves the admin group out of the tokens of a user without it (lib/admin-mfa.ts).',
    });
    if (!prod) {
      Validations.of(this.userPool).acknowledge(
        {
          id: 'AwsSolutions-COG8',
          reason:
            'dev runs on the Essentials plan: threat protection (Plus, billed per active user) protects real users, and dev has none.',
        },
        {
          id: 'AwsSolutions-COG3',
          reason: 'Threat protection needs the Plus plan, which prod runs with enforcement; dev has no real users to protect.',
        },
      );
    }

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

/** SES from the configured address, through the identity of its domain (verified in SES). */
function sesEmail(from: string): cognito.UserPoolEmail {
  return cognito.UserPoolEmail.withSES({
    fromEmail: from,
    fromName: 'cognito-nest-api',
    sesVerifiedDomain: from.slice(from.lastIndexOf('@') + 1),
  });
}

/**
 * The identity pool: authenticated identities of this user pool's app client only. Its role
 * grants nothing: nothing in the API reads what a client could write to S3 with it (uploads go
 * through the API's presigned POST, after the API's checks), so an open `identity/<id>/*`
 * folder would only be unchecked, unbounded storage. The pool stays so that clients that
 * already exchange tokens for an identity id keep working; see docs/infra.md.
 */
export class AppIdentityPool extends Construct {
  readonly pool: cognito.CfnIdentityPool;
  readonly authenticatedRole: iam.Role;

  constructor(scope: Construct, id: string, identity: Identity) {
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
      description: 'Signed-in users of the app: no AWS permission (uploads go through the API)',
      assumedBy: new iam.FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': this.pool.ref },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
        'sts:AssumeRoleWithWebIdentity',
      ),
    });

    new cognito.CfnIdentityPoolRoleAttachment(this, 'Roles', {
      identityPoolId: this.pool.ref,
      roles: { authenticated: this.authenticatedRole.roleArn },
    });
  }
}
