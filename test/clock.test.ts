// One injected clock (DESIGN section 9): POST /_test/clock moves business time forward when TEST_CLOCK is
// on, never backwards, and does not exist at all when it is off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createService } from '../src/main.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type ClockReply = { object: string; now: number };

describe('test clock', () => {
  it('moves business time forward: created timestamps follow it', async () => {
    const before = await t.merchant.post<{ created: number }>('/v1/customers', { name: 'before' });
    const moved = await t.api.post<ClockReply>('/_test/clock', { advance_seconds: 86_400 });
    expect(moved.status).toBe(200);
    expect(moved.body.now).toBeGreaterThanOrEqual(before.body.created + 86_400);
    const after = await t.merchant.post<{ created: number }>('/v1/customers', { name: 'after' });
    expect(after.body.created - before.body.created).toBeGreaterThanOrEqual(86_400);
    expect(after.body.created - before.body.created).toBeLessThan(86_400 + 60);
  });

  it('moves to an absolute time, and refuses to go backwards naming the parameter', async () => {
    const now = (await t.api.post<ClockReply>('/_test/clock', { advance_seconds: 0 })).body.now;
    const to = await t.api.post<ClockReply>('/_test/clock', { to: now + 3_600 });
    expect(to.body.now).toBeGreaterThanOrEqual(now + 3_600);
    const back = await t.api.post<{ error: { param: string } }>('/_test/clock', { to: now - 10 });
    expect(back.status).toBe(400);
    expect(back.body.error.param).toBe('to');
    const negative = await t.api.post<{ error: { param: string } }>('/_test/clock', { advance_seconds: -5 });
    expect(negative.status).toBe(400);
    expect(negative.body.error.param).toBe('advance_seconds');
  });

  it('does not exist without TEST_CLOCK, and TEST_CLOCK is refused in production', async () => {
    const off = await startTestService({ env: { TEST_CLOCK: 'false' } });
    try {
      const reply = await off.api.post('/_test/clock', { advance_seconds: 10 });
      expect(reply.status).toBe(404);
    } finally {
      await off.close();
    }
    const production = loadConfig({ TEST_CLOCK: 'true', APP_ENV: 'production' } as NodeJS.ProcessEnv);
    await expect(createService(production, { inMemoryPglite: true })).rejects.toThrow(/TEST_CLOCK/);
  });
});
