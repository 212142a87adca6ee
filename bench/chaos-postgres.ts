// Chaos scenario 2: the service's PostgreSQL (a private cluster of this run, never the shared one)
// stopped with `pg_ctl -m immediate` (a crash: no checkpoint, every connection cut) and started again
// while payments run. The service is not restarted: it must come back by itself (ready again, payments
// succeeding), and the money must add up as after any fault.
import pg from 'pg';
import { createPrivateCluster } from '../test/support/private-cluster.js';
import { afterFault, note, type Verdict } from './chaos-checks.js';
import { sleep, steadyLoad, windows } from './chaos-client.js';
import { EmulatorProcess, ServiceProcess } from './chaos-procs.js';
import { onCleanup } from './payments-procs.js';

const CONCURRENCY = 32;

export async function postgresRestart(verdict: Verdict): Promise<void> {
  const cluster = await createPrivateCluster();
  onCleanup('private PostgreSQL cluster', () => cluster.destroy());
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query('create database chaos');
  await admin.end();
  const dbUrl = cluster.url.replace(/\/postgres$/, '/chaos');
  note(`private cluster on port ${cluster.port}`);

  const stripe = await EmulatorProcess.start('stripe');
  const paypal = await EmulatorProcess.start('paypal');
  const service = await ServiceProcess.create('postgres', {
    DATABASE_URL: dbUrl,
    ...stripe.serviceEnv(),
    ...paypal.serviceEnv(),
  });
  await stripe.sendWebhooksTo(service);
  await service.turnOffCardVelocity();
  const pid = service.pid;

  const load = steadyLoad(service, 'pg', CONCURRENCY);
  const t0 = Date.now();
  await sleep(4_000);
  const stoppedAt = Date.now();
  cluster.stop('immediate');
  note(`PostgreSQL stopped (immediate) ${stoppedAt - t0} ms into the load`);
  await sleep(3_000);
  cluster.start();
  const startedAt = Date.now();
  note(`PostgreSQL started again after ${startedAt - stoppedAt} ms down`);

  let readyMs = Number.NaN;
  while (Date.now() - startedAt < 90_000) {
    if (await service.healthy()) {
      readyMs = Date.now() - startedAt;
      break;
    }
    await sleep(100);
  }
  // The first payment sent after the database came back that succeeded: the service takes payments.
  let firstOkMs = Number.NaN;
  while (Date.now() - startedAt < 90_000 && Number.isNaN(firstOkMs)) {
    await sleep(200);
    const ok = load.records
      .filter((r) => (load.sentAt.get(r.key) ?? 0) >= startedAt)
      .filter((r) => r.answers[0]?.status === 200 && r.answers[0]?.body?.status === 'succeeded')
      .map((r) => r.answers[0]!.at - startedAt);
    if (ok.length > 0) firstOkMs = Math.min(...ok);
  }
  await sleep(4_000);
  const endedAt = Date.now();
  await load.stop();
  for (const line of windows(load, [
    { name: 'before the stop', from: t0, to: stoppedAt },
    { name: 'database down', from: stoppedAt, to: startedAt },
    { name: 'after the start', from: startedAt, to: endedAt + 1 },
  ]))
    note(line);

  verdict.check(
    service.pid === pid && service.child?.process.exitCode === null,
    'the service process was never restarted (same pid, still running)',
  );
  verdict.check(
    Number.isFinite(readyMs),
    '/health/ready answers 200 again by itself',
    `${readyMs} ms after PostgreSQL started`,
  );
  verdict.check(
    Number.isFinite(firstOkMs),
    'payments succeed again without a service restart',
    `first success ${firstOkMs} ms after PostgreSQL started`,
  );
  const fiveHundreds = load.records.filter((r) => (r.answers[0]?.status ?? 0) === 500);
  note(
    `500 answers during the load: ${fiveHundreds.length}${fiveHundreds[0] ? `, first: ${JSON.stringify(fiveHundreds[0].answers[0]?.body)}` : ''}`,
  );
  await afterFault(verdict, service, dbUrl, load.records, [stripe, paypal]);
  await service.stop();
}
