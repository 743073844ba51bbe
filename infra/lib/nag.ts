import { CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges one AwsSolutions-IAM5 finding (a wildcard in one resource of a policy), not the
 * rule: another wildcard added later to the same policy is still reported.
 */
export function acknowledgeWildcard(scope: IConstruct, resource: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
}

/** How cdk-nag writes the ARN of a resource of this stack in a finding: `<LogicalId.Arn>`. */
export function nagArn(resource: IConstruct): string {
  const cfn = resource.node.defaultChild as CfnElement;
  return `<${Stack.of(resource).getLogicalId(cfn)}.Arn>`;
}

/** How cdk-nag writes this stack's partition: `<AWS::Partition>`, or the literal when CDK knows it. */
export function nagPartition(scope: IConstruct): string {
  const partition = Stack.of(scope).partition;
  return Token.isUnresolved(partition) ? '<AWS::Partition>' : partition;
}
