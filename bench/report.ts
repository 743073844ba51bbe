/**
 * Prints the tables of docs/performance-results.md from one `npm run bench` run, so the figures
 * are pasted, never copied by hand: `npx tsx bench/report.ts [path/to/results.json [more.json ...]]`
 * (default bench/results.json). With more than one file, the tables are the latest run's, followed
 * by the run-to-run spread of every ratio over all of them (runs of the same commit).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Results, ScenarioResult } from './results';

const n = (value: number): string => Math.round(value).toLocaleString('en-US');
const x = (value: number): string => value.toFixed(2);
const met = (value: boolean | null | undefined): string => (value === true ? 'yes' : value === false ? 'no' : 'not measured');
const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
function range(values: number[]): string {
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return values.length === 0 ? '–' : low === high ? `${x(low)}×` : `${x(low)}–${x(high)}×`;
}

function report(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `${r.date.slice(0, 16).replace('T', ' ')} UTC, commit \`${r.commit.slice(0, 7)}\`, ${m.cpus} vCPU ${m.cpuModel ?? ''}, ${m.memoryGb} GB, ` +
      `Node ${m.node.replace(/^v/, '')}; ${r.settings.connections} connections, ${r.settings.rounds} rounds of ${r.settings.durationSeconds} s` +
      (r.settings.processes === undefined ? '' : ` over ${r.settings.processes} processes per server`) +
      (r.scenarios[0]?.roundRatios === undefined
        ? ', medians.'
        : `; app / cached, app / uncached and variant ratios are medians of the rounds' ratios, the other figures medians over the rounds.`),
    '',
    row([
      'route',
      'app req/s',
      'baseline req/s (cached / uncached)',
      'app / cached',
      'rounds',
      'app / uncached',
      'p99 app / baseline',
      'CPU µs per request app / cached / uncached',
    ]),
    row(Array<string>(8).fill('---')),
  );
  for (const s of r.scenarios) {
    out.push(
      row([
        s.scenario === 'unauthenticated 401' ? '401, no token' : s.scenario,
        n(s.app.rps),
        `${n(s.baseline.rps)} / ${n(s.baselineUncached.rps)}`,
        x(s.ratio),
        range(s.roundRatios ?? []),
        x(s.ratioUncached),
        `${n(s.app.p99)} / ${n(s.baseline.p99)} ms (${x(s.p99Ratio)}×)`,
        `${n(s.app.cpuUs)} / ${n(s.baseline.cpuUs)} / ${n(s.baselineUncached.cpuUs)}`,
      ]),
    );
  }
  out.push(
    '',
    'Variants (the app against itself, same run):',
    '',
    row(['variant', 'against', 'req/s variant / reference', 'ratio', 'rounds', 'target', 'p99 variant / reference', 'CPU µs variant / reference']),
    row(Array<string>(8).fill('---')),
  );
  for (const v of r.variants) {
    out.push(
      row([
        v.variant,
        v.scenario,
        `${n(v.measured.rps)} / ${n(v.reference.rps)}`,
        x(v.ratio),
        range(v.roundRatios ?? []),
        v.target === null ? '–' : `≥ ${x(v.target)} (${v.ratio >= v.target ? 'met' : 'not met'})`,
        `${n(v.measured.p99)} / ${n(v.reference.p99)} ms`,
        `${n(v.measured.cpuUs)} / ${n(v.reference.cpuUs)}`,
      ]),
    );
  }
  const g = r.growth;
  const posts = r.settings.growthPosts ?? 1_000_000;
  const large = n(posts);
  out.push(
    '',
    g === null
      ? 'Growth: not measured in this run (BENCH_SKIP_GROWTH=1).'
      : `Growth (GET /v1/posts?limit=20, one measurement each): p50 ${n(g.posts10k.p50)} ms with 10k posts, ${n(g.posts1M.p50)} ms with ${large} ` +
          `(${x(g.p50Ratio1Mvs10k)}×); page 1 at ${large} ${n(g.page1.p50)} ms, a cursor ${n(Math.min(500_000, posts / 2))} rows deep ${n(g.cursor500k.p50)} ms.`,
    `Footprint: RSS ${n(r.footprint.rssIdleMb)} MB idle, ${n(r.footprint.rssAfterLoadMb)} MB after load` +
      (r.footprint.baselineRssAfterLoadMb === undefined
        ? ''
        : ` (the cached baseline: ${n(r.footprint.baselineRssIdleMb ?? 0)} MB idle, ${n(r.footprint.baselineRssAfterLoadMb)} MB after load)`) +
      `; start to ready ${n(r.footprint.startToReadyMs)} ms.`,
    '',
  );
  const authenticated = r.scenarios.filter((s) => s.scenario !== 'unauthenticated 401');
  const unauthenticated = r.scenarios.filter((s) => s.scenario === 'unauthenticated 401');
  const targeted = r.variants.filter((v) => v.target !== null);
  out.push(
    row(['target', 'measured', 'met']),
    row(['---', '---', '---']),
    row(['every authenticated route ≥ 0.8×', range(authenticated.map((s) => s.ratio)), met(r.targets.authenticatedRoutesAtLeast08)]),
    row(['401 path ≥ 0.6×', range(unauthenticated.map((s) => s.ratio)), met(r.targets.unauthenticatedAtLeast06)]),
    row(['p99 ≤ 2× baseline’s on every route', range(r.scenarios.map((s) => s.p99Ratio)), met(r.targets.p99AtMost2xBaseline)]),
    row(['start to ready < 1 s', `${n(r.footprint.startToReadyMs)} ms`, met(r.targets.startToReadyUnder1s)]),
    row(['list flat 10k → 1M posts (≤ 1.15×)', g === null ? 'not measured' : `${x(g.p50Ratio1Mvs10k)}× p50`, met(r.targets.listFlat1Mvs10kAtMost115)]),
    ...targeted.map((v) => row([`${v.variant} ≥ ${x(v.target ?? 0)}×`, `${x(v.ratio)}×`, met(v.ratio >= (v.target ?? 0))])),
  );
  return `${out.join('\n')}\n`;
}

/** Each ratio of every run, side by side, with its range: what one run's figure is worth. */
function spread(unordered: Results[]): string {
  const runs = [...unordered].sort((a, b) => a.date.localeCompare(b.date));
  const commits = [...new Set(runs.map((r) => r.commit.slice(0, 7)))];
  // Runs of more than one commit: each column names its commit.
  const label = (r: Results): string => (commits.length > 1 ? `${r.date.slice(11, 16)} \`${r.commit.slice(0, 7)}\`` : r.date.slice(11, 16));
  const out = [
    '',
    `Run to run (${runs.length} runs of commit${commits.length > 1 ? 's' : ''} ${commits.join(', ')} on ${runs[0].date.slice(0, 10)}, by the time each ended, UTC):`,
    '',
    row(['ratio', ...runs.map(label), 'range']),
    row(Array<string>(runs.length + 2).fill('---')),
  ];
  for (const s of runs[0].scenarios) {
    const of = (r: Results): ScenarioResult | undefined => r.scenarios.find((t) => t.scenario === s.scenario);
    const ratios = runs.map((r) => of(r)?.ratio ?? NaN);
    const p99 = runs.map((r) => of(r)?.p99Ratio ?? NaN);
    out.push(row([`${s.scenario}, app / cached`, ...ratios.map(x), range(ratios)]));
    out.push(row([`${s.scenario}, p99 app / baseline`, ...p99.map(x), range(p99)]));
  }
  for (const v of runs[0].variants.filter((t) => t.target !== null)) {
    const ratios = runs.map((r) => r.variants.find((t) => t.variant === v.variant)?.ratio ?? NaN);
    out.push(row([`${v.variant} / ${v.scenario}`, ...ratios.map(x), range(ratios)]));
  }
  return `${out.join('\n')}\n`;
}

const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => resolve(f)) : [join(__dirname, 'results.json')];
const runs = files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as Results);
const latest = runs.reduce((a, b) => (b.date > a.date ? b : a));
process.stdout.write(report(latest) + (runs.length > 1 ? spread(runs) : ''));
