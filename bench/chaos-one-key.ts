// Chaos scenario 5: CHAOS_ONE_KEY_REQUESTS (10,000) requests with one Idempotency-Key and one body,
// all sent at once, each on its own connection. DESIGN section 5: exactly one execution (one provider
// charge, counted at the emulator); every answer is that payment or a 409 idempotency_key_in_use; no
// 500. The emulator answers 300 ms late so the one execution is in flight while the rest arrive.
import { readFileSync } from 'node:fs';
import { note, type Verdict } from './chaos-checks.js';
import { type KeyRecord, kindOf, pay, sleep, tally } from './chaos-client.js';
import { EmulatorProcess, ServiceProcess } from './chaos-procs.js';
import { createDatabase } from './payments-procs.js';

/** The kernel's TCP counters of listen-queue overflows (machine-wide: /proc/net/netstat). */
function listenOverflows(): { overflows: number; drops: number } {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const names = lines.find((l) => l.startsWith('TcpExt:'))?.split(' ') ?? [];
  const values = lines.filter((l) => l.startsWith('TcpExt:'))[1]?.split(' ') ?? [];
  const value = (name: string) => Number(values[names.indexOf(name)] ?? Number.NaN);
  return { overflows: value('ListenOverflows'), drops: value('ListenDrops') };
}

/**
 * One request as a client does it: a connection reset before any answer is retried with the same
 * key (what the key is for), up to 3 times; every answer is kept, the last one counts.
 */
async function request(service: ServiceProcess, record: KeyRecord, retried: { n: number }) {
  for (let attempt = 0; ; attempt++) {
    const reply = await pay(service.port, service.secretKey, record, false);
    if (reply.status !== 0 || attempt === 3) return reply;
    retried.n++;
  }
}

export async function oneKey(verdict: Verdict, adminUrl: string, requests: number): Promise<void> {
  const db = await createDatabase(adminUrl);
  const stripe = await EmulatorProcess.start('stripe');
  const paypal = await EmulatorProcess.start('paypal');
  const service = await ServiceProcess.create('one-key', {
    DATABASE_URL: db.url,
    ...stripe.serviceEnv(),
    ...paypal.serviceEnv(),
  });
  await stripe.sendWebhooksTo(service);
  await stripe.faults({ latency_ms: 300 });
  const record: KeyRecord = { key: `one-key-${Date.now()}`, amount: 4242, answers: [] };
  const started = performance.now();
  const kernelBefore = listenOverflows();
  const retried = { n: 0 };
  // No agent: a connection per request, all opened together.
  const finals = await Promise.all(Array.from({ length: requests }, () => request(service, record, retried)));
  const seconds = (performance.now() - started) / 1000;
  const kernelAfter = listenOverflows();
  await stripe.clearFaults();
  note(`${requests} requests in ${seconds.toFixed(1)} s: ${tally(record.answers)}`);
  note(
    `${retried.n} connections reset before an answer were retried with the same key; the kernel counted ` +
      `${kernelAfter.overflows - kernelBefore.overflows} listen-queue overflows and ${kernelAfter.drops - kernelBefore.drops} drops meanwhile (machine-wide)`,
  );
  note(`final answer per request: ${tally(finals)}`);
  const startedAt = Date.now() - seconds * 1000;
  const when = (filter: (a: (typeof record.answers)[number]) => boolean) => {
    const times = record.answers.filter(filter).map((a) => (a.at - startedAt) / 1000);
    return times.length ? `${Math.min(...times).toFixed(1)}-${Math.max(...times).toFixed(1)} s` : '-';
  };
  note(
    `answered at: 200 ${when((a) => a.status === 200)}, 409 ${when((a) => a.status === 409)}, no answer ${when((a) => a.status === 0)}`,
  );

  const ids = new Set(record.answers.filter((a) => a.status === 200).map((a) => a.body?.id));
  const others = finals.filter(
    (a) => a.status !== 200 && !(a.status === 409 && a.body?.error?.code === 'idempotency_key_in_use'),
  );
  verdict.check(ids.size === 1, 'every 200 names the same payment', [...ids].slice(0, 3).join(', '));
  verdict.check(
    others.length === 0,
    'every other final answer is 409 idempotency_key_in_use (no 500, none dropped after 3 retries)',
    others.length ? `${others.length}: ${tally(others)}` : '',
  );
  const fiveHundreds = record.answers.filter((a) => a.status >= 500).length;
  verdict.check(fiveHundreds === 0, 'no 5xx', `${fiveHundreds}`);
  // A last retry once all is done: the stored answer, replayed.
  await sleep(500);
  const last = await pay(service.port, service.secretKey, record, false);
  verdict.check(
    last.status === 200 &&
      last.replayed === true &&
      last.body?.status === 'succeeded' &&
      ids.has(last.body?.id),
    'a retry afterwards replays the succeeded payment',
    kindOf(last),
  );
  const charges = await stripe.charges();
  const total = [...charges.values()].reduce((sum, n) => sum + n, 0);
  const paypalCharges = [...(await paypal.charges()).values()].reduce((sum, n) => sum + n, 0);
  verdict.check(
    total === 1 && paypalCharges === 0,
    'exactly one provider charge (counted at the emulators)',
    `Stripe ${total}, PayPal ${paypalCharges}`,
  );
  await service.stop();
  await stripe.stop();
  await paypal.stop();
  await db.drop();
}
