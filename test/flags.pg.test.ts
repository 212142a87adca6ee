// The kill switch and rollout reach every replica (PostgreSQL only: two services on one database, and
// payctl in process beside them): a change made on one is obeyed by the other within 5 s, without a
// restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let a: TestService;
let b: TestService;
beforeAll(async () => {
  a = await startTestService();
  b = await startTestService({ databaseUrl: a.database?.url as string });
});
afterAll(async () => {
  await b?.service.close();
  await a?.close();
});

const FLAG = 'payments_live_v1';

/** A payment on replica b with a's merchant (one database, so its key works on both). */
const payOnB = () =>
  b.api.post<{ status?: string; error?: { code: string } }>(
    '/v1/payment_intents',
    { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' },
    { key: a.secretKey },
  );

/** Whether replica b admits a new payment of a's merchant now (asked without making one). */
const bAdmits = () =>
  b.service.services.flags.admitPayment({ merchantId: a.merchantId, customerId: null }).then(
    () => true,
    () => false,
  );

describe('flags across replicas (PostgreSQL)', () => {
  it('a kill on one replica stops new payments on another within 5 s, and lifting it restores them', async () => {
    // Replica b has read the flag already, so it is a cache that must expire, not a first read.
    expect((await payOnB()).status).toBe(200);
    const started = performance.now();
    expect((await a.admin.post(`/api/flags/${FLAG}/kill`)).status).toBe(200);
    await waitFor('replica b to obey the kill', async () => !(await bAdmits()), 5_000);
    expect(performance.now() - started).toBeLessThan(5_000);
    const refused = await payOnB();
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('payments_disabled');
    expect((await b.admin.get<{ killed: boolean }>(`/api/flags/${FLAG}/status`)).body.killed).toBe(true);

    await a.admin.post(`/api/flags/${FLAG}/enable`);
    await waitFor('replica b to obey the lift', bAdmits, 5_000);
    expect((await payOnB()).status).toBe(200);
  });

  it("a rollout set on one replica applies to another's environment within 5 s", async () => {
    const patch = (value: number) =>
      a.admin.request(
        'PATCH',
        `/v1/flags/${FLAG}`,
        { environments: { test: { rollout: { value } } } },
        { as: 'json' },
      );
    expect((await patch(0)).status).toBe(200);
    await waitFor('replica b to admit nobody', async () => !(await bAdmits()), 5_000);
    expect((await patch(100)).status).toBe(200);
    await waitFor('replica b to admit everybody', bAdmits, 5_000);
  });

  it('payctl flags kill in process (DATABASE_URL) is obeyed by running replicas within 5 s', async () => {
    const env = { DATABASE_URL: a.database?.url as string, LOG_LEVEL: 'warn', APP_ENV: 'test' };
    const kill = await runPayctl(['--json', 'flags', 'kill', FLAG], env, 60_000);
    expect(kill.code, kill.output).toBe(0);
    expect(JSON.parse(kill.stdout)).toMatchObject({ killed: true });
    const killedAt = performance.now();
    await waitFor('replica b to obey the CLI kill', async () => !(await bAdmits()), 5_000);
    expect(performance.now() - killedAt).toBeLessThan(5_000);
    const audit = await a.admin.get<{ data: { action: string; actor: { type: string } }[] }>('/admin/audit', {
      resource: FLAG,
    });
    expect(audit.body.data[0]).toMatchObject({ action: 'feature_flag.kill', actor: { type: 'cli' } });

    const enable = await runPayctl(['flags', 'enable', FLAG], env, 60_000);
    expect(enable.code, enable.output).toBe(0);
    await waitFor(
      'replica a to obey the CLI enable',
      async () => (await a.admin.get<{ killed: boolean }>(`/api/flags/${FLAG}/status`)).body.killed === false,
      5_000,
    );
    await waitFor('replica b to obey the CLI enable', bAdmits, 5_000);
  }, 90_000);
});
