import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { buildApp } from '../lib/app';
import { IMAGE_ASSET_EXCLUDE } from '../lib/service';
import { appProps, PROD_CONTEXT, synth } from './support/synth';

/**
 * Every AwsSolutions acknowledgment in the tree (CDK records them as `Annotation::<rule>`), with
 * its reason and where it was made. CDK's own constructs acknowledge CloudFormation-Validate rules
 * (e.g. W3010 for zones named on purpose): those are not ours and are left out.
 */
function acknowledgments(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
    )
    .filter((a) => a.id.includes('AwsSolutions-'))
    .map((a) => ({ ...a, id: a.id.replace(/^Annotation::/, '') }));
}

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['dev', {}],
    ['prod', PROD_CONTEXT],
  ])('%s synthesizes with zero unacknowledged findings', (_stage, context) => {
    // synth() throws with the report when any finding is neither fixed nor acknowledged.
    expect(() => synth(context)).not.toThrow();
  });

  it('fails synth for a finding nobody acknowledged (the check is live)', () => {
    const { app, stack } = buildApp(appProps());
    new s3.Bucket(stack, 'Unchecked');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it.each([
    ['dev', {}],
    ['prod', PROD_CONTEXT],
  ])('%s: every acknowledgment names one AwsSolutions rule and says why', (_stage, context) => {
    const { stack } = synth(context);
    const all = acknowledgments(stack);
    expect(all.length).toBeGreaterThan(0);
    for (const a of all) {
      expect(a.id).toMatch(/^AwsSolutions-[A-Z]+[0-9]+(\[.+\])?$/);
      // A reason, not a shrug.
      expect(a.reason.length).toBeGreaterThan(40);
    }
  });

  it('acknowledges IAM wildcards one resource at a time, never the whole rule', () => {
    const all = [...acknowledgments(synth().stack), ...acknowledgments(synth(PROD_CONTEXT).stack)];
    expect(all.filter((a) => a.id === 'AwsSolutions-IAM5')).toEqual([]);
  });

  it('acknowledges the missing threat protection (Essentials plan) for dev only: prod has it', () => {
    const prodIds = acknowledgments(synth(PROD_CONTEXT).stack).map((a) => a.id);
    expect(prodIds).not.toContain('AwsSolutions-COG3');
    expect(prodIds).not.toContain('AwsSolutions-COG8');
    expect(acknowledgments(synth().stack).map((a) => a.id)).toEqual(expect.arrayContaining(['AwsSolutions-COG3', 'AwsSolutions-COG8']));
  });

  it('acknowledges no secret rotation nowhere: both database secrets rotate', () => {
    for (const context of [{}, PROD_CONTEXT]) {
      expect(acknowledgments(synth(context).stack).map((a) => a.id)).not.toContain('AwsSolutions-SMG4');
    }
  });

  it('acknowledges single-AZ and no deletion protection for dev only', () => {
    const prodIds = acknowledgments(synth(PROD_CONTEXT).stack).map((a) => a.id);
    expect(prodIds).not.toContain('AwsSolutions-RDS3');
    expect(prodIds).not.toContain('AwsSolutions-RDS10');
    const devIds = acknowledgments(synth().stack).map((a) => a.id);
    expect(devIds).toEqual(expect.arrayContaining(['AwsSolutions-RDS3', 'AwsSolutions-RDS10']));
  });
});

describe('the image asset', () => {
  it('stages only what the Dockerfile builds from (no docker at synth), and stays small', () => {
    const { outdir } = synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'Api-dev.assets.json'), 'utf8'));
    const images = Object.values(manifest.dockerImages) as { source: { directory: string; dockerFile?: string } }[];
    expect(images).toHaveLength(1);
    const dir = path.join(outdir, images[0].source.directory);
    const files = (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(path.sep).join('/'));
    expect(files).toEqual(expect.arrayContaining(['Dockerfile', 'package.json', 'package-lock.json', 'src/main.ts', 'migrations']));
    for (const top of [...IMAGE_ASSET_EXCLUDE.filter((e) => !e.includes('*')), 'cdk.out']) {
      expect(files.filter((f) => f === top || f.startsWith(`${top}/`))).toEqual([]);
    }
    expect(files.filter((f) => f.endsWith('.spec.ts'))).toEqual([]);
    const bytes = files
      .map((f) => fs.statSync(path.join(dir, f)))
      .filter((s) => s.isFile())
      .reduce((n, s) => n + s.size, 0);
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
  });
});

describe('bin/app.ts', () => {
  it('stops cdk synth with one line naming the bad setting', () => {
    const run = spawnSync(path.join(__dirname, '..', 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
      cwd: path.join(__dirname, '..'),
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ refreshTokenDays: '1', accessTokenMinutes: '1440' }),
        CDK_OUTDIR: fs.mkdtempSync(path.join(os.tmpdir(), 'infra-bin-')),
      },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^infra: refreshTokenDays \(1 d\) must be longer than both/)]);
  });
});
