import { Duration } from 'aws-cdk-lib';

/** How long a deploy waits for the migration task (Lambda's ceiling is 15 minutes). */
export const MIGRATE_TIMEOUT = Duration.minutes(14);

/**
 * The deploy-time Lambda (Node.js, the runtime's own AWS SDK v3): starts the migration task
 * on Fargate and polls it until it stops. It throws (and so fails the deployment) when the
 * task cannot start or any of its containers did not exit 0, naming the container and why.
 */
export const MIGRATE_HANDLER = `
const { ECSClient, RunTaskCommand, DescribeTasksCommand } = require('@aws-sdk/client-ecs');
const ecs = new ECSClient({});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
exports.handler = async () => {
  const env = process.env;
  const run = await ecs.send(new RunTaskCommand({
    cluster: env.CLUSTER,
    taskDefinition: env.TASK_DEFINITION,
    launchType: 'FARGATE',
    count: 1,
    startedBy: 'deploy-migrate',
    networkConfiguration: {
      awsvpcConfiguration: { subnets: env.SUBNETS.split(','), securityGroups: [env.SECURITY_GROUP], assignPublicIp: 'DISABLED' },
    },
  }));
  const taskArn = run.tasks && run.tasks[0] && run.tasks[0].taskArn;
  if (!taskArn) {
    throw new Error('migration task did not start: ' + JSON.stringify(run.failures || []));
  }
  console.log(JSON.stringify({ msg: 'migration task started', taskArn }));
  for (;;) {
    await sleep(Number(env.POLL_MS || 10000));
    const out = await ecs.send(new DescribeTasksCommand({ cluster: env.CLUSTER, tasks: [taskArn] }));
    const task = out.tasks && out.tasks[0];
    if (!task || task.lastStatus !== 'STOPPED') {
      continue;
    }
    const failed = (task.containers || []).filter((c) => c.exitCode !== 0);
    if (failed.length > 0) {
      const why = failed.map((c) => c.name + ': ' + (c.exitCode === undefined ? 'did not run (' + (c.reason || 'no reason') + ')' : 'exit ' + c.exitCode));
      throw new Error('migration task failed (' + why.join('; ') + '; ' + (task.stoppedReason || '') + '), see the migrate and db-roles logs');
    }
    console.log(JSON.stringify({ msg: 'migration task succeeded', taskArn }));
    return { taskArn };
  }
};
`;
