import { App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ApiStack } from './api-stack';
import { loadConfig } from './config';

/**
 * The CDK app of one stage, as `cdk synth` builds it (bin/app.ts) and as the tests do: the
 * context decides the stage and its settings, and every AwsSolutions finding must be fixed or
 * acknowledged with a reason, or synth fails.
 */
export function buildApp(props: AppProps = {}, env: NodeJS.ProcessEnv = {}): { app: App; stack: ApiStack } {
  const app = new App(props);
  const config = loadConfig((key) => app.node.tryGetContext(key), env);
  // The zones are named in the context, so CDK needs no lookup to know them (synth stays offline).
  app.node.setContext(`availability-zones:account=${config.account}:region=${config.region}`, config.availabilityZones);
  const stack = new ApiStack(app, `Api-${config.stage}`, {
    config,
    env: { account: config.account, region: config.region },
    description: `cognito-nest-api (${config.stage})`,
    terminationProtection: config.stage === 'prod',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
