// The HTTP reference for `npm run bench`: a fastify hello-world (bench/hello-server.ts, its own process)
// under the load tool the payments benchmark uses (bench/payments-load.ts, closed loop, the same
// BENCH_CONNECTIONS keep-alive connections, warm-up and window). Its requests/s is the "limit" a
// service's requests/s is divided by; on two shared cores the load tool itself takes a good part of
// the machine, which it does in the payments runs too.
//   node dist-bench/bench/hello.js   (after tsc -p tsconfig.bench.json)
import { fileURLToPath } from 'node:url';
import { fmt, numberEnv, result as record, writeResults } from './bench-env.js';
import { closedLoop, percentile } from './payments-load.js';
import {
  cleanupAll,
  cleanupOnSignals,
  cpuSeconds,
  freePort,
  loadAverage,
  sampleRss,
  spawnNode,
  waitReady,
} from './payments-procs.js';

const SECONDS = numberEnv('BENCH_SECONDS', 15);
const WARMUP = numberEnv('BENCH_WARMUP_SECONDS', 3);
const CONNECTIONS = numberEnv('BENCH_CONNECTIONS', 32);
const SERVER = fileURLToPath(new URL('./hello-server.js', import.meta.url));

async function run(): Promise<void> {
  const port = await freePort();
  const started = performance.now();
  const server = spawnNode('hello-world', SERVER, [], {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: String(port),
  });
  await waitReady(server, port, '/', started, 30_000);
  const cpuBefore = cpuSeconds(server.pid);
  const ownBefore = process.cpuUsage();
  const rss = sampleRss(server.pid);
  const load = await closedLoop({ port, secretKey: 'sk_test_hello' }, CONNECTIONS, SECONDS, WARMUP);
  const own = process.cpuUsage(ownBefore);
  const serverCpu = cpuSeconds(server.pid) - cpuBefore;
  const maxRss = rss.stop();
  await server.stop();
  const perRequest = (seconds: number) => fmt((seconds * 1000) / Math.max(1, load.succeededTotal), 3);
  const detail =
    `${CONNECTIONS} connections, ${SECONDS} s; p50 ${fmt(percentile(load.latencies, 50), 2)} ms, ` +
    `p99 ${fmt(percentile(load.latencies, 99), 2)} ms; errors ${load.errors} / ${load.errorsOutsideWindow}; ` +
    `CPU per request: server ${perRequest(serverCpu)} ms, load tool ${perRequest((own.user + own.system) / 1e6)} ms; ` +
    `server RSS ${fmt(maxRss)} MB`;
  record('hello_per_s', load.perSecond, detail);
  process.stdout.write(
    `fastify hello-world under the payments load tool: ${fmt(load.perSecond)} req/s\n  ${detail}\n`,
  );
  for (const [kind, { count, sample }] of load.errorKinds)
    process.stdout.write(`  error ${kind}: ${count}x, first body: ${sample}\n`);
}

cleanupOnSignals(writeResults);
process.stdout.write(`fastify hello-world reference, load average ${loadAverage()}\n`);
let failed = false;
try {
  await run();
} catch (error) {
  failed = true;
  process.stderr.write(`hello-world benchmark failed: ${(error as Error).stack ?? String(error)}\n`);
} finally {
  await cleanupAll();
}
writeResults();
process.exit(failed ? 1 : 0);
