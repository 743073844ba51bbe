import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DbStorageType, DeploymentConfig } from './config';
import { Network, POSTGRES_PORT } from './network';

export const DATABASE_NAME = 'api';
/** The master user: owns the schema, runs the migrations, nothing else connects as it. */
export const MASTER_USERNAME = 'api_owner';
/** The API's login role (rotation alternates it with `api_app_clone`). */
export const APP_USERNAME = 'api_app';
/** The NOLOGIN role holding the API's privileges (DML on the app's tables); logins are members. */
export const APP_PRIVILEGES_ROLE = 'api_app_rw';
/** How often Secrets Manager rotates the passwords. */
export const ROTATION_DAYS = 30;

/** Kept out of generated passwords: they pass through SQL (ALTER ROLE ... PASSWORD) and URLs. */
const EXCLUDED_PASSWORD_CHARACTERS = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\';

const STORAGE_TYPES: Record<DbStorageType, rds.StorageType> = {
  gp2: rds.StorageType.GP2,
  gp3: rds.StorageType.GP3,
  io1: rds.StorageType.IO1,
  io2: rds.StorageType.IO2,
};

/** RDS PostgreSQL in the isolated subnets, encrypted, TLS only, credentials in Secrets Manager. */
export class Database extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly allocatedStorageGiB: number;
  /** The master user's secret: the migration task only. */
  readonly masterSecret: secretsmanager.ISecret;
  /** The API's and reconcile's own credentials (DML only), rotated with two alternating users. */
  readonly appSecret: rds.DatabaseSecret;

  constructor(scope: Construct, id: string, config: DeploymentConfig, network: Network) {
    super(scope, id);
    const prod = config.stage === 'prod';
    const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 });

    const parameters = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'TLS only',
      // Any connection without TLS is refused by the server, whatever the client asks for.
      parameters: { 'rds.force_ssl': '1' },
    });

    this.allocatedStorageGiB = config.db.allocatedStorageGiB;
    const instanceIdentifier = `api-${config.stage}`;
    // The log group RDS exports to, made here with a retention (cloudwatchLogsRetention would
    // add a custom-resource Lambda to set it afterwards).
    const logGroup = new logs.LogGroup(this, 'PostgresLog', {
      logGroupName: `/aws/rds/instance/${instanceIdentifier}/postgresql`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: new ec2.InstanceType(config.db.instanceType),
      vpc: network.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [network.databaseSecurityGroup],
      port: POSTGRES_PORT,
      databaseName: DATABASE_NAME,
      // Generated and kept in Secrets Manager: username, password, host, port, dbname.
      credentials: rds.Credentials.fromGeneratedSecret(MASTER_USERNAME),
      parameterGroup: parameters,
      storageType: STORAGE_TYPES[config.db.storageType],
      allocatedStorage: config.db.allocatedStorageGiB,
      // Storage autoscaling: RDS grows the volume (without downtime) when free space runs low.
      maxAllocatedStorage: config.db.maxAllocatedStorageGiB,
      iops: config.db.iops,
      storageEncrypted: true,
      multiAz: config.db.multiAz,
      backupRetention: Duration.days(config.db.backupRetentionDays),
      deletionProtection: config.db.deletionProtection,
      removalPolicy: prod ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      autoMinorVersionUpgrade: true,
      instanceIdentifier,
      cloudwatchLogsExports: ['postgresql'],
      enablePerformanceInsights: prod,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      publiclyAccessible: false,
    });

    this.instance.node.addDependency(logGroup);
    this.masterSecret = this.instance.secret!;

    // The role itself is created (and its privileges granted) by the migration task from this
    // secret, after the migrations: see lib/db-roles.ts.
    this.appSecret = new rds.DatabaseSecret(this, 'AppSecret', {
      username: APP_USERNAME,
      dbname: DATABASE_NAME,
      masterSecret: this.masterSecret,
      excludeCharacters: EXCLUDED_PASSWORD_CHARACTERS,
    });
    const attached = this.appSecret.attach(this.instance);

    const rotationSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    // Master: single-user rotation is safe, as only the short one-off migration task uses it
    // (it reads the secret when it starts).
    // Neither rotates at creation (the default): the first deploy's migration task reads the
    // master secret and creates the app role meanwhile. The first rotation is 30 days later.
    this.instance.addRotationSingleUser({
      automaticallyAfter: Duration.days(ROTATION_DAYS),
      rotateImmediatelyOnUpdate: false,
      vpcSubnets: rotationSubnets,
      excludeCharacters: EXCLUDED_PASSWORD_CHARACTERS,
    });
    // App: multi-user rotation. Each rotation switches the secret between api_app and
    // api_app_clone, and the user the running tasks started with keeps its password until the
    // rotation after: a task reads the secret once, at start, and must restart within 30 days.
    this.instance.addRotationMultiUser('AppRotation', {
      secret: attached,
      automaticallyAfter: Duration.days(ROTATION_DAYS),
      rotateImmediatelyOnUpdate: false,
      vpcSubnets: rotationSubnets,
      excludeCharacters: EXCLUDED_PASSWORD_CHARACTERS,
    });

    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'The default port 5432: the database is in isolated subnets and its security group admits only the API tasks; a moved port hides nothing from them.',
    });
    if (!config.db.multiAz) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason: 'dev runs a single-AZ instance to halve its cost; prod is Multi-AZ.',
      });
    }
    if (!config.db.deletionProtection) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: 'dev is disposable (cdk destroy must work); prod has deletion protection.',
      });
    }
  }
}
