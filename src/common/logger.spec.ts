import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** What a root logger of this format prints for one line, in a process of its own (the pretty transport is a worker thread). */
function printed(format: 'json' | 'pretty'): string {
  const script = `require('./src/common/logger').createRootLogger('info', undefined, '${format}').info({ body: { accessToken: 'secret' } }, 'hello');`;
  return execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
}

describe('createRootLogger formats', () => {
  it('json (the default, production and tests): one JSON object a line, secrets censored', () => {
    const line: unknown = JSON.parse(printed('json').trim());
    expect(line).toMatchObject({ level: 'info', msg: 'hello', service: 'api', body: { accessToken: '[REDACTED]' } });
  });

  it('pretty (npm run dev): a readable line from pino-pretty, not JSON, secrets still censored', () => {
    const out = printed('pretty');
    expect(out).toMatch(/INFO.*hello/);
    expect(out).toContain('[REDACTED]');
    expect(out).not.toContain('secret');
    expect(() => JSON.parse(out.trim())).toThrow();
  });
});
