// Moving the service's test clock far ahead without the bootstrap admin's account lapsing: an operator
// unused for 90 days is disabled (issue 9), so a jump of months is made in steps with the admin's token
// used at each one, as a real on-call engineer would use theirs.
import { expect } from 'vitest';
import type { TestService } from './service.js';

const STEP_SECONDS = 60 * 86_400;

/**
 * Moves the clock to `to` (epoch seconds; forward only), touching the admin token before the first jump
 * and after every jump of at most 60 days. Every jump must start from a touch: the daily inactivity job
 * may run as soon as the clock moves, before the touch that follows, so a jump from an older use (the
 * last call's final jump, up to 60 days, plus this call's first) could pass 90 days.
 */
export async function moveClockTo(t: TestService, to: number): Promise<void> {
  const now = Math.floor(t.service.clock.now().getTime() / 1000);
  await touchAdmin(t);
  for (let at = now + STEP_SECONDS; at < to; at += STEP_SECONDS) {
    await setClock(t, at);
    await touchAdmin(t);
  }
  await setClock(t, to);
  await touchAdmin(t);
}

async function touchAdmin(t: TestService) {
  const me = await t.admin.get('/admin/me');
  expect(me.status, me.text).toBe(200);
}

async function setClock(t: TestService, to: number) {
  const moved = await t.api.post('/_test/clock', { to });
  expect(moved.status, moved.text).toBe(200);
}
