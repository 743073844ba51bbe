import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { ApiStack } from '../../lib/api-stack';
import { buildApp } from '../../lib/app';

export interface Synth {
  stack: ApiStack;
  template: Template;
  /** The cloud assembly directory (templates, staged assets). */
  outdir: string;
  /** The logical id of a construct's CloudFormation resource in the template. */
  id: (construct: IConstruct) => string;
}

const cache = new Map<string, Synth>();

/**
 * What prod refuses to synthesize without: placeholders under the reserved `.invalid` top-level
 * domain (RFC 2606), valid in form and never deliverable (the same values CI passes).
 */
export const PROD_CONTEXT: Record<string, string> = {
  stage: 'prod',
  callbackUrls: 'https://app.ci.invalid/auth/callback',
  logoutUrls: 'https://app.ci.invalid/',
  corsOrigins: 'https://app.ci.invalid',
  alarmEmail: 'alarms@ci.invalid',
  emailFrom: 'no-reply@ci.invalid',
};

/** The context `cdk` itself passes from cdk.json (the feature flags), under the test's own. */
const CDK_JSON_CONTEXT = (
  JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

/** The app as `cdk synth -c ...` builds it. */
export function appProps(context: Record<string, string> = {}, outdir?: string) {
  return { context: { ...CDK_JSON_CONTEXT, ...context }, outdir: outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'infra-test-')) };
}

/**
 * Synthesizes one stage as `cdk synth -c ...` would (same app, cdk-nag included: a finding
 * without an acknowledgment throws here). Cached per context within a test file.
 */
export function synth(context: Record<string, string> = {}): Synth {
  const key = JSON.stringify(context);
  const hit = cache.get(key);
  if (hit) {
    return hit;
  }
  const props = appProps(context);
  const outdir = props.outdir;
  const { stack } = buildApp(props);
  const template = Template.fromStack(stack);
  const id = (construct: IConstruct) => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
  const result = { stack, template, outdir, id };
  cache.set(key, result);
  return result;
}

export type Resource = { Type: string; Properties: Record<string, any> };

/** All resources of a type, by logical id. */
export function resources(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

export function only(template: Template, type: string): Resource {
  const found = Object.values(resources(template, type));
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${type}, found ${found.length}`);
  }
  return found[0];
}

/** Every ingress rule of a security group: inline ones and standalone AWS::EC2::SecurityGroupIngress. */
export function ingressOf(template: Template, sgId: string): Record<string, any>[] {
  const inline = resources(template, 'AWS::EC2::SecurityGroup')[sgId].Properties.SecurityGroupIngress ?? [];
  const standalone = Object.values(resources(template, 'AWS::EC2::SecurityGroupIngress'))
    .map((r) => r.Properties)
    .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [sgId, 'GroupId'] }));
  return [...inline, ...standalone];
}

/** Every egress rule of a security group. */
export function egressOf(template: Template, sgId: string): Record<string, any>[] {
  const inline = resources(template, 'AWS::EC2::SecurityGroup')[sgId].Properties.SecurityGroupEgress ?? [];
  const standalone = Object.values(resources(template, 'AWS::EC2::SecurityGroupEgress'))
    .map((r) => r.Properties)
    .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [sgId, 'GroupId'] }));
  return [...inline, ...standalone];
}

/** The container definitions of the task definition whose family is given. */
export function containers(template: Template, family: string): Record<string, any>[] {
  const def = Object.values(resources(template, 'AWS::ECS::TaskDefinition')).find((r) => r.Properties.Family === family);
  if (!def) {
    throw new Error(`no task definition with family ${family}`);
  }
  return def.Properties.ContainerDefinitions;
}

export function container(template: Template, family: string, name: string): Record<string, any> {
  const found = containers(template, family).find((c) => c.Name === name);
  if (!found) {
    throw new Error(`no container ${name} in ${family}`);
  }
  return found;
}

export function envOf(c: Record<string, any>): Record<string, unknown> {
  return Object.fromEntries((c.Environment ?? []).map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
}

/** The statements of every policy attached to a role (by the role's logical id). */
export function statementsOf(template: Template, roleId: string): Record<string, any>[] {
  return Object.values(resources(template, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles ?? []).some((r: unknown) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

export function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}
