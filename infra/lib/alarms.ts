import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DeploymentConfig } from './config';
import { Database } from './database';
import { ApiService } from './service';

/** Nominal memory (GiB) of the instance sizes RDS offers, for the connection and memory alarms. */
const SIZE_MEMORY_GIB: Record<string, number> = {
  micro: 1,
  small: 2,
  medium: 4,
  large: 8,
  xlarge: 16,
  '2xlarge': 32,
  '4xlarge': 64,
  '8xlarge': 128,
  '12xlarge': 192,
  '16xlarge': 256,
};

/** The memory of an instance type such as t4g.medium (m and r classes: large = 8 / 16 GiB...). */
export function instanceMemoryGiB(instanceType: string): number {
  const [family, size] = instanceType.split('.');
  const base = SIZE_MEMORY_GIB[size] ?? 4;
  // r classes have twice the memory of m/t classes at the same size.
  return family.startsWith('r') || family.startsWith('x') ? base * 2 : base;
}

/** RDS PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000). */
export function maxConnections(instanceType: string): number {
  return Math.min(Math.floor((instanceMemoryGiB(instanceType) * 1024 ** 3) / 9_531_392), 5000);
}

/**
 * What pages the operator: 5xx rate, p99 latency, unhealthy targets, running tasks below the
 * desired count, and the database's CPU (and CPU credits on burstable classes), free storage,
 * connections and freeable memory.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, config: DeploymentConfig, service: ApiService, database: Database) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: `api-${config.stage} alarms`, enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and the messages carry only alarm state (no user data).',
    });
    if (config.alarmEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }
    const notify = new actions.SnsAction(this.topic);
    const alb = service.loadBalancer.metrics;
    const tg = service.targetGroup.metrics;
    const minute = Duration.minutes(1);

    const errorRate = new cloudwatch.MathExpression({
      label: '5xx per 100 requests',
      expression: '100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / FILL(requests, 1)',
      usingMetrics: {
        target5xx: alb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute, statistic: 'Sum' }),
        elb5xx: alb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute, statistic: 'Sum' }),
        requests: alb.requestCount({ period: minute, statistic: 'Sum' }),
      },
      period: minute,
    });
    const all: cloudwatch.Alarm[] = [
      errorRate.createAlarm(this, 'ErrorRate', {
        alarmDescription: 'More than 5 % of requests answered 5xx (by the API or the load balancer) in 3 of 5 minutes',
        threshold: 5,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      tg.targetResponseTime({ period: minute, statistic: 'p99' }).createAlarm(this, 'LatencyP99', {
        alarmDescription: 'p99 response time above 1 s for 5 minutes',
        threshold: 1,
        evaluationPeriods: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      tg.unhealthyHostCount({ period: minute, statistic: 'Maximum' }).createAlarm(this, 'UnhealthyTargets', {
        alarmDescription: 'A target failed /health/ready for 3 minutes (database or JWKS unreachable, or a crash loop)',
        threshold: 1,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      database.instance.metricCPUUtilization({ period: Duration.minutes(5) }).createAlarm(this, 'DbCpu', {
        alarmDescription: 'Database CPU above 80 % for 15 minutes',
        threshold: 80,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      database.instance.metricFreeStorageSpace({ period: Duration.minutes(5), statistic: 'Minimum' }).createAlarm(this, 'DbFreeStorage', {
        alarmDescription: 'Database free storage below 10 % of its allocation',
        threshold: database.allocatedStorageGiB * 1024 ** 3 * 0.1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data from the instance is itself a problem.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
      ...this.databaseCapacity(config, database),
      this.runningBelowDesired(service),
    ];
    for (const alarm of all) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
  }

  private databaseCapacity(config: DeploymentConfig, database: Database): cloudwatch.Alarm[] {
    const period = Duration.minutes(5);
    const instanceType = config.db.instanceType;
    const memoryBytes = instanceMemoryGiB(instanceType) * 1024 ** 3;
    const alarms = [
      database.instance.metricDatabaseConnections({ period, statistic: 'Maximum' }).createAlarm(this, 'DbConnections', {
        alarmDescription: `Database connections above 80 % of max_connections (about ${maxConnections(instanceType)} on ${instanceType}) for 10 minutes`,
        threshold: Math.floor(maxConnections(instanceType) * 0.8),
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      database.instance.metricFreeableMemory({ period, statistic: 'Minimum' }).createAlarm(this, 'DbFreeableMemory', {
        alarmDescription: `Database freeable memory below 10 % of the ${instanceType}'s memory for 15 minutes`,
        threshold: memoryBytes * 0.1,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    ];
    if (instanceType.startsWith('t')) {
      alarms.push(
        database.instance.metric('CPUCreditBalance', { period, statistic: 'Minimum' }).createAlarm(this, 'DbCpuCredits', {
          alarmDescription: `Burstable ${instanceType}: CPU credit balance below ${CPU_CREDIT_FLOOR} for 15 minutes (it is about to be throttled, or billed for surplus credits)`,
          threshold: CPU_CREDIT_FLOOR,
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    return alarms;
  }

  /** Container Insights' RunningTaskCount below DesiredTaskCount for 5 minutes in a row. */
  private runningBelowDesired(service: ApiService): cloudwatch.Alarm {
    const minute = Duration.minutes(1);
    const dimensionsMap = { ClusterName: service.cluster.clusterName, ServiceName: service.service.serviceName };
    const metric = (metricName: string) =>
      new cloudwatch.Metric({ namespace: 'ECS/ContainerInsights', metricName, dimensionsMap, period: minute, statistic: 'Minimum' });
    return new cloudwatch.MathExpression({
      label: 'desired - running tasks',
      expression: 'FILL(desired, 0) - FILL(running, 0)',
      usingMetrics: { desired: metric('DesiredTaskCount'), running: metric('RunningTaskCount') },
      period: minute,
    }).createAlarm(this, 'TasksBelowDesired', {
      alarmDescription: 'Fewer tasks running than desired for 5 minutes (tasks failing to start or being replaced in a loop)',
      threshold: 0,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/** CPU credits left below which a burstable database is paged (a t4g.micro earns 12 an hour). */
const CPU_CREDIT_FLOOR = 20;
