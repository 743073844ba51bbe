import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DeploymentConfig } from './config';

/** Requests per IP in any 5 minutes, on /v1/auth/* at the ALB and on the user pool's API. */
export const WAF_RATE_LIMIT = 300;
/** The API's sign-in routes: the rate-based rule of the ALB's web ACL counts these. */
export const AUTH_PATH_PREFIX = '/v1/auth/';

const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesCommonRuleSet',
];

/**
 * Two regional WAFv2 web ACLs with the same AWS managed rules (IP reputation, known bad inputs,
 * the common rule set) and a per-IP rate-based rule each:
 * - on the ALB, counting the API's sign-in routes (`/v1/auth/*`) per client IP;
 * - on the user pool, counting every call to Cognito's public API (InitiateAuth, SignUp,
 *   ForgotPassword ... sent straight to Cognito with the app client id), except the calls of the
 *   API itself, which all leave through the stack's NAT gateways: rate-limiting those by IP
 *   would throttle every user at once (the API limits them per client IP before calling).
 */
export class WebAcls extends Construct {
  readonly albAcl: wafv2.CfnWebACL;
  readonly userPoolAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, config: DeploymentConfig, natIps: string[], albArn: string, userPoolArn: string) {
    super(scope, id);
    const name = (suffix: string) => `api-${config.stage}-${suffix}`;

    const authPaths: wafv2.CfnWebACL.StatementProperty = {
      byteMatchStatement: {
        fieldToMatch: { uriPath: {} },
        positionalConstraint: 'STARTS_WITH',
        searchString: AUTH_PATH_PREFIX,
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    };
    this.albAcl = new wafv2.CfnWebACL(this, 'Alb', {
      name: name('alb'),
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(name('alb')),
      rules: [...managedRules(), rateRule(name('alb-auth-rate'), authPaths)],
    });
    new wafv2.CfnWebACLAssociation(this, 'AlbAssociation', { resourceArn: albArn, webAclArn: this.albAcl.attrArn });

    const apiEgress = new wafv2.CfnIPSet(this, 'ApiEgress', {
      name: name('nat-egress'),
      description: 'The NAT gateway addresses of the stack, from which the API calls Cognito',
      scope: 'REGIONAL',
      ipAddressVersion: 'IPV4',
      addresses: natIps.map((ip) => Fn.join('', [ip, '/32'])),
    });
    this.userPoolAcl = new wafv2.CfnWebACL(this, 'UserPool', {
      name: name('user-pool'),
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(name('user-pool')),
      rules: [
        ...managedRules(),
        rateRule(name('user-pool-rate'), { notStatement: { statement: { ipSetReferenceStatement: { arn: apiEgress.attrArn } } } }),
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'UserPoolAssociation', { resourceArn: userPoolArn, webAclArn: this.userPoolAcl.attrArn });
  }
}

/** The public addresses of a VPC's NAT gateways (their Elastic IPs). */
export function natGatewayIps(vpc: ec2.Vpc): string[] {
  return vpc.publicSubnets
    .map((subnet) => subnet.node.tryFindChild('EIP'))
    .filter((eip): eip is ec2.CfnEIP => eip instanceof ec2.CfnEIP)
    .map((eip) => eip.attrPublicIp);
}

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

function managedRules(): wafv2.CfnWebACL.RuleProperty[] {
  return MANAGED_RULE_GROUPS.map((group, priority) => ({
    name: group,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name: group,
        // The API enforces its own body limits (and answers 413 with its own error): WAF's 8 KB
        // body rule only counts, so a valid large post is not refused with a bare 403.
        ruleActionOverrides:
          group === 'AWSManagedRulesCommonRuleSet' ? [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }] : undefined,
      },
    },
    visibilityConfig: visibility(group),
  }));
}

function rateRule(name: string, scopeDown: wafv2.CfnWebACL.StatementProperty): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority: MANAGED_RULE_GROUPS.length,
    action: { block: {} },
    statement: {
      rateBasedStatement: { limit: WAF_RATE_LIMIT, evaluationWindowSec: 300, aggregateKeyType: 'IP', scopeDownStatement: scopeDown },
    },
    visibilityConfig: visibility(name),
  };
}
