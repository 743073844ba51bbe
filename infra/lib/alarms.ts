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

/** What pages the operator: 5xx rate, p99 latency, unhealthy targets, DB CPU and free storage. */
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
    ];
    for (const alarm of all) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
  }
}
