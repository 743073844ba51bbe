import * as fs from 'node:fs';
import * as path from 'node:path';

/** The names a source file imports (values, not `import type`) from the given modules. */
export function importedNames(source: string, modules: readonly string[]): string[] {
  const names: string[] = [];
  const pattern = /import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) {
    if (match[1] !== undefined || !modules.includes(match[3])) {
      continue;
    }
    for (const part of match[2].split(',')) {
      const spec = part.trim();
      if (spec === '' || spec.startsWith('type ')) {
        continue;
      }
      names.push(spec.split(/\s+as\s+/)[0].trim());
    }
  }
  return names;
}

/** Every non-test TypeScript file under a directory. */
export function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** What the files import from the modules, with the files that import each name. */
export function importsUnder(dir: string, modules: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(dir)) {
    for (const name of importedNames(fs.readFileSync(file, 'utf8'), modules)) {
      found.set(name, [...(found.get(name) ?? []), path.relative(dir, file)]);
    }
  }
  return found;
}

/** `AdminGetUserCommand` -> `AdminGetUser`, `paginateListUsers` -> `ListUsers`; else undefined. */
export function cognitoOperation(name: string): string | undefined {
  const command = /^([A-Z]\w*)Command$/.exec(name);
  if (command) {
    return command[1];
  }
  const paginator = /^paginate([A-Z]\w*)$/.exec(name);
  return paginator?.[1];
}
