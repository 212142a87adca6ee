// payctl flags and fallback over HTTP (--url/--token): list, set a rollout, kill and enable the payments
// flag, turn provider fallback off and on; JSON for scripts, tables for people, one-line refusals of bad
// arguments with nothing changed. The service obeys each change at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
let remote: string[];
beforeAll(async () => {
  t = await startTestService();
  remote = ['--url', t.url, '--token', t.adminToken];
});
afterAll(async () => {
  await t.close();
});

const env = () => ({ LOG_LEVEL: 'warn' });
type Flag = { name: string; killed: boolean; environments: Record<string, { rollout: { value: number } }> };

const pay = () =>
  t.merchant.post<{ error?: { code: string } }>('/v1/payment_intents', {
    amount: 1200,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: 'true',
  });

function expectOneLineFailure(result: { code: number | null; output: string }, pattern: RegExp) {
  expect(result.code, result.output).not.toBe(0);
  expect(result.output.trim().split('\n')).toHaveLength(1);
  expect(result.output).toMatch(pattern);
}

describe('payctl flags and fallback --url', { timeout: 90_000 }, () => {
  it('lists flags, sets a rollout, kills and enables payments_live_v1', async () => {
    const list = await runPayctl([...remote, 'flags', 'list'], env());
    expect(list.code, list.output).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+STATE\s+ENVIRONMENT\s+ROLLOUT/);
    expect(list.stdout).toMatch(/payments_live_v1\s+on\s+test\s+100%/);

    const set = await runPayctl(
      [...remote, '--json', 'flags', 'set', 'payments_live_v1', '--env', 'staging', '--rollout', '25'],
      env(),
    );
    expect(set.code, set.output).toBe(0);
    expect((JSON.parse(set.stdout) as Flag).environments.staging?.rollout.value).toBe(25);

    const kill = await runPayctl(
      [...remote, '--json', 'flags', 'kill', 'payments_live_v1', '--reason', 'drill'],
      env(),
    );
    expect(kill.code, kill.output).toBe(0);
    expect(JSON.parse(kill.stdout)).toMatchObject({ killed: true, enabled: false });
    const refused = await pay();
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('payments_disabled');

    const status = await runPayctl([...remote, 'flags', 'status', 'payments_live_v1'], env());
    expect(status.stdout).toMatch(
      /payments_live_v1\s+killed\s+test\s+100%\s+development=100 test=100 staging=25/,
    );

    const enable = await runPayctl([...remote, '--json', 'flags', 'enable', 'payments_live_v1'], env());
    expect(enable.code, enable.output).toBe(0);
    expect(JSON.parse(enable.stdout)).toMatchObject({ killed: false, enabled: true });
    expect((await pay()).status).toBe(200);

    const audit = await t.admin.get<{ data: { action: string; new_value: unknown }[] }>('/admin/audit', {
      resource: 'payments_live_v1',
    });
    expect(audit.body.data.map((e) => e.action)).toEqual([
      'feature_flag.enable',
      'feature_flag.kill',
      'feature_flag.rollout.set',
    ]);
    expect(audit.body.data[1]?.new_value).toMatchObject({ killed: true, reason: 'drill' });
  });

  it('refuses bad arguments in one line and changes nothing', async () => {
    const before = (await t.admin.get('/admin/flags/payments_live_v1')).body;
    expectOneLineFailure(
      await runPayctl(
        [...remote, 'flags', 'set', 'payments_live_v1', '--env', 'staging', '--rollout', '101'],
        env(),
      ),
      /--rollout: must be between 0 and 100/,
    );
    expectOneLineFailure(
      await runPayctl(
        [...remote, 'flags', 'set', 'payments_live_v1', '--env', 'qa', '--rollout', '5'],
        env(),
      ),
      /--env/,
    );
    expectOneLineFailure(await runPayctl([...remote, 'flags', 'kill', 'payments_live_v2'], env()), /<flag>/);
    expect((await t.admin.get('/admin/flags/payments_live_v1')).body).toEqual(before);
  });

  it('turns provider fallback off and on', async () => {
    const off = await runPayctl([...remote, '--json', 'fallback', 'disable'], env());
    expect(off.code, off.output).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({
      name: 'fallback_provider_enabled',
      enabled: false,
      source: 'operator',
    });
    expect(await t.service.gateway.fallbackEnabled()).toBe(false);
    const shown = await runPayctl([...remote, 'fallback', 'status'], env());
    expect(shown.stdout).toMatch(/fallback_provider_enabled\s+false\s+operator/);
    const on = await runPayctl([...remote, '--json', 'fallback', 'enable'], env());
    expect(JSON.parse(on.stdout)).toMatchObject({ enabled: true });
    expect(await t.service.gateway.fallbackEnabled()).toBe(true);
  });
});
