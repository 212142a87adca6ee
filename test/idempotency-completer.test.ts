// The idempotency completer racing a client's retry (found by `npm run chaos`, PostgreSQL restarted
// under load): the completer lists abandoned keys, then finishes them one by one, each possibly
// reading a provider. A retry arriving meanwhile takes a listed key over (its lease had expired),
// executes and stores its answer; the completer must not then overwrite that answer with its own,
// computed from the stale row (the client was told "succeeded", later retries would replay
// "request_interrupted"). The job runner is off (role api): this test runs the completer itself.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { INTERRUPTED_BODY } from '../src/http/idempotency.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ role: 'api' });
});
afterAll(async () => {
  await t.close();
});

const ENDPOINT = 'POST /v1/chaos_things {}';

it('never overwrites the answer a retry stored after the completer listed the key', async () => {
  const idempotency = t.service.services.idempotency;
  const scope = { merchantId: t.merchantId, livemode: false };
  const [first, second] = [randomUUID(), randomUUID()];
  // Two requests on a resumable endpoint took their keys and died: only their leases are left.
  for (const key of [first, second]) {
    expect((await idempotency.begin(scope, key, ENDPOINT, { n: 1 }, true)).outcome).toBe('proceed');
  }
  await t.api.post('/_test/clock', { advance_seconds: 91 });

  const completed: string[] = [];
  const completers = new Map([
    [
      'POST /v1/chaos_things',
      async (handle: { key: string }) => {
        completed.push(handle.key);
        if (handle.key === first) {
          // While the completer works on the first key, the client retries the second: the retry
          // resumes it under a new lease and stores what it answered.
          const retry = await idempotency.begin(scope, second, ENDPOINT, { n: 1 }, true);
          expect(retry.outcome).toBe('proceed');
          if (retry.outcome === 'proceed') await idempotency.finish(retry.handle, 200, { by: 'the retry' });
        }
        return { status: 500, body: INTERRUPTED_BODY };
      },
    ],
  ]);
  await idempotency.completeAbandoned(completers);

  // The retry's answer stands, and the completer did not run for a key it no longer owned.
  expect(await idempotency.begin(scope, second, ENDPOINT, { n: 1 }, true)).toEqual({
    outcome: 'replay',
    status: 200,
    body: { by: 'the retry' },
  });
  expect(completed).toEqual([first]);
  expect(await idempotency.begin(scope, first, ENDPOINT, { n: 1 }, true)).toEqual({
    outcome: 'replay',
    status: 500,
    body: INTERRUPTED_BODY,
  });
});

it('leaves a key alone while a retry holds its lease, and finishes it once that lease expires', async () => {
  const idempotency = t.service.services.idempotency;
  const scope = { merchantId: t.merchantId, livemode: false };
  const key = randomUUID();
  expect((await idempotency.begin(scope, key, ENDPOINT, { n: 2 }, true)).outcome).toBe('proceed');
  await t.api.post('/_test/clock', { advance_seconds: 91 });
  const completers = new Map([
    ['POST /v1/chaos_things', async () => ({ status: 500, body: INTERRUPTED_BODY })],
  ]);
  // A retry took the key over and is still executing (it holds a fresh lease).
  const retry = await idempotency.begin(scope, key, ENDPOINT, { n: 2 }, true);
  expect(retry.outcome).toBe('proceed');
  expect(await idempotency.completeAbandoned(completers)).toBe(0);
  // The retry died too: after its lease, the completer finishes the key.
  await t.api.post('/_test/clock', { advance_seconds: 91 });
  expect(await idempotency.completeAbandoned(completers)).toBeGreaterThanOrEqual(1);
  expect(await idempotency.begin(scope, key, ENDPOINT, { n: 2 }, true)).toMatchObject({
    outcome: 'replay',
    status: 500,
  });
});
