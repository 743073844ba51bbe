import { CfnOutput, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { Alarms } from './alarms';
import { DeploymentConfig } from './config';
import { Database } from './database';
import { AppIdentityPool, Identity } from './identity';
import { Network } from './network';
import { ApiService } from './service';
import { Storage } from './storage';
import { natGatewayIps, WebAcls } from './waf';

export interface ApiStackProps extends StackProps {
  config: DeploymentConfig;
}

/** One stage of the API: network, database, identity, uploads, the service and its alarms. */
export class ApiStack extends Stack {
  readonly network: Network;
  readonly database: Database;
  readonly identity: Identity;
  readonly storage: Storage;
  readonly identityPool: AppIdentityPool;
  readonly api: ApiService;
  readonly webAcls: WebAcls;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('service', 'api');
    Tags.of(this).add('stage', config.stage);

    this.network = new Network(this, 'Network', config);
    this.database = new Database(this, 'Database', config, this.network);
    this.identity = new Identity(this, 'Identity', config);
    this.storage = new Storage(this, 'Storage', config);
    this.identityPool = new AppIdentityPool(this, 'IdentityPool', this.identity);
    this.api = new ApiService(this, 'Api', {
      config,
      network: this.network,
      database: this.database,
      identity: this.identity,
      storage: this.storage,
    });
    new Alarms(this, 'Alarms', config, this.api, this.database);
    this.webAcls = new WebAcls(
      this,
      'Waf',
      config,
      natGatewayIps(this.network.vpc),
      this.api.loadBalancer.loadBalancerArn,
      this.identity.userPool.userPoolArn,
    );

    const privateSubnets = this.network.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
    new CfnOutput(this, 'LoadBalancerDns', {
      value: this.api.loadBalancer.loadBalancerDnsName,
      description: 'Point the API hostname (CNAME/alias) here',
    });
    new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
    new CfnOutput(this, 'AppClientId', { value: this.identity.client.userPoolClientId });
    new CfnOutput(this, 'HostedUiDomain', { value: this.identity.domainUrl });
    new CfnOutput(this, 'IdentityPoolId', { value: this.identityPool.pool.ref });
    new CfnOutput(this, 'UploadsBucket', { value: this.storage.uploads.bucketName });
    new CfnOutput(this, 'DatabaseSecretArn', {
      description: 'The master user (migrations only)',
      value: this.database.masterSecret.secretArn,
    });
    new CfnOutput(this, 'AppDatabaseSecretArn', {
      description: 'The app role used by the API and reconcile (DML only, rotated)',
      value: this.database.appSecret.secretArn,
    });
    new CfnOutput(this, 'MigrateCommand', {
      description: 'Every deploy runs this task before the service rolls out; run it by hand only to retry or debug',
      value: [
        `aws ecs run-task --cluster ${this.api.cluster.clusterName} --task-definition ${this.api.migrationTask.family} --launch-type FARGATE`,
        ` --network-configuration "awsvpcConfiguration={subnets=[${privateSubnets.join(',')}],securityGroups=[${this.network.taskSecurityGroup.securityGroupId}],assignPublicIp=DISABLED}"`,
      ].join(''),
    });
  }
}
