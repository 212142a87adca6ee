// Chaos scenario 4: the card provider (Stripe emulator, its own process) down and slow, PayPal (its
// own emulator process) as the fallback. DESIGN section 6 and the README: a card payment falls back to
// PayPal only when Stripe proved it charged nothing (connection refused, circuit open), never after an
// unknown outcome (a timeout); the circuit opens under failures and closes after a good probe.
import { afterFault, note, query, type Verdict } from './chaos-checks.js';
import { createAgent, type KeyRecord, kindOf, newKeys, pay, runPool, sleep, tally } from './chaos-client.js';
import { EmulatorProcess, ServiceProcess } from './chaos-procs.js';
import { createDatabase } from './payments-procs.js';

const TIMEOUT_MS = 1_000;
const HALF_OPEN_AFTER_MS = 2_000;

type Outcome = { status: string; succeededOn: string | null; attempts: string[] };

/** Per key: the payment's status, the provider it succeeded on, and its attempts in order. */
async function outcomes(dbUrl: string, keys: KeyRecord[]): Promise<Map<string, Outcome>> {
  const rows = await query<{
    key: string;
    status: string;
    provider: string;
    attempt_status: string;
    code: string | null;
  }>(
    dbUrl,
    `select i.metadata->>'chaos_key' as key, i.status, a.provider, a.status as attempt_status, a.error->>'code' as code
       from payment_intents i join payment_attempts a on a.payment_intent_id = i.id
      where i.metadata->>'chaos_key' = any($1) order by a.created_at, a.id`,
    [keys.map((k) => k.key)],
  );
  const map = new Map<string, Outcome>();
  for (const row of rows) {
    const entry = map.get(row.key) ?? { status: row.status, succeededOn: null, attempts: [] };
    entry.attempts.push(`${row.provider}:${row.attempt_status}${row.code ? `(${row.code})` : ''}`);
    if (row.attempt_status === 'succeeded') entry.succeededOn = row.provider;
    map.set(row.key, entry);
  }
  return map;
}

function attemptTally(map: Map<string, Outcome>): string {
  const counts = new Map<string, number>();
  for (const o of map.values())
    counts.set(o.attempts.join(' > '), (counts.get(o.attempts.join(' > ')) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}: ${n}`).join('; ');
}

export async function providerFaults(verdict: Verdict, adminUrl: string): Promise<void> {
  const db = await createDatabase(adminUrl);
  const stripe = await EmulatorProcess.start('stripe');
  const paypal = await EmulatorProcess.start('paypal');
  const service = await ServiceProcess.create('provider', {
    DATABASE_URL: db.url,
    ...stripe.serviceEnv(),
    ...paypal.serviceEnv(),
    STRIPE_TIMEOUT_MS: String(TIMEOUT_MS),
    CIRCUIT_BREAKER_HALF_OPEN_AFTER_MS: String(HALF_OPEN_AFTER_MS),
    // A shorter window than the default 30 s, so the phases before do not dilute the timeouts' ratio.
    CIRCUIT_BREAKER_WINDOW_MS: '8000',
  });
  await stripe.sendWebhooksTo(service);
  await service.turnOffCardVelocity();
  const all: KeyRecord[] = [];
  let batch = 0;
  const send = async (count: number, concurrency: number) => {
    const keys = newKeys(`provider-${++batch}`, count, 1000 + batch * 1000);
    all.push(...keys);
    const agent = createAgent(concurrency);
    await runPool(keys, concurrency, (record) => pay(service.port, service.secretKey, record, agent));
    agent.destroy();
    return keys;
  };
  /** Single payments until one succeeds at Stripe (a good probe closes the circuit), or 60 s. */
  const untilStripeAgain = async () => {
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      const [record] = await send(1, 1);
      const outcome = (await outcomes(db.url, [record!])).get(record!.key);
      if (outcome?.succeededOn === 'stripe') return Date.now() - started;
      await sleep(500);
    }
    return Number.NaN;
  };
  const firstAnswers = (keys: KeyRecord[]) => tally(keys.map((k) => k.answers[0]!));
  const no5xx = (keys: KeyRecord[], what: string) => {
    const bad = keys.filter((k) => (k.answers[0]?.status ?? 0) >= 500 || k.answers[0]?.status === 0);
    verdict.check(
      bad.length === 0,
      `no 5xx or dropped answer ${what}`,
      bad
        .slice(0, 3)
        .map((k) => kindOf(k.answers[0]!))
        .join(', '),
    );
  };

  // Baseline.
  const base = await send(40, 8);
  note(`baseline, 40 payments: ${firstAnswers(base)}; circuits ${JSON.stringify(await service.circuits())}`);

  // Outage: the emulator's port refuses connections.
  await stripe.stop();
  const down = await send(150, 10);
  const downOutcomes = await outcomes(db.url, down);
  const circuitDown = await service.circuits();
  note(`Stripe down (connection refused), 150 payments: ${firstAnswers(down)}`);
  note(`  attempts per payment: ${attemptTally(downOutcomes)}; circuits ${JSON.stringify(circuitDown)}`);
  verdict.check(
    down.every((k) => k.answers[0]?.status === 200 && k.answers[0]?.body?.status === 'succeeded'),
    'every payment during the outage succeeds (fallback)',
  );
  verdict.check(
    [...downOutcomes.values()].every((o) => o.succeededOn === 'paypal'),
    'each succeeded on PayPal',
  );
  verdict.check(circuitDown.stripe === 'open', "Stripe's circuit opened", `state ${circuitDown.stripe}`);
  const stripeTried = [...downOutcomes.values()].filter((o) =>
    o.attempts.some((a) => a.startsWith('stripe')),
  ).length;
  note(
    `  payments whose failed Stripe attempt (refused, or circuit open) preceded PayPal: ${stripeTried} of 150`,
  );

  // Recovery: the emulator back on its port; after the half-open delay a probe closes the circuit.
  await stripe.start();
  const closedAfter = await untilStripeAgain();
  const circuitBack = await service.circuits();
  verdict.check(
    Number.isFinite(closedAfter),
    'payments go to Stripe again after it is back',
    `${closedAfter} ms`,
  );
  verdict.check(
    circuitBack.stripe === 'closed',
    "Stripe's circuit closed after recovery",
    `state ${circuitBack.stripe}`,
  );
  const after = await send(40, 8);
  const afterOutcomes = await outcomes(db.url, after);
  note(`after recovery, 40 payments: ${firstAnswers(after)}; ${attemptTally(afterOutcomes)}`);
  verdict.check(
    [...afterOutcomes.values()].every((o) => o.succeededOn === 'stripe'),
    'all 40 succeeded on Stripe',
  );

  // Slow but inside the timeout: slower, nothing else changes.
  await stripe.faults({ latency_ms: 300 });
  const slow = await send(40, 8);
  note(`Stripe at 300 ms (timeout ${TIMEOUT_MS} ms), 40 payments: ${firstAnswers(slow)}`);
  verdict.check(
    [...(await outcomes(db.url, slow)).values()].every(
      (o) => o.succeededOn === 'stripe' && o.attempts.length === 1,
    ),
    'all succeeded on Stripe, one attempt each',
  );

  // Slower than the timeout: unknown outcomes stay processing (no fallback after them); once the
  // circuit opens, payments fall back. The emulator still charges the requests it was sent.
  await stripe.faults({ latency_ms: TIMEOUT_MS + 500 });
  await sleep(8_000); // the breaker's window forgets the fast calls
  const late = await send(100, 10);
  const lateOutcomes = await outcomes(db.url, late);
  const circuitLate = await service.circuits();
  note(`Stripe at ${TIMEOUT_MS + 500} ms (past the timeout), 100 payments: ${firstAnswers(late)}`);
  note(`  attempts per payment: ${attemptTally(lateOutcomes)}; circuits ${JSON.stringify(circuitLate)}`);
  no5xx(late, 'while Stripe is slower than the timeout');
  // A payment with several attempts: every attempt but the last must have failed (proved no charge).
  const fellBackAfterUnknown = [...lateOutcomes.values()].filter((o) =>
    o.attempts.slice(0, -1).some((a) => !a.includes(':failed')),
  );
  const fellBack = [...lateOutcomes.values()].filter((o) => o.attempts.length > 1).length;
  note(`  payments that fell back to PayPal after a refused Stripe attempt (circuit open): ${fellBack}`);
  verdict.check(
    fellBackAfterUnknown.length === 0,
    'no fallback after a Stripe attempt that may have charged (timeout)',
    fellBackAfterUnknown
      .slice(0, 3)
      .map((o) => o.attempts.join(' > '))
      .join('; '),
  );
  await stripe.clearFaults();
  await sleep(TIMEOUT_MS + 1_000);
  const closedAgain = await untilStripeAgain();
  const circuitEnd = await service.circuits();
  verdict.check(
    Number.isFinite(closedAgain),
    'payments go to Stripe again once it is fast',
    `${closedAgain} ms`,
  );
  verdict.check(
    circuitEnd.stripe === 'closed',
    "Stripe's circuit closed at the end",
    `state ${circuitEnd.stripe}`,
  );

  await afterFault(verdict, service, db.url, all, [stripe, paypal]);
  const final = await outcomes(db.url, late);
  note(`the 100 late payments after recovery: ${attemptTally(final)}`);
  await service.stop();
  await stripe.stop();
  await paypal.stop();
  await db.drop();
}
