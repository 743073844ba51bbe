import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeWildcard, nagPartition } from './nag';

/** The group whose members must have MFA for their tokens to carry it. */
export const MFA_REQUIRED_GROUP = 'admin';

/**
 * The pre token generation trigger (event version 1): when a user in `admin` gets tokens (sign-in,
 * Hosted UI, refresh) and has no MFA method enabled, `admin` is left out of the tokens'
 * `cognito:groups`, so the API treats them as a plain user. Users outside `admin` cost no call.
 * If Cognito cannot be asked, `admin` is left out too (fail closed for the group, never for the
 * sign-in itself: a trigger that throws would stop every sign-in).
 */
export const ADMIN_MFA_HANDLER = `
const { CognitoIdentityProviderClient, AdminGetUserCommand } = require('@aws-sdk/client-cognito-identity-provider');
const cognito = new CognitoIdentityProviderClient({});
const GROUP = ${JSON.stringify(MFA_REQUIRED_GROUP)};
exports.handler = async (event) => {
  const config = (event.request && event.request.groupConfiguration) || {};
  const groups = config.groupsToOverride || [];
  if (!groups.includes(GROUP)) {
    return event;
  }
  let hasMfa = false;
  try {
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: event.userPoolId, Username: event.userName }));
    hasMfa = (user.UserMFASettingList || []).length > 0;
  } catch (error) {
    console.error(JSON.stringify({ msg: 'admin-mfa: could not read the user; admin left out', error: String(error && error.name) }));
  }
  if (!hasMfa) {
    console.log(JSON.stringify({ msg: 'admin-mfa: admin group left out of the tokens of a user without MFA', sub: event.request.userAttributes && event.request.userAttributes.sub }));
    event.response = event.response || {};
    event.response.claimsOverrideDetails = Object.assign({}, event.response.claimsOverrideDetails, {
      groupOverrideDetails: {
        groupsToOverride: groups.filter((g) => g !== GROUP),
        iamRolesToOverride: config.iamRolesToApply || [],
        preferredRole: config.preferredRole || undefined,
      },
    });
  }
  return event;
};
`;

/** Wires the trigger into the pool, with the one permission it needs. */
export class AdminMfaGate extends Construct {
  readonly handler: lambda.Function;

  constructor(scope: Construct, id: string, userPool: cognito.UserPool) {
    super(scope, id);
    this.handler = new lambda.Function(this, 'Function', {
      description: 'Pre token generation: no admin group in the tokens of a user without MFA',
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(ADMIN_MFA_HANDLER),
      // Cognito waits 5 s for a trigger.
      timeout: Duration.seconds(5),
      memorySize: 256,
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
    });
    userPool.addTrigger(cognito.UserPoolOperation.PRE_TOKEN_GENERATION, this.handler);
    // A separate policy, not the role's default one: the function must not depend on the pool's
    // ARN, since the pool depends on the function (its trigger). The pool is this account's and
    // region's: its id is not known to the policy without that cycle.
    const stack = Stack.of(this);
    const pools = stack.formatArn({ service: 'cognito-idp', resource: 'userpool', resourceName: '*' });
    new iam.Policy(this, 'ReadMfa', {
      roles: [this.handler.role!],
      statements: [new iam.PolicyStatement({ actions: ['cognito-idp:AdminGetUser'], resources: [pools] })],
    });
    acknowledgeWildcard(
      this,
      `arn:${nagPartition(this)}:cognito-idp:${stack.region}:${stack.account}:userpool/*`,
      "AdminGetUser (read-only) on this account's pools in this region: naming the pool would make a dependency cycle, as the pool names this function as its trigger.",
    );
    Validations.of(this.handler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWSLambdaBasicExecutionRole: the managed policy of a function that only writes its own logs (CreateLogStream/PutLogEvents).',
    });
  }
}
