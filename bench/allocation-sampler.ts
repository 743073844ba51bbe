/**
 * A preload for a server under the bench: what it allocates per request, by package and by
 * function, objects the young generation collected included (a CPU profile shows where time goes;
 * this shows where the garbage that the collector then pays for comes from). Bytes allocated per
 * request do not move with the machine's load, unlike time.
 *
 *   BENCH_SKIP_BUILD=1 BENCH_ONLY='=GET /v1/posts?limit=20' \
 *     BENCH_APP_ARGS='-r ./bench/allocation-sampler.ts' BENCH_BASELINE_ARGS='-r ./bench/allocation-sampler.ts' npm run bench
 *
 * Each server writes /tmp/allocations-<pid>.txt when it stops (start-up is included: the more
 * requests a run serves, the less it weighs). Node 24 loads this file by stripping its types.
 *
 * With ALLOCATION_SAMPLER_SURVIVORS=1 (exported to the bench, which passes it to every server) it
 * counts only what no scavenge collected: the objects that outlived the young generation, which are
 * what scavenges copy and mark-compacts then collect.
 */
import { writeFileSync } from 'node:fs';
import { subscribe } from 'node:diagnostics_channel';
import { Session } from 'node:inspector';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const survivorsOnly = process.env.ALLOCATION_SAMPLER_SURVIVORS === '1';
let requests = 0;
subscribe('http.server.request.start', () => {
  requests += 1;
});

const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', {
  samplingInterval: 8192,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: !survivorsOnly,
});

/** Where a frame's code lives: a package, the app's own file, a Node module, or native. */
function owner(url: string, functionName: string): string {
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) {
    return pkg[1];
  }
  if (url === '') {
    return `(native ${functionName})`;
  }
  return url.startsWith('node:') ? url : url.replace(/^.*\/(dist|bench)\//, '$1/');
}

function summary(head: ProfileNode): string {
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const pending = [head];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = owner(url, functionName);
    total += node.selfSize;
    byOwner.set(where, (byOwner.get(where) ?? 0) + node.selfSize);
    const fn = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.selfSize);
    pending.push(...node.children);
  }
  const perRequest = (bytes: number): string => `${(bytes / Math.max(requests, 1) / 1024).toFixed(2).padStart(8)} KB`;
  const top = (map: Map<string, number>): string[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([name, bytes]) => `${perRequest(bytes)}  ${name}`);
  return [
    `${requests} requests, ${perRequest(total).trim()} ${survivorsOnly ? 'outliving a scavenge' : 'allocated'} per request`,
    '',
    'by package or file:',
    ...top(byOwner),
    '',
    'by function:',
    ...top(byFunction),
    '',
  ].join('\n');
}

let written = false;
function write(): void {
  if (written) {
    return;
  }
  written = true;
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error === null) {
      writeFileSync(`/tmp/allocations-${process.pid}.txt`, summary((result as { profile: { head: ProfileNode } }).profile.head));
    }
  });
}
// Both bench servers stop on SIGTERM by calling process.exit, which runs this synchronously.
process.prependListener('exit', write);
