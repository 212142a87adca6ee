// payctl's on-call commands against a running service (--url/--token), on both databases: health,
// monitor (a breach through the Stripe emulator's faults, declines left out), payments list/search/show
// across merchants, an operator refund (audited), provider status, the connectivity test and forced
// circuits; each refuses bad arguments in one line with nothing changed. On PostgreSQL the same commands
// also run in process beside the service; on PGlite, in process on a DATA_DIR no service holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_STRIPE_KEY } from '../src/providers/registry.js';
import { Api } from './support/http.js';
import { runPayctl, spawnPayctl } from './support/processes.js';
import { createMerchant, startTestService, type TestService, testDatabaseKind } from './support/service.js';

let t: TestService;
let stripe: Api;
let remote: string[];
const folders: string[] = [];
beforeAll(async () => {
  // Without fallback a refused Stripe call fails the payment instead of moving it to PayPal.
  t = await startTestService({ env: { FALLBACK_PROVIDER_ENABLED: 'false' } });
  stripe = new Api(t.service.providers.emulators.stripe?.url as string);
  remote = ['--url', t.url, '--token', t.adminToken];
});
afterEach(async () => {
  await stripe.delete('/_emulator/faults');
});
afterAll(async () => {
  // The last test closes the database under the service: close what is left, then drop it.
  await t.service.close().catch(() => {});
  await t.database?.drop();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const env = () => ({ LOG_LEVEL: 'warn' });
const SLOW = 90_000;
/** In process payctl builds the whole service in a fresh process: seconds, more on a busy machine. */
const IN_PROCESS = 80_000;

type Intent = { id: string; status: string; latest_charge: string | null };

async function pay(api: Api, paymentMethod = 'pm_card_visa', extra: Record<string, unknown> = {}) {
  const reply = await api.post<Intent & { error?: { payment_intent?: Intent } }>('/v1/payment_intents', {
    amount: 2000,
    currency: 'usd',
    payment_method: paymentMethod,
    confirm: 'true',
    ...extra,
  });
  // A decline answers 402 with the intent inside the error, as Stripe does.
  return reply.body.error?.payment_intent ?? reply.body;
}

async function faults(body: Record<string, unknown>) {
  const reply = await stripe.post('/_emulator/faults', body, { as: 'json' });
  expect(reply.status, reply.text).toBe(200);
}

/** A failure a person can read: non-zero exit, one line, naming the problem, no stack trace. */
function expectOneLineFailure(result: { code: number | null; output: string }, pattern: RegExp) {
  expect(result.code, result.output).not.toBe(0);
  expect(result.output.trim().split('\n')).toHaveLength(1);
  expect(result.output).toMatch(pattern);
  expect(result.output).not.toMatch(/\n\s+at /);
}

async function auditOf(action: string) {
  return (
    await t.admin.get<{
      data: { action: string; outcome: string; actor: { type: string }; new_value: unknown }[];
    }>('/admin/audit', { action })
  ).body.data;
}

describe('payctl health --url', { timeout: SLOW }, () => {
  it('prints every check with its latency and the process figures for scripts', async () => {
    const detailed = await runPayctl([...remote, '--json', 'health', '--detailed'], env());
    expect(detailed.code, detailed.output).toBe(0);
    const report = JSON.parse(detailed.stdout) as {
      status: string;
      checks: Record<string, { status: string; critical: boolean; latency_ms: number }>;
      process: { pid: number };
    };
    expect(report.status).toBe('healthy');
    expect(report.checks.database).toMatchObject({ status: 'up', critical: true });
    expect(report.checks.stripe_api).toMatchObject({ status: 'up', critical: false });
    expect(report.checks.database?.latency_ms).toBeGreaterThanOrEqual(0);
    expect(report.process.pid).toBe(process.pid);
  });
});

describe('payctl payments and refund --url', { timeout: SLOW }, () => {
  let succeeded: Intent;
  let declined: Intent;
  let other: Intent;
  let stuck: Intent;

  beforeAll(async () => {
    succeeded = await pay(t.merchant, 'pm_card_visa', { metadata: { order_id: 'A-1' } });
    declined = await pay(t.merchant, 'pm_card_chargeDeclined');
    const second = await createMerchant(t);
    other = await pay(second.api, 'pm_card_visa', { metadata: { order_id: 'B-2' }, currency: 'eur' });
    // Charged, its answer lost, its webhooks sent nowhere and every read-back refused: processing.
    await stripe.post(
      '/_emulator/webhook_target',
      { url: 'http://127.0.0.1:9/nowhere', secret: 'whsec_x' },
      { as: 'json' },
    );
    await faults({ mode: 'drop_after_charge' });
    stuck = await pay(t.merchant);
    await faults({ error_rate: 1, status: 429 });
    expect([succeeded.status, declined.status, other.status, stuck.status]).toEqual([
      'succeeded',
      'requires_payment_method',
      'succeeded',
      'processing',
    ]);
    // Half an hour later it is "pending for more than 30 minutes".
    expect((await t.api.post('/_test/clock', { advance_seconds: 31 * 60 })).status).toBe(200);
  });
  afterAll(() => {
    t.service.providers.listening(t.url);
  });

  it('lists payments pending for more than 30 minutes, and filters across merchants', async () => {
    // This test keeps the faults until it is done: the stuck payment must stay processing.
    await faults({ error_rate: 1, status: 429 });
    const stuckList = await runPayctl(
      [...remote, 'payments', 'list', '--status', 'processing', '--older-than', '30m'],
      env(),
    );
    expect(stuckList.code, stuckList.output).toBe(0);
    expect(stuckList.stdout).toMatch(/^ID\s+MERCHANT\s+MODE\s+STATUS\s+AMOUNT/);
    expect(stuckList.stdout).toMatch(
      new RegExp(`^${stuck.id}\\s+${t.merchantId}\\s+test\\s+processing\\s+2000\\s+usd\\s+stripe`, 'm'),
    );
    expect(stuckList.stdout.trim().split('\n')).toHaveLength(2);

    // Every flag maps onto the admin API's filters.
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const flags = await runPayctl(
      [
        ...remote,
        '--json',
        'payments',
        'list',
        '--merchant',
        t.merchantId,
        '--provider',
        'stripe',
        '--currency',
        'USD',
        '--min-amount',
        '2000',
        '--max-amount',
        '2000',
        '--from',
        day,
        '--to',
        String(Math.floor(Date.now() / 1000) + 7200),
        '--test',
        '--limit',
        '2',
      ],
      env(),
    );
    expect(flags.code, flags.output).toBe(0);
    expect(JSON.parse(flags.stdout)).toMatchObject({
      data: [
        { id: stuck.id, provider: 'stripe' },
        { id: declined.id, last_error: 'card_declined' },
      ],
      has_more: true,
    });

    const ids = async (query: Record<string, unknown>) => {
      const reply = await t.admin.get<{ data: { id: string }[] }>('/admin/payment_intents', query);
      expect(reply.status, reply.text).toBe(200);
      return reply.body.data.map((p) => p.id);
    };
    expect(await ids({ status: 'processing', older_than: '1h' })).toEqual([]);
    expect(await ids({ status: 'succeeded' })).toEqual([other.id, succeeded.id]);
    expect(await ids({ currency: 'eur' })).toEqual([other.id]);
    expect(await ids({ provider: 'paypal' })).toEqual([]);
    expect(await ids({ customer: 'cus_nobody' })).toEqual([]);
    expect(await ids({ 'amount[gt]': 2000 })).toEqual([]);
    expect(await ids({ livemode: 'true' })).toEqual([]);
    expect(await ids({ limit: 2, starting_after: stuck.id })).toEqual([other.id, declined.id]);
    const bad = await t.admin.get<{ error: { param: string } }>('/admin/payment_intents', {
      older_than: 'x',
    });
    expect([bad.status, bad.body.error.param]).toEqual([400, 'older_than']);
  });

  it('searches across merchants and shows one payment with its attempts, charges, refunds and events', async () => {
    const found = await runPayctl(
      [...remote, '--json', 'payments', 'search', "metadata['order_id']:'B-2'"],
      env(),
    );
    expect(found.code, found.output).toBe(0);
    expect((JSON.parse(found.stdout) as { data: { id: string }[] }).data.map((p) => p.id)).toEqual([
      other.id,
    ]);
    const narrowed = await t.admin.get<{ data: unknown[] }>('/admin/payment_intents/search', {
      query: "metadata['order_id']:'B-2'",
      merchant: t.merchantId,
    });
    expect(narrowed.body.data).toEqual([]);

    const shown = await runPayctl([...remote, 'payments', 'show', declined.id], env());
    expect(shown.code, shown.output).toBe(0);
    expect(shown.stdout).toContain(
      `${declined.id}  requires_payment_method  2000 usd  merchant ${t.merchantId}`,
    );
    expect(shown.stdout).toMatch(/last error: card_declined/);
    expect(shown.stdout).toMatch(
      /\nAttempts\nID\s+PROVIDER\s+STATUS[^\n]*\npa_\w+\s+stripe\s+failed\s+settled/,
    );
    expect(shown.stdout).toMatch(/\nCharges\nID[^\n]*\nch_\w+\s+failed/);
    expect(shown.stdout).toMatch(/\nRefunds\n\(none\)/);
    expect(shown.stdout).toMatch(/payment_intent\.payment_failed/);
    expect(shown.stdout).not.toContain('secret');
  });

  it('refunds as an operator through the refunds service, audited, and reports what the refund rules refuse', async () => {
    const refundArgs = [
      ...remote,
      '--json',
      'refund',
      succeeded.id,
      '--amount',
      '500',
      '--reason',
      'requested_by_customer',
      '--idempotency-key',
      'payctl-ops-refund',
    ];
    const partial = await runPayctl(refundArgs, env());
    expect(partial.code, partial.output).toBe(0);
    const refund = JSON.parse(partial.stdout) as { id: string };
    // The same command again (an operator retrying after a timeout) refunds nothing more.
    const retried = await runPayctl(refundArgs, env());
    expect(retried.code, retried.output).toBe(0);
    expect((JSON.parse(retried.stdout) as { id: string }).id).toBe(refund.id);
    expect(JSON.parse(partial.stdout)).toMatchObject({
      amount: 500,
      status: 'succeeded',
      reason: 'requested_by_customer',
    });
    const charge = await t.merchant.get<{ amount_refunded: number }>(
      `/v1/charges/${succeeded.latest_charge}`,
    );
    expect(charge.body.amount_refunded).toBe(500);

    // More than remains: the refunds service refuses it, nothing moves, and the attempt is audited.
    expectOneLineFailure(
      await runPayctl([...remote, 'refund', succeeded.id, '--amount', '1501'], env()),
      /answered 400: .*amount/i,
    );
    const audit = await auditOf('refund.create');
    expect(audit.map((e) => [e.outcome, e.actor.type])).toEqual([
      ['failure', 'operator'],
      ['success', 'operator'],
    ]);
    expect(audit[1]?.new_value).toMatchObject({
      payment_intent: succeeded.id,
      amount: 500,
      merchant: t.merchantId,
    });
    const detail = await t.admin.get<{ refunds: { id: string }[]; events: { type: string }[] }>(
      `/admin/payment_intents/${succeeded.id}`,
    );
    expect(detail.body.refunds.map((r) => r.id)).toEqual([refund.id]);
    expect(detail.body.events.map((e) => e.type)).toContain('charge.refunded');
  });

  it('refuses bad arguments in one line and changes nothing', async () => {
    const refunds = async () => (await auditOf('refund.create')).length;
    const before = await refunds();
    for (const [args, pattern] of [
      [['refund', succeeded.id, '--amount', '0'], /--amount: must be a positive integer/],
      [['payments', 'list', '--older-than', 'soon'], /--older-than: must be a duration/],
      [['providers', 'circuit', 'shut', 'stripe'], /<action>: must be open, close or auto/],
      [['monitor', '--threshold', '101'], /--threshold: must be a percentage from 0 to 100/],
    ] as [string[], RegExp][]) {
      expectOneLineFailure(await runPayctl([...remote, ...args], env()), pattern);
    }
    expect(await refunds()).toBe(before);
    const charge = await t.merchant.get<{ amount_refunded: number }>(
      `/v1/charges/${succeeded.latest_charge}`,
    );
    expect(charge.body.amount_refunded).toBe(500);
  });
});

describe('payctl providers --url', { timeout: SLOW }, () => {
  it('shows health, circuits and switches; forces a circuit open, then closed', async () => {
    const status = await runPayctl([...remote, 'providers', 'status'], env());
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toMatch(/^stripe\s+true\s+connected\s+closed\s+closed\s+auto/m);
    expect(status.stdout).toMatch(/^paypal\s+true\s+connected\s+closed/m);
    expect(status.stdout).toMatch(/^fallback_provider_enabled\s+false\s+default/m);

    const open = await runPayctl([...remote, '--json', 'providers', 'circuit', 'open', 'stripe'], env());
    expect(open.code, open.output).toBe(0);
    expect(JSON.parse(open.stdout)).toMatchObject({ provider: 'stripe', state: 'open', forced: 'open' });
    expect((await pay(t.merchant)).status).not.toBe('succeeded');

    const closed = await runPayctl([...remote, 'providers', 'circuit', 'close', 'stripe'], env());
    expect(closed.code, closed.output).toBe(0);
    expect(closed.stdout).toMatch(/^stripe\s+true\s+-\s+closed\s+closed\s+closed/m);
    expect((await pay(t.merchant)).status).toBe('succeeded');
    const audit = await t.admin.get<{ data: { new_value: unknown }[] }>('/admin/audit', {
      resource: 'stripe',
    });
    expect(audit.body.data.map((e) => e.new_value)).toMatchObject([
      { forced_state: 'closed' },
      { forced_state: 'open' },
    ]);
    await t.admin.post('/admin/providers/stripe/circuit', { state: 'auto' });
  });

  it('verifies each card provider with a charge and a refund, and exits 1 when one fails', async () => {
    const ok = await runPayctl([...remote, 'providers', 'verify'], env());
    expect(ok.code, ok.output).toBe(0);
    expect(ok.stdout).toMatch(/^stripe\s+ok\s+ok/m);
    expect(ok.stdout).toMatch(/^paypal\s+ok\s+ok/m);

    await faults({ mode: 'refuse' });
    const failed = await runPayctl([...remote, 'providers', 'verify'], env());
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^stripe\s+failed\s+skipped/m);
    expect(failed.output).toMatch(/payctl: connectivity test failed for stripe\n/);
  });
});

describe('payctl monitor --url', { timeout: SLOW }, () => {
  it('watches for the whole duration and exits 0 without a breach', async () => {
    const quiet = await runPayctl([...remote, 'monitor', '--duration', '1s', '--interval', '1s'], env());
    expect(quiet.code, quiet.output).toBe(0);
    expect(quiet.stdout).toMatch(/^TIME\s+ATTEMPTS\s+SUCCEEDED\s+FAILED\s+DECLINED/m);
    expect(quiet.stdout).toMatch(/no breach: 0% failures over 0 attempts \(threshold 1%\)/);
  });

  it('leaves declines out, and exits 1 as soon as failures pass the threshold', async () => {
    const watch = spawnPayctl(
      [...remote, '--json', 'monitor', '--duration', '10m', '--interval', '1s', '--threshold', '1'],
      env(),
    );
    try {
      await watch.waitFor('"object":"monitor_sample"');
      expect((await pay(t.merchant)).status).toBe('succeeded');
      expect((await pay(t.merchant, 'pm_card_chargeDeclined')).status).toBe('requires_payment_method');
      await watch.waitFor(/"outcomes":\{"succeeded":1,"failed":0,"declined":1[^\n]*"breached":false/);
      // Stripe refuses the request outright (400): proven no charge, so the attempt fails (not unknown).
      await faults({ error_rate: 1, status: 400 });
      expect((await pay(t.merchant)).status).toBe('requires_payment_method');
      const { code } = await watch.exited;
      expect(code, watch.output()).toBe(1);
      const samples = watch
        .stdout()
        .trim()
        .split('\n')
        .map(
          (line) => JSON.parse(line) as { failure_percent: number; breached: boolean; error_budget: unknown },
        );
      expect(samples.at(-1)).toMatchObject({
        failure_percent: 50,
        breached: true,
        error_budget: { slo_percent: 99.9, burn_rate: 500 },
      });
      expect(watch.output()).toMatch(
        /payctl: failures at 50% are above the threshold of 1% \(1 of 2 attempts failed since [^)]+, declines excluded\)\n$/,
      );
    } finally {
      watch.child.kill('SIGKILL');
    }
  });
});

describe.runIf(testDatabaseKind() === 'postgres')('payctl in process beside the service (PostgreSQL)', () => {
  // In process payctl builds its own providers: point them at the service's emulators, as production
  // points every replica and payctl at the same Stripe.
  const local = () => ({
    LOG_LEVEL: 'warn',
    DATABASE_URL: t.database?.url as string,
    STRIPE_API_BASE: stripe.baseUrl,
    STRIPE_SECRET_KEY: EMBEDDED_STRIPE_KEY,
    FALLBACK_PROVIDER_ENABLED: 'false',
  });

  it(
    'refunds (audited as the CLI user), forces a circuit every replica obeys, checks health, watches',
    async () => {
      const paid = await pay(t.merchant);
      const refund = await runPayctl(
        ['--json', 'refund', paid.id, '--amount', '300'],
        { ...local(), USER: 'oncall' },
        IN_PROCESS,
      );
      expect(refund.code, refund.output).toBe(0);
      expect(JSON.parse(refund.stdout)).toMatchObject({ amount: 300, status: 'succeeded' });
      const audit = await auditOf('refund.create');
      expect(audit[0]).toMatchObject({ outcome: 'success', actor: { type: 'cli', id: 'oncall' } });

      const open = await runPayctl(['--json', 'providers', 'circuit', 'open', 'paypal'], local(), IN_PROCESS);
      expect(open.code, open.output).toBe(0);
      const seen = (
        await t.admin.get<{ data: { provider: string; forced: string | null }[] }>('/admin/providers')
      ).body.data;
      expect(seen.find((p) => p.provider === 'paypal')?.forced).toBe('open');
      expect((await runPayctl(['providers', 'circuit', 'auto', 'paypal'], local(), IN_PROCESS)).code).toBe(0);

      const health = await runPayctl(['health'], local(), IN_PROCESS);
      expect(health.code, health.output).toBe(0);
      expect(health.stdout).toMatch(/^status: \w+ \(in process\)/);
      expect(health.stdout).toMatch(/^database\s+up\s+connected$/m);

      const watch = await runPayctl(['monitor', '--duration', '1s', '--interval', '1s'], local(), IN_PROCESS);
      expect(watch.code, watch.output).toBe(0);
      expect(watch.stdout).toMatch(/no breach/);
    },
    4 * IN_PROCESS,
  );
});

describe.runIf(testDatabaseKind() === 'pglite')('payctl in process on an embedded DATA_DIR', () => {
  it(
    'checks health on a DATA_DIR no service holds',
    async () => {
      const folder = mkdtempSync(path.join(tmpdir(), 'payctl-ops-'));
      folders.push(folder);
      const local = { LOG_LEVEL: 'warn', DATA_DIR: folder, EMULATORS: 'off' };
      // The first open of a DATA_DIR creates and migrates the database: the slowest payctl start.
      const health = await runPayctl(['--json', 'health'], local, IN_PROCESS);
      expect(health.code, health.output).toBe(0);
      expect(JSON.parse(health.stdout)).toMatchObject({
        status: 'healthy',
        checks: { database: { status: 'up' } },
      });
    },
    SLOW,
  );
});

describe('payctl health when the database is gone', { timeout: SLOW }, () => {
  it('prints the failed check and exits 1 (run last: it closes the service database)', async () => {
    await t.service.database.close();
    const result = await runPayctl([...remote, 'health'], env());
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^status: unhealthy/);
    expect(result.stdout).toMatch(/^database\s+down\s+disconnected$/m);
    expect(result.output).toMatch(/payctl: the service is unhealthy \(database: [^)]+\)\n$/);
  });
});
