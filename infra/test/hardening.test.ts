import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONTAINER_PORT } from '../lib/network';
import { APP_PRIVILEGES_ROLE, ROTATION_DAYS } from '../lib/database';
import { DB_ROLES_SQL } from '../lib/db-roles';
import { MIGRATE_HANDLER } from '../lib/migrate-handler';
import { APP_USER, HEALTH_CHECK } from '../lib/service';
import { ADMIN_MFA_HANDLER } from '../lib/admin-mfa';
import { AUTH_PATH_PREFIX, WAF_RATE_LIMIT } from '../lib/waf';
import { asList, container, envOf, only, PROD_CONTEXT, Resource, resources, statementsOf, synth } from './support/synth';

const dev = () => synth();
const prod = () => synth(PROD_CONTEXT);

describe('1. mail through SES', () => {
  it('the user pool sends from the configured address through SES (the identity of its domain)', () => {
    const pool = only(prod().template, 'AWS::Cognito::UserPool').Properties;
    expect(pool.EmailConfiguration).toEqual({
      EmailSendingAccount: 'DEVELOPER',
      From: 'cognito-nest-api <no-reply@ci.invalid>',
      SourceArn: 'arn:aws:ses:ap-northeast-2:123456789012:identity/ci.invalid',
    });
  });

  it("dev without emailFrom keeps Cognito's own sender, and takes SES when given one", () => {
    expect(only(dev().template, 'AWS::Cognito::UserPool').Properties.EmailConfiguration).toBeUndefined();
    const pool = only(synth({ emailFrom: 'dev-mail@mail.dev.invalid' }).template, 'AWS::Cognito::UserPool').Properties;
    expect(pool.EmailConfiguration).toMatchObject({
      EmailSendingAccount: 'DEVELOPER',
      SourceArn: expect.stringMatching(/identity\/mail\.dev\.invalid$/),
    });
  });
});

describe('2. prod refuses to synthesize without its settings', () => {
  it('cdk synth of prod without context stops with one line naming the first missing key', () => {
    const run = spawnSync(path.join(__dirname, '..', 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
      cwd: path.join(__dirname, '..'),
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ stage: 'prod', callbackUrls: 'https://app.ci.invalid/cb' }),
        CDK_OUTDIR: fs.mkdtempSync(path.join(os.tmpdir(), 'infra-bin-')),
      },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^infra: stage prod needs context "logoutUrls"/)]);
  });
});

describe('3. WAF and threat protection', () => {
  const acls = (s: ReturnType<typeof synth>) => resources(s.template, 'AWS::WAFv2::WebACL');
  const associationOf = (s: ReturnType<typeof synth>, aclId: string) =>
    Object.values(resources(s.template, 'AWS::WAFv2::WebACLAssociation')).find(
      (a) => JSON.stringify(a.Properties.WebACLArn) === JSON.stringify({ 'Fn::GetAtt': [aclId, 'Arn'] }),
    )!.Properties;
  const managed = (acl: Resource) =>
    acl.Properties.Rules.filter((r: any) => r.Statement.ManagedRuleGroupStatement).map(
      (r: any) => r.Statement.ManagedRuleGroupStatement.Name,
    );
  const rate = (acl: Resource) => acl.Properties.Rules.find((r: any) => r.Statement.RateBasedStatement);

  it('the ALB has a web ACL with the managed common, known-bad-inputs and IP-reputation rules', () => {
    const s = prod();
    const id = s.id(s.stack.webAcls.albAcl);
    const acl = acls(s)[id];
    expect(acl.Properties.Scope).toBe('REGIONAL');
    expect(managed(acl).sort()).toEqual([
      'AWSManagedRulesAmazonIpReputationList',
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
    ]);
    expect(associationOf(s, id).ResourceArn).toEqual({ Ref: s.id(s.stack.api.loadBalancer) });
  });

  it("the ALB's web ACL blocks an IP over the rate on /v1/auth/* only", () => {
    const s = prod();
    const rule = rate(acls(s)[s.id(s.stack.webAcls.albAcl)]);
    expect(rule.Action).toEqual({ Block: {} });
    expect(rule.Statement.RateBasedStatement).toMatchObject({
      Limit: WAF_RATE_LIMIT,
      AggregateKeyType: 'IP',
      ScopeDownStatement: {
        ByteMatchStatement: expect.objectContaining({ SearchString: AUTH_PATH_PREFIX, PositionalConstraint: 'STARTS_WITH' }),
      },
    });
    expect(AUTH_PATH_PREFIX).toBe('/v1/auth/');
  });

  it("the user pool has its own web ACL: the same managed rules, and a per-IP rate that spares the API's NAT addresses", () => {
    const s = prod();
    const id = s.id(s.stack.webAcls.userPoolAcl);
    const acl = acls(s)[id];
    expect(managed(acl)).toHaveLength(3);
    expect(associationOf(s, id).ResourceArn).toEqual({ 'Fn::GetAtt': [s.id(s.stack.identity.userPool), 'Arn'] });
    const scope = rate(acl).Statement.RateBasedStatement.ScopeDownStatement;
    const ipSetId = scope.NotStatement.Statement.IPSetReferenceStatement.Arn['Fn::GetAtt'][0];
    const addresses = resources(s.template, 'AWS::WAFv2::IPSet')[ipSetId].Properties.Addresses;
    const eips = Object.keys(resources(s.template, 'AWS::EC2::EIP'));
    expect(eips).toHaveLength(3);
    expect(addresses).toEqual(eips.map((eip) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [eip, 'PublicIp'] }, '/32']] })));
  });

  it('prod: the user pool is on the Plus plan with threat protection enforced; dev on Essentials', () => {
    prod().template.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
    const devPool = only(dev().template, 'AWS::Cognito::UserPool').Properties;
    expect(devPool.UserPoolTier).toBe('ESSENTIALS');
    expect(devPool.UserPoolAddOns).toBeUndefined();
  });
});

describe('4. a database failover does not recycle the fleet', () => {
  it('the ALB marks a target unhealthy only after 120 s or more of failed /health/ready checks', () => {
    const tg = only(prod().template, 'AWS::ElasticLoadBalancingV2::TargetGroup').Properties;
    expect(tg.HealthCheckPath).toBe('/health/ready');
    expect(tg.UnhealthyThresholdCount * tg.HealthCheckIntervalSeconds).toBeGreaterThanOrEqual(120);
    expect(tg.HealthCheckTimeoutSeconds).toBeLessThan(tg.HealthCheckIntervalSeconds);
    expect(tg).toMatchObject({ HealthCheckIntervalSeconds: HEALTH_CHECK.intervalSeconds, HealthyThresholdCount: 2 });
  });
});

describe('5. storage and monitoring', () => {
  const alarms = (s: ReturnType<typeof synth>) => Object.values(resources(s.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const byMetric = (s: ReturnType<typeof synth>, name: string) =>
    alarms(s).filter((a) => a.MetricName === name || JSON.stringify(a.Metrics ?? []).includes(`"${name}"`));

  it('the database storage autoscales up to a ceiling above its allocation', () => {
    const db = only(prod().template, 'AWS::RDS::DBInstance').Properties;
    expect(db.MaxAllocatedStorage).toBe(100);
    expect(db.MaxAllocatedStorage).toBeGreaterThan(Number(db.AllocatedStorage));
    expect(only(synth({ dbMaxAllocatedStorageGiB: '500' }).template, 'AWS::RDS::DBInstance').Properties.MaxAllocatedStorage).toBe(500);
  });

  it('alarms on database connections near max_connections (db.t4g.medium: 451, 80 %)', () => {
    expect(byMetric(prod(), 'DatabaseConnections')).toEqual([
      expect.objectContaining({ Namespace: 'AWS/RDS', Threshold: 360, ComparisonOperator: 'GreaterThanThreshold' }),
    ]);
  });

  it('alarms on freeable memory below 10 % of the instance', () => {
    expect(byMetric(prod(), 'FreeableMemory')).toEqual([
      expect.objectContaining({ Namespace: 'AWS/RDS', Threshold: 4 * 1024 ** 3 * 0.1, ComparisonOperator: 'LessThanThreshold' }),
    ]);
  });

  it('alarms on CPU credits for burstable classes only', () => {
    expect(byMetric(prod(), 'CPUCreditBalance')).toEqual([
      expect.objectContaining({ Namespace: 'AWS/RDS', ComparisonOperator: 'LessThanThreshold' }),
    ]);
    expect(byMetric(synth({ dbInstanceType: 'm7g.large' }), 'CPUCreditBalance')).toEqual([]);
  });

  it('alarms when fewer tasks run than desired for 5 minutes', () => {
    const s = prod();
    const [alarm] = byMetric(s, 'RunningTaskCount');
    expect(alarm).toMatchObject({ Threshold: 0, EvaluationPeriods: 5, DatapointsToAlarm: 5, ComparisonOperator: 'GreaterThanThreshold' });
    const metrics = alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric);
    expect(metrics.map((m: any) => m.MetricName).sort()).toEqual(['DesiredTaskCount', 'RunningTaskCount']);
    for (const m of metrics) {
      expect(m.Namespace).toBe('ECS/ContainerInsights');
      expect(m.Dimensions).toContainEqual({ Name: 'ServiceName', Value: { 'Fn::GetAtt': [s.id(s.stack.api.service), 'Name'] } });
    }
  });

  it('prod alarms page the configured address', () => {
    prod().template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'alarms@ci.invalid' });
  });
});

/** Runs the deploy-time handler's code against a stand-in ECS client that answers as given. */
async function runMigrateHandler(stopped: { containers: { name: string; exitCode?: number; reason?: string }[] } | 'no-start') {
  const sent: { name: string; input: any }[] = [];
  class Command {
    constructor(readonly input: any) {}
  }
  class RunTaskCommand extends Command {}
  class DescribeTasksCommand extends Command {}
  let polls = 0;
  class ECSClient {
    async send(command: Command) {
      sent.push({ name: command.constructor.name, input: command.input });
      if (command instanceof RunTaskCommand) {
        return stopped === 'no-start' ? { tasks: [], failures: [{ reason: 'RESOURCE:ENI' }] } : { tasks: [{ taskArn: 'arn:task/1' }] };
      }
      polls += 1;
      return {
        tasks: [
          polls < 2
            ? { lastStatus: 'RUNNING' }
            : { lastStatus: 'STOPPED', stoppedReason: 'Essential container exited', ...(stopped as object) },
        ],
      };
    }
  }
  const module = { exports: {} as { handler?: () => Promise<unknown> } };
  const env = {
    CLUSTER: 'arn:cluster',
    TASK_DEFINITION: 'arn:taskdef:7',
    SUBNETS: 'subnet-a,subnet-b',
    SECURITY_GROUP: 'sg-1',
    POLL_MS: '1',
  };
  const fakeRequire = (name: string) => {
    expect(name).toBe('@aws-sdk/client-ecs');
    return { ECSClient, RunTaskCommand, DescribeTasksCommand };
  };
  new Function('require', 'exports', 'process', 'console', MIGRATE_HANDLER)(fakeRequire, module.exports, { env }, { log: () => undefined });
  const result = await module.exports.handler!().then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, error: error.message }),
  );
  return { result, sent };
}

describe('6. migrations run at deploy time, before the service rolls out', () => {
  it('a trigger runs the migration handler, after the database and before the service', () => {
    const { template, stack, id } = prod();
    const [triggerId, trigger] = Object.entries(resources(template, 'Custom::Trigger'))[0] as [string, Resource & { DependsOn: string[] }];
    expect(trigger.DependsOn).toEqual(expect.arrayContaining([id(stack.database.instance), id(stack.api.migrationTask)]));
    const service = Object.values(template.findResources('AWS::ECS::Service'))[0] as { DependsOn: string[] };
    expect(service.DependsOn).toContain(triggerId);
    // The function's version (what the trigger invokes) changes with the task definition revision.
    const fn = resources(template, 'AWS::Lambda::Function')[id(stack.api.node.findChild('MigrateFunction'))].Properties;
    expect(fn.Environment.Variables.TASK_DEFINITION).toEqual({ Ref: id(stack.api.migrationTask) });
    expect(fn.Timeout).toBe(14 * 60);
    expect(JSON.stringify(trigger.Properties.HandlerArn)).toContain('Version');
  });

  it('a new image or migration task makes a new function version, so the trigger runs again; nothing else does', () => {
    const versionOf = (s: ReturnType<typeof synth>) => {
      const trigger = Object.values(resources(s.template, 'Custom::Trigger'))[0];
      return trigger.Properties.HandlerArn.Ref as string;
    };
    const fingerprintOf = (s: ReturnType<typeof synth>) =>
      resources(s.template, 'AWS::Lambda::Function')[s.id(s.stack.api.node.findChild('MigrateFunction'))].Properties.Environment.Variables
        .MIGRATION_TASK_FINGERPRINT;
    const base = dev();
    expect(fingerprintOf(base)).toMatch(/^[0-9a-f]{16}$/);
    // The image reference (its asset hash) is part of what the fingerprint covers.
    expect(JSON.stringify(container(base.template, 'api-dev-migrate', 'migrate').Image)).toMatch(/:[0-9a-f]{64}/);
    const changedTask = synth({ dbPoolMax: '7' });
    expect(fingerprintOf(changedTask)).not.toBe(fingerprintOf(base));
    expect(versionOf(changedTask)).not.toBe(versionOf(base));
    const unrelated = synth({ reconcileSchedule: 'rate(6 hours)' });
    expect(versionOf(unrelated)).toBe(versionOf(base));
  });

  it('the handler starts the migration task in the app subnets and returns once every container exited 0', async () => {
    const { result, sent } = await runMigrateHandler({
      containers: [
        { name: 'migrate', exitCode: 0 },
        { name: 'db-roles', exitCode: 0 },
      ],
    });
    expect(result).toEqual({ ok: true, value: { taskArn: 'arn:task/1' } });
    expect(sent[0]).toEqual({
      name: 'RunTaskCommand',
      input: expect.objectContaining({
        cluster: 'arn:cluster',
        taskDefinition: 'arn:taskdef:7',
        launchType: 'FARGATE',
        networkConfiguration: {
          awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' },
        },
      }),
    });
    expect(sent.slice(1).every((c) => c.name === 'DescribeTasksCommand')).toBe(true);
  });

  it('the handler fails the deployment when a container failed or never ran, naming it', async () => {
    const failed = await runMigrateHandler({
      containers: [
        { name: 'migrate', exitCode: 1 },
        { name: 'db-roles', reason: 'dependency' },
      ],
    });
    expect(failed.result).toEqual({
      ok: false,
      error: expect.stringMatching(/migration task failed \(migrate: exit 1; db-roles: did not run \(dependency\)/),
    });
    const none = await runMigrateHandler('no-start');
    expect(none.result).toEqual({ ok: false, error: expect.stringMatching(/did not start: .*RESOURCE:ENI/) });
  });

  it('the handler may run the migration task definition and watch tasks of this cluster only', () => {
    const { template, stack, id } = prod();
    const fnRole = (stack.api.node.findChild('MigrateFunction') as any).role;
    const statements = statementsOf(template, id(fnRole));
    const run = statements.find((s) => asList(s.Action).includes('ecs:RunTask'))!;
    expect(run.Resource).toEqual({ Ref: id(stack.api.migrationTask) });
    const pass = statements.find((s) => asList(s.Action).includes('iam:PassRole'))!;
    expect(asList(pass.Resource)).toHaveLength(2);
    const describe = statements.find((s) => asList(s.Action).includes('ecs:DescribeTasks'))!;
    expect(JSON.stringify(describe.Resource)).toContain(`:task/`);
    expect(JSON.stringify(describe.Resource)).toContain(id(stack.api.cluster));
  });
});

describe('7. the API connects as a DML-only application role', () => {
  it('the API and reconcile read the app secret; the migrate step the master; db-roles both', () => {
    const { template, stack, id } = prod();
    const app = `{"Ref":"${id(stack.database.appSecret)}"}`;
    for (const [family, name] of [
      ['api-prod', 'api'],
      ['api-prod-reconcile', 'reconcile'],
    ]) {
      const secrets = JSON.stringify(container(template, family, name).Secrets);
      expect(secrets).toContain(app);
      expect(secrets).not.toContain('DatabaseInstanceSecret');
    }
    expect(JSON.stringify(container(template, 'api-prod-migrate', 'migrate').Secrets)).not.toContain(app);
    const roles = container(template, 'api-prod-migrate', 'db-roles');
    expect(roles.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual([
      'APP_DB_PASSWORD',
      'APP_DB_USERNAME',
      'DB_PASSWORD',
      'DB_USERNAME',
    ]);
    expect(roles.DependsOn).toEqual([{ ContainerName: 'migrate', Condition: 'SUCCESS' }]);
  });

  it('the app secret is rotated by multi-user rotation, the master by single-user rotation, every 30 days', () => {
    const { template, stack, id } = prod();
    const schedules = Object.values(resources(template, 'AWS::SecretsManager::RotationSchedule')).map((r) => r.Properties);
    expect(schedules).toHaveLength(2);
    for (const s of schedules) {
      expect(s.RotationRules).toEqual({ ScheduleExpression: `rate(${ROTATION_DAYS} days)` });
      expect(s.RotateImmediatelyOnUpdate).toBe(false);
    }
    const mappings = template.toJSON().Mappings as Record<string, { aws: { applicationId: string } }>;
    const apps = Object.values(resources(template, 'AWS::Serverless::Application')).map(
      (a) => mappings[a.Properties.Location.ApplicationId['Fn::FindInMap'][0]].aws.applicationId,
    );
    expect(apps.some((l) => l.includes('SecretsManagerRDSPostgreSQLRotationMultiUser'))).toBe(true);
    expect(apps.some((l) => l.includes('SecretsManagerRDSPostgreSQLRotationSingleUser'))).toBe(true);
    const appSecret = resources(template, 'AWS::SecretsManager::Secret')[id(stack.database.appSecret)].Properties;
    expect(JSON.stringify(appSecret.GenerateSecretString.SecretStringTemplate)).toContain('\\"username\\":\\"api_app\\"');
    // masterarn: what the multi-user rotation connects with to create and alter the alternating users.
    expect(JSON.stringify(appSecret.GenerateSecretString.SecretStringTemplate)).toContain('masterarn');
  });

  it('the role SQL grants DML on tables and sequences and nothing that changes the schema', () => {
    const grants = DB_ROLES_SQL.filter((s) => /^(GRANT|ALTER DEFAULT)/.test(s)).join('\n');
    expect(grants).toMatch(/SELECT, INSERT, UPDATE, DELETE ON ALL TABLES/);
    expect(grants).toMatch(/ALTER DEFAULT PRIVILEGES FOR ROLE \$OWNER IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES/);
    expect(grants).not.toMatch(/\b(ALL PRIVILEGES|CREATE|TRUNCATE|REFERENCES|TRIGGER|SUPERUSER)\b/);
    expect(DB_ROLES_SQL).toContain('REVOKE ALL ON TABLE public.typeorm_migrations FROM $GROUP');
    expect(APP_PRIVILEGES_ROLE).toBe('api_app_rw');
  });
});

describe('8. network and containers', () => {
  it('the data subnets have a network ACL: 5432 from the app subnets only, replies back to them, the tier itself', () => {
    const { template, stack, id } = dev();
    const aclId = id(stack.network.dataAcl);
    const assoc = Object.values(resources(template, 'AWS::EC2::SubnetNetworkAclAssociation')).filter(
      (a) => JSON.stringify(a.Properties.NetworkAclId) === JSON.stringify({ Ref: aclId }),
    );
    expect(assoc.map((a) => a.Properties.SubnetId).sort()).toEqual(stack.network.vpc.isolatedSubnets.map((s) => ({ Ref: id(s) })).sort());
    const entries = Object.values(resources(template, 'AWS::EC2::NetworkAclEntry')).map((e) => e.Properties);
    const app = stack.network.vpc.privateSubnets.map((s) => s.ipv4CidrBlock);
    const data = stack.network.vpc.isolatedSubnets.map((s) => s.ipv4CidrBlock);
    const inbound = entries.filter((e) => !e.Egress && !data.includes(e.CidrBlock));
    expect(inbound.map((e) => [e.CidrBlock, e.PortRange])).toEqual(app.map((c) => [c, { From: 5432, To: 5432 }]));
    const outbound = entries.filter((e) => e.Egress && !data.includes(e.CidrBlock));
    expect(outbound.map((e) => [e.CidrBlock, e.PortRange])).toEqual(app.map((c) => [c, { From: 1024, To: 65535 }]));
    expect(entries.every((e) => e.RuleAction === 'allow' && e.CidrBlock !== '0.0.0.0/0')).toBe(true);
  });

  it('prod with Redis: its port from the app subnets too', () => {
    const { template, stack } = prod();
    const app = stack.network.vpc.privateSubnets.map((s) => s.ipv4CidrBlock);
    const ports = Object.values(resources(template, 'AWS::EC2::NetworkAclEntry'))
      .map((e) => e.Properties)
      .filter((e) => !e.Egress && app.includes(e.CidrBlock))
      .map((e) => e.PortRange.From);
    expect([...new Set(ports)].sort()).toEqual([5432, 6379]);
  });

  it('an S3 gateway endpoint in both stages; interface endpoints for ECR, Secrets Manager, Logs and STS in prod only', () => {
    const serviceOf = (e: Resource) =>
      JSON.stringify(e.Properties.ServiceName)
        .replace(/.*com\.amazonaws\.[^.]*\.|\{.*?\}|["\]\[]/g, '')
        .replace(/^\.|,/g, '');
    const endpoints = (s: ReturnType<typeof synth>) => Object.values(resources(s.template, 'AWS::EC2::VPCEndpoint'));
    expect(endpoints(dev()).map((e) => e.Properties.VpcEndpointType)).toEqual(['Gateway']);
    const p = endpoints(prod());
    expect(p.filter((e) => e.Properties.VpcEndpointType === 'Gateway')).toHaveLength(1);
    const iface = p.filter((e) => e.Properties.VpcEndpointType === 'Interface');
    expect(iface.every((e) => e.Properties.PrivateDnsEnabled === true)).toBe(true);
    expect(
      iface.map((e) => JSON.stringify(e.Properties.ServiceName).match(/(ecr\.api|ecr\.dkr|secretsmanager|logs|sts)"/)?.[1]).sort(),
    ).toEqual(['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 'sts']);
    expect(serviceOf).toBeDefined();
  });

  it('every container of the app image runs read-only as the non-root node user, with a writable /tmp', () => {
    const { template } = prod();
    expect(APP_USER).toBe('1000:1000');
    for (const [family, name] of [
      ['api-prod', 'api'],
      ['api-prod-migrate', 'migrate'],
      ['api-prod-migrate', 'db-roles'],
      ['api-prod-reconcile', 'reconcile'],
    ]) {
      const c = container(template, family, name);
      expect(c).toMatchObject({ ReadonlyRootFilesystem: true, User: APP_USER });
      expect(c.MountPoints).toEqual([{ SourceVolume: 'tmp', ContainerPath: '/tmp', ReadOnly: false }]);
    }
    const def = Object.values(resources(template, 'AWS::ECS::TaskDefinition')).find((d) => d.Properties.Family === 'api-prod')!;
    expect(def.Properties.Volumes).toEqual([{ Name: 'tmp' }]);
    expect(container(template, 'api-prod', 'api').PortMappings).toEqual([{ ContainerPort: CONTAINER_PORT, Protocol: 'tcp' }]);
  });

  it('the ADOT collector image is pinned by digest', () => {
    expect(container(prod().template, 'api-prod', 'otel').Image).toMatch(
      /^public\.ecr\.aws\/aws-observability\/aws-otel-collector(:[\w.-]+)?@sha256:[0-9a-f]{64}$/,
    );
  });
});

describe('9. identity pool, uploads and reconcile permissions', () => {
  it('the uploads bucket refuses writes outside uploads/ to every principal, and expires the old identity/ folder', () => {
    const { template, stack, id } = dev();
    const policy = Object.values(resources(template, 'AWS::S3::BucketPolicy')).find(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: id(stack.storage.uploads) }),
    )!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:PutObject',
        NotResource: [
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(stack.storage.uploads), 'Arn'] }, '/uploads/*']] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(stack.storage.uploads), 'Arn'] }, '/attachments/*']] },
        ],
      }),
    );
    const bucket = resources(template, 'AWS::S3::Bucket')[id(stack.storage.uploads)].Properties;
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ Prefix: 'identity/', ExpirationInDays: 1 }));
  });
});

describe('10. dev is destroyable, email changes wait for verification', () => {
  it('dev: both buckets are emptied and deleted by cdk destroy; prod keeps them', () => {
    const d = dev();
    const auto = Object.values(d.template.findResources('Custom::S3AutoDeleteObjects')).map((r: any) => r.Properties.BucketName);
    expect(auto.sort()).toEqual([{ Ref: d.id(d.stack.storage.logs) }, { Ref: d.id(d.stack.storage.uploads) }].sort());
    for (const bucket of [d.stack.storage.logs, d.stack.storage.uploads]) {
      expect((d.template.toJSON().Resources[d.id(bucket)] as { DeletionPolicy: string }).DeletionPolicy).toBe('Delete');
    }
    const p = prod();
    expect(p.template.findResources('Custom::S3AutoDeleteObjects')).toEqual({});
    for (const bucket of [p.stack.storage.logs, p.stack.storage.uploads]) {
      expect((p.template.toJSON().Resources[p.id(bucket)] as { DeletionPolicy: string }).DeletionPolicy).toBe('Retain');
    }
  });

  it('the user pool keeps the original email until the new one is verified', () => {
    for (const s of [dev(), prod()]) {
      s.template.hasResourceProperties('AWS::Cognito::UserPool', {
        UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
      });
    }
  });
});

/** Runs the pre token generation handler against a stand-in Cognito client. */
async function runAdminMfa(groups: string[], answer: { UserMFASettingList?: string[] } | Error) {
  const calls: any[] = [];
  class AdminGetUserCommand {
    constructor(readonly input: any) {}
  }
  class CognitoIdentityProviderClient {
    async send(command: AdminGetUserCommand) {
      calls.push(command.input);
      if (answer instanceof Error) {
        throw answer;
      }
      return answer;
    }
  }
  const module = { exports: {} as { handler?: (e: any) => Promise<any> } };
  const fakeRequire = () => ({ CognitoIdentityProviderClient, AdminGetUserCommand });
  new Function('require', 'exports', 'console', ADMIN_MFA_HANDLER)(fakeRequire, module.exports, {
    log: () => undefined,
    error: () => undefined,
  });
  const event = {
    userPoolId: 'ap-northeast-2_pool',
    userName: 'user-1',
    request: {
      userAttributes: { sub: 'sub-1' },
      groupConfiguration: { groupsToOverride: groups, iamRolesToApply: [], preferredRole: null },
    },
    response: { claimsOverrideDetails: null },
  };
  const out = await module.exports.handler!(event);
  return { calls, groups: out.response.claimsOverrideDetails?.groupOverrideDetails?.groupsToOverride as string[] | undefined };
}

describe('10. admins must use MFA', () => {
  it('a pre token generation trigger on the pool may read users and nothing else', () => {
    const { template, stack, id } = prod();
    const fnId = id(stack.identity.adminMfa.handler);
    const pool = only(template, 'AWS::Cognito::UserPool').Properties;
    expect(pool.LambdaConfig).toEqual({ PreTokenGeneration: { 'Fn::GetAtt': [fnId, 'Arn'] } });
    const statements = statementsOf(template, id(stack.identity.adminMfa.handler.role!));
    expect(statements.map((s) => s.Action)).toEqual(['cognito-idp:AdminGetUser']);
  });

  it('leaves admin out of the tokens of an admin without MFA, and keeps the other groups', async () => {
    const { calls, groups } = await runAdminMfa(['admin', 'moderator'], { UserMFASettingList: [] });
    expect(calls).toEqual([{ UserPoolId: 'ap-northeast-2_pool', Username: 'user-1' }]);
    expect(groups).toEqual(['moderator']);
  });

  it('keeps admin for an admin with TOTP', async () => {
    expect((await runAdminMfa(['admin'], { UserMFASettingList: ['SOFTWARE_TOKEN_MFA'] })).groups).toBeUndefined();
  });

  it('asks Cognito nothing for a user outside admin', async () => {
    const { calls, groups } = await runAdminMfa(['moderator'], new Error('must not be called'));
    expect(calls).toEqual([]);
    expect(groups).toBeUndefined();
  });

  it('fails closed for the group, never for the sign-in, when Cognito cannot be asked', async () => {
    const { groups } = await runAdminMfa(['admin'], Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' }));
    expect(groups).toEqual([]);
  });
});

describe('inline Lambda code', () => {
  it("fits CloudFormation's 4,096-character limit for inline function code", () => {
    const { template } = prod();
    const inline = Object.values(resources(template, 'AWS::Lambda::Function'))
      .map((f) => f.Properties.Code.ZipFile)
      .filter((code): code is string => typeof code === 'string');
    expect(inline).toEqual(expect.arrayContaining([MIGRATE_HANDLER, ADMIN_MFA_HANDLER]));
    for (const code of inline) {
      expect(code.length).toBeLessThanOrEqual(4096);
    }
  });
});
