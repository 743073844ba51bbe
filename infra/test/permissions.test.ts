import * as path from 'node:path';
import * as fs from 'node:fs';
import { ATTACHMENTS_PREFIX, COGNITO_IAM_ACTIONS, COGNITO_NO_IAM, RECONCILE_COGNITO_ACTIONS, S3_OPERATIONS, UPLOADS_PREFIX } from '../lib/permissions';
import { REPOSITORY_ROOT } from '../lib/service';
import { asList, statementsOf, synth } from './support/synth';
import { cognitoOperation, importedNames, importsUnder } from './support/src-imports';

const SRC = path.join(REPOSITORY_ROOT, 'src');
const COGNITO_SDK = ['@aws-sdk/client-cognito-identity-provider'];
const S3_SDK = ['@aws-sdk/client-s3', '@aws-sdk/s3-presigned-post', '@aws-sdk/s3-request-presigner'];

/** The Cognito operations src/ sends: the command classes (and paginate* helpers) it imports. */
function cognitoOperationsOfSrc(): Map<string, string[]> {
  const ops = new Map<string, string[]>();
  for (const [name, files] of importsUnder(SRC, COGNITO_SDK)) {
    const op = cognitoOperation(name);
    if (op !== undefined) {
      ops.set(op, files);
    }
  }
  return ops;
}

/** Operations that are neither granted nor listed as needing no IAM permission. */
function withoutPermission(operations: Iterable<string>, granted: ReadonlySet<string>): string[] {
  return [...operations].filter((op) => !granted.has(`cognito-idp:${op}`) && !(op in COGNITO_NO_IAM)).sort();
}

describe('the task role allows what src/ sends', () => {
  const { template, stack, id } = synth();
  const statements = statementsOf(template, id(stack.api.taskRole));
  const cognitoStatements = statements.filter((s) => asList(s.Action).some((a: string) => a.startsWith('cognito-idp:')));
  const granted = new Set<string>(cognitoStatements.flatMap((s) => asList(s.Action)));

  it('finds the Cognito commands src/ imports (the parse is not silently empty)', () => {
    const ops = cognitoOperationsOfSrc();
    expect(ops.has('InitiateAuth')).toBe(true);
    expect(ops.has('AdminGetUser')).toBe(true);
  });

  it('grants every IAM-authorized Cognito command src/ sends, or names why it needs no permission', () => {
    const ops = cognitoOperationsOfSrc();
    const missing = withoutPermission(ops.keys(), granted).map((op) => `${op} (imported by ${ops.get(op)!.join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('fails for a new Cognito call that has no permission', () => {
    const source =
      "import { AdminGetUserCommand, AdminResetUserPasswordCommand, paginateAdminListDevices } from '@aws-sdk/client-cognito-identity-provider';";
    const ops = importedNames(source, COGNITO_SDK).map((n) => cognitoOperation(n)!);
    expect(withoutPermission(ops, granted)).toEqual(['AdminListDevices', 'AdminResetUserPassword']);
  });

  it('reads imports the way TypeScript writes them (aliases, type-only imports skipped)', () => {
    const source = [
      "import type { UserType } from '@aws-sdk/client-cognito-identity-provider';",
      'import {',
      '  ListUsersCommand as List,',
      '  type AttributeType,',
      '  CognitoIdentityProviderClient,',
      "} from '@aws-sdk/client-cognito-identity-provider';",
    ].join('\n');
    expect(importedNames(source, COGNITO_SDK)).toEqual(['ListUsersCommand', 'CognitoIdentityProviderClient']);
  });

  it('grants the Cognito actions on this user pool only, without wildcards', () => {
    expect(cognitoStatements).toHaveLength(1);
    expect(cognitoStatements[0].Effect).toBe('Allow');
    expect(cognitoStatements[0].Resource).toEqual({ 'Fn::GetAtt': [id(stack.identity.userPool), 'Arn'] });
    expect([...granted].sort()).toEqual(COGNITO_IAM_ACTIONS.map((a) => `cognito-idp:${a}`).sort());
    expect([...granted].some((a) => a.includes('*'))).toBe(false);
  });

  it('grants no permission for the calls that need none (public client or access-token calls)', () => {
    for (const op of Object.keys(COGNITO_NO_IAM)) {
      expect(granted.has(`cognito-idp:${op}`)).toBe(false);
    }
  });

  it('grants every S3 operation src/ performs, on uploads/* of the uploads bucket only', () => {
    const objects = {
      'Fn::Join': ['', [{ 'Fn::GetAtt': [id(stack.storage.uploads), 'Arn'] }, `/${UPLOADS_PREFIX}*`]],
    };
    const objectActions = statements
      .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(objects))
      .flatMap((s) => asList(s.Action) as string[]);
    const unknown: string[] = [];
    const missing: string[] = [];
    for (const [name, files] of importsUnder(SRC, S3_SDK)) {
      if (!name.endsWith('Command') && name !== 'createPresignedPost') {
        continue; // clients, errors, getSignedUrl (it signs one of the commands above)
      }
      const action = S3_OPERATIONS[name];
      if (action === undefined) {
        unknown.push(`${name} (imported by ${files.join(', ')}): add its IAM action to lib/permissions.ts`);
      } else if (!objectActions.includes(action)) {
        missing.push(`${action} for ${name}`);
      }
    }
    expect(unknown).toEqual([]);
    expect(missing).toEqual([]);
    expect(objectActions.sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
  });

  it('grants the attached copies on attachments/* what a copy, a HEAD, a GET and the sweep need, and no more', () => {
    const copies = {
      'Fn::Join': ['', [{ 'Fn::GetAtt': [id(stack.storage.uploads), 'Arn'] }, `/${ATTACHMENTS_PREFIX}*`]],
    };
    const actions = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(copies)).flatMap((s) => asList(s.Action));
    expect(actions.sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
  });

  it('lets HeadObject tell a missing upload (404) from a forbidden one, with ListBucket on that bucket and its uploads/ prefix only', () => {
    const list = statements.filter((s) => asList(s.Action).includes('s3:ListBucket'));
    expect(list).toHaveLength(1);
    expect(list[0].Resource).toEqual({ 'Fn::GetAtt': [id(stack.storage.uploads), 'Arn'] });
    expect(list[0].Condition).toEqual({ StringLikeIfExists: { 's3:prefix': [`${UPLOADS_PREFIX}*`] } });
  });

  it('gives the migration task a role with no permission at all (it only talks to PostgreSQL)', () => {
    const role = stack.api.migrationTask.taskRole;
    expect(statementsOf(template, id(role))).toEqual([]);
  });
});

/**
 * The Cognito operations the reconcile job sends: the CognitoAdminService methods that
 * src/jobs/reconcile.service.ts calls (`this.cognito.<method>(`), each mapped to the operations
 * its body names (`this.api.send('Op'`, `sendOrNull('Op'`, `pages('Op'`).
 */
function reconcileOperations(): Map<string, string[]> {
  const job = fs.readFileSync(path.join(SRC, 'jobs/reconcile.service.ts'), 'utf8');
  const admin = fs.readFileSync(path.join(SRC, 'cognito/cognito-admin.service.ts'), 'utf8');
  const bodies = new Map<string, string>();
  const headers = [...admin.matchAll(/^ {2}(?:(?:private|public)\s+)?(?:async\s+)?\*?\s*(\w+)\(/gm)];
  headers.forEach((h, i) => bodies.set(h[1], admin.slice(h.index, headers[i + 1]?.index ?? admin.length)));
  const ops = new Map<string, string[]>();
  const methods = [...job.matchAll(/this\.cognito\.(\w+)\(/g)].map((m) => m[1]);
  // A user disabled (enabled) in Cognito itself is carried over as an account change, which the
  // job finishes itself: AccountChangesService sets Cognito's Enabled flag for it.
  if (/this\.changes\.finish\(/.test(job)) {
    methods.push('adminSetEnabled');
  }
  for (const method of methods) {
    const body = bodies.get(method);
    if (body === undefined) {
      throw new Error(`reconcile calls cognito.${method}, not found in cognito-admin.service.ts`);
    }
    ops.set(
      method,
      [...body.matchAll(/this\.api\.(?:send|sendOrNull|pages)\(\s*'(\w+)'/g)].map((m) => m[1]),
    );
  }
  return ops;
}

describe('the reconcile job has its own minimal task role', () => {
  const { template, stack, id } = synth();
  const statements = statementsOf(template, id(stack.api.reconcileRole));

  it('finds what the reconcile job calls (the parse is not silently empty)', () => {
    const ops = reconcileOperations();
    expect(ops.get('listUsers')).toEqual(['ListUsers']);
    expect(ops.get('userExists')).toEqual(['AdminGetUser']);
    expect(ops.get('adminSetEnabled')).toEqual(['AdminEnableUser', 'AdminDisableUser']);
  });

  it('grants exactly the Cognito operations the job sends, on this user pool, and nothing else', () => {
    const needed = [...new Set([...reconcileOperations().values()].flat())].sort();
    expect([...RECONCILE_COGNITO_ACTIONS].sort()).toEqual(needed);
    expect(statements).toEqual([
      {
        Sid: 'CognitoReconcile',
        Effect: 'Allow',
        Action: needed.map((a) => `cognito-idp:${a}`),
        Resource: { 'Fn::GetAtt': [id(stack.identity.userPool), 'Arn'] },
      },
    ]);
    expect(id(stack.api.reconcileRole)).not.toBe(id(stack.api.taskRole));
  });
});
