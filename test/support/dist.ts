import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../tools/local-stack/processes';

/**
 * Every file of dist/ with its modification time (a build deletes and rewrites them), or null
 * when there is no dist/: compared before and after, it shows whether something built.
 */
export function distStamp(): string | null {
  const dist = join(ROOT, 'dist');
  if (!existsSync(dist)) {
    return null;
  }
  return readdirSync(dist, { recursive: true, encoding: 'utf8' })
    .map((file) => `${file}:${statSync(join(dist, file)).mtimeMs}`)
    .sort()
    .join('\n');
}
