// Chaos scenario 3: the service's Redis (a private redis-server of this run, never the shared one)
// flushed, then stopped, then started again while payments run. Redis holds caches and counters only
// (README: correctness never depends on it): payments must go on, perhaps degraded, charging once.
import { afterFault, note, type Verdict } from './chaos-checks.js';
import { sleep, steadyLoad, windows } from './chaos-client.js';
import { EmulatorProcess, RedisProcess, ServiceProcess } from './chaos-procs.js';
import { createDatabase } from './payments-procs.js';

const CONCURRENCY = 32;

export async function redisFaults(verdict: Verdict, adminUrl: string): Promise<void> {
  const db = await createDatabase(adminUrl);
  const redis = await RedisProcess.start();
  note(`private redis-server on port ${redis.port}`);
  const stripe = await EmulatorProcess.start('stripe');
  const paypal = await EmulatorProcess.start('paypal');
  const service = await ServiceProcess.create('redis', {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    ...stripe.serviceEnv(),
    ...paypal.serviceEnv(),
  });
  await stripe.sendWebhooksTo(service);
  await service.turnOffCardVelocity();
  const pid = service.pid;

  const load = steadyLoad(service, 'redis', CONCURRENCY);
  const t0 = Date.now();
  await sleep(4_000);
  const flushedAt = Date.now();
  note(`FLUSHALL ${flushedAt - t0} ms into the load: ${redis.flushAll()}`);
  await sleep(4_000);
  const stoppedAt = Date.now();
  redis.stop();
  note(`redis-server stopped (shutdown nosave) ${stoppedAt - t0} ms into the load`);
  await sleep(6_000);
  const startedAt = Date.now();
  redis.start();
  note(`redis-server started again after ${startedAt - stoppedAt} ms down`);
  await sleep(6_000);
  const endedAt = Date.now();
  await load.stop();
  const marks = [
    { name: 'before the flush', from: t0, to: flushedAt },
    { name: 'after the flush', from: flushedAt, to: stoppedAt },
    { name: 'Redis down', from: stoppedAt, to: startedAt },
    { name: 'Redis back', from: startedAt, to: endedAt + 1 },
  ];
  for (const line of windows(load, marks)) note(line);
  const succeededIn = (from: number, to: number) =>
    load.records.filter((r) => {
      const at = load.sentAt.get(r.key) ?? 0;
      return (
        at >= from && at < to && r.answers[0]?.status === 200 && r.answers[0]?.body?.status === 'succeeded'
      );
    }).length;
  verdict.check(
    service.pid === pid && service.child?.process.exitCode === null,
    'the service process kept running (never restarted)',
  );
  verdict.check(succeededIn(flushedAt, stoppedAt) > 0, 'payments succeed after FLUSHALL');
  verdict.check(succeededIn(stoppedAt, startedAt) > 0, 'payments succeed while Redis is down');
  verdict.check(succeededIn(startedAt, endedAt + 1) > 0, 'payments succeed after Redis is back');
  const fiveHundreds = load.records.filter((r) => (r.answers[0]?.status ?? 0) >= 500);
  verdict.check(
    fiveHundreds.length === 0,
    'no 5xx answer while Redis is flushed or down',
    fiveHundreds[0]
      ? `${fiveHundreds.length}, first: ${JSON.stringify(fiveHundreds[0].answers[0]?.body)}`
      : '',
  );
  verdict.check(await service.healthy(), '/health/ready is 200 at the end');
  await afterFault(verdict, service, db.url, load.records, [stripe, paypal]);
  await service.stop();
  await db.drop();
}
