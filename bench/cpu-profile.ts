// Where a process's CPU went, from the .cpuprofile files `node --cpu-prof` writes: self time per
// function and per package (node_modules/<name>, node: internals, the service's own dist/ code),
// summed over several profiles (one per replica), idle time left out.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  files: number;
  /**
   * Milliseconds sampled while not idle, over every file. V8 samples on wall time: a thread waiting for
   * a core is charged to whatever it was running, so this exceeds its CPU time on a busy machine.
   */
  busyMs: number;
  functions: [string, number][];
  packages: [string, number][];
}

const IDLE = new Set(['(idle)']);

function packageOf(url: string, name: string): string {
  if (name.startsWith('(')) return name; // (garbage collector), (program)
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return modules[1];
  if (url === '') return 'native (system calls, V8 builtins)';
  if (url.startsWith('node:')) return 'node: internals';
  const own = /\/(src\/[^/]+(?:\/[^/]+)?)\//.exec(url);
  return own?.[1] ? `service ${own[1]}` : url;
}

function label(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const short = frame.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '');
  return `${name} ${short.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
}

/**
 * Sums every *.cpuprofile in `dir`, counting only samples taken inside `window` (microseconds of the
 * monotonic clock, as `process.hrtime.bigint() / 1000n` and V8's profile timestamps both read it), so
 * start-up (module loading, migrations) and shutdown are left out.
 */
export function summariseProfiles(dir: string, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busy = 0;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    let at = profile.startTime;
    // timeDeltas[i] is the time before sample i; charge it to the sample (V8's own convention).
    for (let i = 0; i < profile.samples.length; i++) {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (window && (at < window.fromUs || at > window.toUs)) continue;
      const node = nodes.get(profile.samples[i] as number);
      if (!node || IDLE.has(node.callFrame.functionName)) continue;
      const ms = delta / 1000;
      busy += ms;
      const fn = label(node.callFrame);
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
      const pkg = packageOf(node.callFrame.url, node.callFrame.functionName);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    }
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { files: files.length, busyMs: busy, functions: sorted(byFunction), packages: sorted(byPackage) };
}
