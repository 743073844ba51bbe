import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DeploymentConfig } from './config';

export const CONTAINER_PORT = 3000;
export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;

/** Rate-limit counters are per process without Redis: a shared store once several tasks may run. */
export function needsRedis(config: DeploymentConfig): boolean {
  return config.service.maxTasks > 1;
}

/**
 * The VPC and the security groups between its tiers: internet -> ALB (443, 80 to redirect),
 * ALB -> tasks (container port only), tasks -> RDS (5432) and Redis (6379) only.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly albSecurityGroup: ec2.SecurityGroup;
  readonly taskSecurityGroup: ec2.SecurityGroup;
  readonly databaseSecurityGroup: ec2.SecurityGroup;
  /** Only when more than one task may run: Redis then holds the shared rate-limit counters. */
  readonly redisSecurityGroup?: ec2.SecurityGroup;
  readonly dataAcl: ec2.NetworkAcl;
  /** prod only. */
  readonly interfaceEndpoints: ec2.InterfaceVpcEndpoint[] = [];

  constructor(scope: Construct, id: string, config: DeploymentConfig) {
    super(scope, id);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(config.vpcCidr),
      // Named zones, not a count: a count makes CDK look the region's zones up (no offline synth).
      availabilityZones: config.availabilityZones,
      natGateways: config.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSg', {
      vpc: this.vpc,
      description: 'Load balancer: HTTPS (and HTTP to redirect) from the internet',
      allowAllOutbound: false,
    });
    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSg', {
      vpc: this.vpc,
      description: 'API tasks: the container port from the load balancer only',
      allowAllOutbound: false,
    });
    this.databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSg', {
      vpc: this.vpc,
      description: 'PostgreSQL: 5432 from the API tasks only',
      allowAllOutbound: false,
    });
    if (needsRedis(config)) {
      this.redisSecurityGroup = new ec2.SecurityGroup(this, 'RedisSg', {
        vpc: this.vpc,
        description: 'Redis: 6379 from the API tasks only',
        allowAllOutbound: false,
      });
      this.taskSecurityGroup.addEgressRule(this.redisSecurityGroup, ec2.Port.tcp(REDIS_PORT), 'to Redis');
      this.redisSecurityGroup.addIngressRule(this.taskSecurityGroup, ec2.Port.tcp(REDIS_PORT), 'from the API tasks');
    }

    this.albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from the internet');
    this.albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP from the internet, redirected to HTTPS');
    this.albSecurityGroup.addEgressRule(this.taskSecurityGroup, ec2.Port.tcp(CONTAINER_PORT), 'to the API tasks');
    this.taskSecurityGroup.addIngressRule(this.albSecurityGroup, ec2.Port.tcp(CONTAINER_PORT), 'from the load balancer');

    // Cognito, S3, ECR, Secrets Manager, CloudWatch and X-Ray: all HTTPS (NAT gateway or endpoints).
    this.taskSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over HTTPS (through the NAT gateway)');
    this.taskSecurityGroup.addEgressRule(this.databaseSecurityGroup, ec2.Port.tcp(POSTGRES_PORT), 'to PostgreSQL');
    this.databaseSecurityGroup.addIngressRule(this.taskSecurityGroup, ec2.Port.tcp(POSTGRES_PORT), 'from the API tasks');

    this.dataAcl = this.dataSubnetAcl(config);
    // S3 without the NAT gateway (a gateway endpoint has no hourly price).
    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    if (config.stage === 'prod') {
      this.interfaceEndpoints = this.addInterfaceEndpoints(config.vpcCidr);
    }
  }

  /**
   * The data subnets' network ACL, a second wall behind the security groups: PostgreSQL (and
   * Redis) from the app subnets only, the replies back to them, and the tier's own traffic
   * (ElastiCache replicates primary to replica across these subnets). Everything else, in and
   * out, meets the ACL's implicit deny.
   */
  private dataSubnetAcl(config: DeploymentConfig): ec2.NetworkAcl {
    const acl = new ec2.NetworkAcl(this, 'DataAcl', {
      vpc: this.vpc,
      subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    });
    const appCidrs = this.vpc.privateSubnets.map((s) => s.ipv4CidrBlock);
    const dataCidrs = this.vpc.isolatedSubnets.map((s) => s.ipv4CidrBlock);
    const ports = [POSTGRES_PORT, ...(needsRedis(config) ? [REDIS_PORT] : [])];
    let rule = 100;
    appCidrs.forEach((cidr, i) => {
      for (const port of ports) {
        acl.addEntry(`In${port}FromApp${i}`, {
          ruleNumber: rule++,
          cidr: ec2.AclCidr.ipv4(cidr),
          traffic: ec2.AclTraffic.tcpPort(port),
          direction: ec2.TrafficDirection.INGRESS,
        });
      }
      acl.addEntry(`ReturnToApp${i}`, {
        ruleNumber: 100 + i,
        cidr: ec2.AclCidr.ipv4(cidr),
        traffic: ec2.AclTraffic.tcpPortRange(1024, 65535),
        direction: ec2.TrafficDirection.EGRESS,
      });
    });
    dataCidrs.forEach((cidr, i) => {
      for (const direction of [ec2.TrafficDirection.INGRESS, ec2.TrafficDirection.EGRESS]) {
        acl.addEntry(`${direction === ec2.TrafficDirection.INGRESS ? 'In' : 'Out'}WithinData${i}`, {
          ruleNumber: 200 + i,
          cidr: ec2.AclCidr.ipv4(cidr),
          traffic: ec2.AclTraffic.allTraffic(),
          direction,
        });
      }
    });
    Validations.of(acl).acknowledge({
      id: 'AwsSolutions-VPC3',
      reason:
        'Deliberate: the data subnets get a network ACL as a second wall behind the security groups (PostgreSQL and Redis from the app subnets only).',
    });
    return acl;
  }

  /**
   * prod: ECR (API and image layers), Secrets Manager, CloudWatch Logs and STS reached without
   * the NAT gateway, from the app subnets (private DNS: the SDKs need no setting).
   */
  private addInterfaceEndpoints(vpcCidr: string): ec2.InterfaceVpcEndpoint[] {
    const securityGroup = new ec2.SecurityGroup(this, 'EndpointSg', {
      vpc: this.vpc,
      description: 'Interface endpoints: HTTPS from inside the VPC',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(ec2.Peer.ipv4(vpcCidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
    const services: [string, ec2.InterfaceVpcEndpointAwsService][] = [
      ['Ecr', ec2.InterfaceVpcEndpointAwsService.ECR],
      ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ['Sts', ec2.InterfaceVpcEndpointAwsService.STS],
    ];
    return services.map(([id, service]) =>
      this.vpc.addInterfaceEndpoint(id, {
        service,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        privateDnsEnabled: true,
        securityGroups: [securityGroup],
        open: false,
      }),
    );
  }
}
