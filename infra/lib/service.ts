import * as path from 'node:path';
import { ArnFormat, CfnElement, CfnParameter, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DeploymentConfig } from './config';
import { DATABASE_NAME, Database } from './database';
import { Identity } from './identity';
import { CONTAINER_PORT, Network, REDIS_PORT } from './network';
import { ATTACHMENTS_PREFIX, COGNITO_IAM_ACTIONS, UPLOADS_PREFIX } from './permissions';
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

/** Where the init container puts the RDS CA bundle for the app (DB_SSL_CA). */
export const RDS_CA_PATH = '/rds-ca/global-bundle.pem';
const RDS_CA_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';
const ADOT_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0';
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

    const secret = database.instance.secret!;
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
    const dbSecrets = {
      DB_USERNAME: ecs.Secret.fromSecretsManager(secret, 'username'),
      DB_PASSWORD: ecs.Secret.fromSecretsManager(secret, 'password'),
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
      description: 'The API and its reconcile job: the Cognito admin calls and the uploads bucket',
    });
    this.grantAppPermissions(identity, storage);

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
    this.addRdsCa(this.taskDefinition, api, image, logging);
    this.addCollector(this.taskDefinition, api, logging);

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
        path: '/health/ready',
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
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
      environment: dbEnvironment,
      secrets: dbSecrets,
      logging: logging('migrate'),
    });
    this.addRdsCa(this.migrationTask, migrate, image, logging);

    // ---- scheduled reconcile task ------------------------------------------------------------
    this.reconcileTask = new ecs.FargateTaskDefinition(this, 'ReconcileTaskDef', {
      family: `api-${config.stage}-reconcile`,
      cpu: 256,
      memoryLimitMiB: 512,
      taskRole: this.taskRole,
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
    });
    this.addRdsCa(this.reconcileTask, reconcile, image, logging);
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
        actions: ['s3:ListBucket'],
        resources: [storage.uploads.bucketArn],
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

  /**
   * The RDS CA bundle for DB_SSL_CA: the image ships none, so a short init container fetches
   * AWS's bundle (over HTTPS) into a task volume that the app reads, before the app starts.
   */
  private addRdsCa(
    def: ecs.FargateTaskDefinition,
    app: ecs.ContainerDefinition,
    image: ecs.ContainerImage,
    logging: (prefix: string) => ecs.LogDriver,
  ): void {
    def.addVolume({ name: 'rds-ca' });
    const init = def.addContainer('rds-ca', {
      containerName: 'rds-ca',
      image,
      essential: false,
      // The volume is root-owned; the file is written 0644 so the app's non-root user reads it.
      user: '0',
      command: [
        'node',
        '-e',
        `fetch(${JSON.stringify(RDS_CA_URL)}, { signal: AbortSignal.timeout(20000) })` +
          `.then(async (r) => { if (!r.ok) throw new Error('HTTP ' + r.status); const pem = await r.text();` +
          ` if (!pem.includes('BEGIN CERTIFICATE')) throw new Error('not a PEM bundle');` +
          ` require('fs').writeFileSync(${JSON.stringify(RDS_CA_PATH)}, pem, { mode: 0o644 }); })` +
          `.then(() => process.exit(0), (e) => { console.error('rds-ca: ' + e.message); process.exit(1); })`,
      ],
      logging: logging('rds-ca'),
      readonlyRootFilesystem: true,
    });
    init.addMountPoints({ sourceVolume: 'rds-ca', containerPath: path.posix.dirname(RDS_CA_PATH), readOnly: false });
    app.addMountPoints({ sourceVolume: 'rds-ca', containerPath: path.posix.dirname(RDS_CA_PATH), readOnly: true });
    app.addContainerDependencies({ container: init, condition: ecs.ContainerDependencyCondition.SUCCESS });
  }

  /** The ADOT collector: OTLP on localhost, traces to X-Ray, metrics to CloudWatch (EMF). */
  private addCollector(def: ecs.FargateTaskDefinition, app: ecs.ContainerDefinition, logging: (prefix: string) => ecs.LogDriver): void {
    const collector = def.addContainer('otel', {
      containerName: 'otel',
      image: ecs.ContainerImage.fromRegistry(ADOT_IMAGE),
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
