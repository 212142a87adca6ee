// Revoking an API key on one replica is honoured by every other within 5 s (runbook 003), PostgreSQL
// only: two services on one database. Replica b has the key in its two-second authentication cache
// when a revokes it, so what is proved is that the cache expires, not a first read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('API key revocation across replicas (PostgreSQL)', () => {
  it('a key revoked on one replica is refused by the other within 5 s', async () => {
    const created = await a.admin.post<{ id: string; secret: string }>('/admin/keys', {
      merchant: a.merchantId,
    });
    expect(created.status, created.text).toBe(200);
    const onB = () =>
      b.api.get<{ error?: { code: string } }>('/v1/customers', undefined, { key: created.body.secret });
    expect((await onB()).status).toBe(200);
    const started = performance.now();
    expect((await a.admin.post(`/admin/keys/${created.body.id}/revoke`)).status).toBe(200);
    const refused = await waitFor(
      'replica b to refuse the revoked key',
      async () => {
        const reply = await onB();
        return reply.status === 401 ? reply : undefined;
      },
      5_000,
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(refused.body.error?.code).toBe('api_key_revoked');
    // Replica a never answered from a stale cache.
    expect((await a.api.get('/v1/customers', undefined, { key: created.body.secret })).status).toBe(401);
  });
});
