import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { DbStorageType, DeploymentConfig } from './config';
import { Network, POSTGRES_PORT } from './network';

export const DATABASE_NAME = 'api';

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
      credentials: rds.Credentials.fromGeneratedSecret('api_owner'),
      parameterGroup: parameters,
      storageType: STORAGE_TYPES[config.db.storageType],
      allocatedStorage: config.db.allocatedStorageGiB,
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

    Validations.of(this.instance).acknowledge(
      {
        id: 'AwsSolutions-RDS11',
        reason:
          'The default port 5432: the database is in isolated subnets and its security group admits only the API tasks; a moved port hides nothing from them.',
      },
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'No automatic rotation: the tasks read the password once at start (ECS secrets), so a single-user rotation would break every new connection until a redeploy. Rotate by updating the secret and forcing a new deployment.',
      },
    );
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
