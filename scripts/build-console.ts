/**
 * Builds the admin console (console/) into dist/console: one JavaScript bundle (Preact, esbuild),
 * one stylesheet (Pico CSS and ours) and index.html, all served by the service at /admin/.
 * Fails when the JavaScript grows past its budget (gzipped). `npm run build` runs it after
 * `nest build` (which empties dist/); `npm run dev` runs it in watch mode.
 *
 *   tsx scripts/build-console.ts [--watch]
 */
import { build, BuildOptions, context } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(__dirname, '..');
const SOURCE = join(ROOT, 'console');
export const CONSOLE_OUT = join(ROOT, 'dist', 'console');
/** The console's JavaScript, gzipped, must stay under this. */
export const JS_BUDGET_BYTES = 250 * 1024;

function options(outdir: string): BuildOptions {
  return {
    entryPoints: { app: join(SOURCE, 'src', 'main.tsx') },
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(SOURCE, 'tsconfig.json'),
    // Pico's icons are inline SVG data: URLs inside the CSS; nothing else is loaded.
    loader: { '.svg': 'dataurl' },
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** The gzipped size of the bundle; throws when it is over budget. */
export function checkBudget(outdir: string = CONSOLE_OUT): number {
  const size = gzipSync(readFileSync(join(outdir, 'app.js')), { level: 9 }).length;
  if (size > JS_BUDGET_BYTES) {
    throw new Error(`the admin console's JavaScript is ${size} bytes gzipped, over its ${JS_BUDGET_BYTES}-byte budget`);
  }
  return size;
}

export async function buildConsole(outdir: string = CONSOLE_OUT): Promise<number> {
  mkdirSync(outdir, { recursive: true });
  await build(options(outdir));
  copyFileSync(join(SOURCE, 'index.html'), join(outdir, 'index.html'));
  return checkBudget(outdir);
}

/** Rebuilds on every change to console/ (for npm run dev). */
export async function watchConsole(outdir: string = CONSOLE_OUT): Promise<() => Promise<void>> {
  mkdirSync(outdir, { recursive: true });
  copyFileSync(join(SOURCE, 'index.html'), join(outdir, 'index.html'));
  const ctx = await context(options(outdir));
  await ctx.watch();
  return () => ctx.dispose();
}

if (require.main === module) {
  buildConsole().then(
    (size) => process.stdout.write(`admin console built into dist/console (JavaScript ${(size / 1024).toFixed(1)} KiB gzipped)\n`),
    (error: unknown) => {
      process.stderr.write(`admin console build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
