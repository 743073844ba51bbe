import { execFileSync } from 'node:child_process';
import { createRootLogger, lazyChildLogger } from './logger';
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

describe('lazyChildLogger (Fastify per-request child)', () => {
  function capture(): { lines: Array<Record<string, unknown>>; root: ReturnType<typeof createRootLogger> } {
    const lines: Array<Record<string, unknown>> = [];
    const destination = { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) };
    return { lines, root: createRootLogger('info', destination) };
  }

  it('makes no pino child until a line is written', () => {
    const { root } = capture();
    const child = jest.spyOn(root, 'child');
    const lazy = lazyChildLogger(root, { requestId: 'r-1' }, {});
    expect(lazy.level).toBe('info');
    expect(child).not.toHaveBeenCalled();
  });

  it('writes lines as the child would: its bindings, its level, secrets censored', () => {
    const { root, lines } = capture();
    const lazy = lazyChildLogger(root, { requestId: 'r-2' }, { level: 'warn' });
    lazy.info('dropped: below the child level');
    lazy.warn({ body: { password: 'hunter2' } }, 'kept');
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'kept', requestId: 'r-2', body: { password: '[REDACTED]' } })]);
    expect(lazy.child({ step: 'x' }).bindings()).toEqual({ service: 'api', requestId: 'r-2', step: 'x' });
  });
});
