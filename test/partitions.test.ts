// Monthly partitions of the high-volume tables over the test clock (issue 8, runbook 003): the coming
// months exist ahead; a row written in a later month lands in that month's partition; an idempotency key
// and an inbound provider event keep their uniqueness across a month boundary; the scheduled retention
// drops a month of events once all of it is past EVENTS_RETENTION_DAYS and keeps the later ones; and
// `payctl maintenance purge-webhook-logs --older-than` drops webhook log months over --url and in
// process, audited, refusing bad input.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMonths,
  monthStart,
  type PartitionedTableName,
  partitionName,
} from '../src/modules/partitions/partitions.js';
import { inboxSettled } from './support/inbox.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

const SECRET = `whsec_${Buffer.from('p'.repeat(32)).toString('base64')}`;
const TABLES: PartitionedTableName[] = [
  'events',
  'webhook_deliveries',
  'webhook_delivery_attempts',
  'webhook_inbox',
];

let t: TestService;
/** The month the suite starts in (the test clock starts at the real time). */
let m0: Date;
let remote: string[];

beforeAll(async () => {
  t = await startTestService({
    env: {
      STRIPE_WEBHOOK_SECRET: SECRET,
      EVENTS_RETENTION_DAYS: '35',
      WEBHOOK_DELIVERY_RETENTION_DAYS: '30',
      WEBHOOK_INBOX_RETENTION_DAYS: '30',
      PARTITIONS_AHEAD_MONTHS: '2',
    },
  });
  m0 = monthStart(t.service.clock.now());
  remote = ['--url', t.url, '--token', t.adminToken];
}, 180_000);
afterAll(async () => {
  await t?.close();
});

const setClock = (at: Date) => t.api.post('/_test/clock', { to: at.getTime() / 1000 });

async function partitionNames(): Promise<string[]> {
  const reply = await t.admin.get<{ data: { partition: string }[] }>('/admin/maintenance/partitions');
  expect(reply.status).toBe(200);
  return reply.body.data.map((row) => row.partition);
}

/** The partition a row of `table` is stored in. */
async function partitionOf(table: PartitionedTableName, column: string, value: string): Promise<string[]> {
  const result = await sql<{ partition: string }>`
    select tableoid::regclass::text as partition from ${sql.id(table)} where ${sql.id(column)} = ${value}`.execute(
    t.service.database.db,
  );
  return result.rows.map((row) => row.partition);
}

async function createCustomer(name: string, key?: string) {
  return t.merchant.post<{ id: string }>(
    '/v1/customers',
    { name },
    key ? { headers: { 'idempotency-key': key } } : undefined,
  );
}

async function deliverStripe(payload: string) {
  const reply = await fetch(`${t.url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: SECRET,
        timestamp: Math.floor(t.service.clock.now().getTime() / 1000),
      }),
    },
    body: payload,
  });
  return { status: reply.status, body: (await reply.json()) as { id: string; duplicate: boolean } };
}

let decemberCustomer: string;
let januaryCustomer: string;
const boundaryEvent = `evt_boundary_${randomUUID().slice(0, 8)}`;

describe('monthly partitions', { timeout: 120_000 }, () => {
  it('has this month and the next two for every partitioned table, and a default partition', async () => {
    const names = await partitionNames();
    for (const table of TABLES) {
      for (let n = 0; n <= 2; n++) expect(names).toContain(partitionName(table, addMonths(m0, n)));
      expect(names).toContain(`${table}_default`);
      expect(names).not.toContain(partitionName(table, addMonths(m0, 3)));
    }
    const created = await createCustomer('in the first month');
    decemberCustomer = created.body.id;
    expect(await partitionOf('events', 'object_id', decemberCustomer)).toEqual([partitionName('events', m0)]);
  });

  it("writes a row dated in a later month into that month's partition", async () => {
    await setClock(new Date(addMonths(m0, 1).getTime() + 14 * 86_400_000));
    const created = await createCustomer('in the second month');
    expect(created.status).toBe(200);
    januaryCustomer = created.body.id;
    expect(await partitionOf('events', 'object_id', januaryCustomer)).toEqual([
      partitionName('events', addMonths(m0, 1)),
    ]);
  });

  it('answers an idempotency key used at 23:59 on the last day of a month the same at 00:01', async () => {
    const boundary = addMonths(m0, 2);
    await setClock(new Date(boundary.getTime() - 60_000));
    const key = randomUUID();
    const first = await createCustomer('at the boundary', key);
    expect(first.status).toBe(200);
    const payload = JSON.stringify({
      id: boundaryEvent,
      object: 'event',
      type: 'customer.created',
      created: Math.floor(t.service.clock.now().getTime() / 1000),
      livemode: false,
      data: { object: { id: 'cus_boundary', object: 'customer' } },
    });
    const delivered = await deliverStripe(payload);
    expect(delivered).toMatchObject({ status: 200, body: { duplicate: false } });

    await setClock(new Date(boundary.getTime() + 60_000));
    const retried = await createCustomer('at the boundary', key);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.body.id).toBe(first.body.id);
    const count = await t.merchant.get<{ data: { id: string }[] }>('/v1/customers', { limit: 100 });
    expect(count.body.data.filter((c) => c.id === first.body.id)).toHaveLength(1);

    // The provider redelivers the same event after midnight: still a duplicate, still one row.
    const redelivered = await deliverStripe(payload);
    expect(redelivered).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(await partitionOf('webhook_inbox', 'provider_event_id', boundaryEvent)).toEqual([
      partitionName('webhook_inbox', addMonths(m0, 1)),
    ]);
    await inboxSettled(t);
  });

  it('drops a month of events once all of it is past the retention, keeping the later months', async () => {
    // 9 days into the third month: the first month ended more than 35 days ago, the second did not.
    await setClock(new Date(addMonths(m0, 2).getTime() + 9 * 86_400_000 + 7 * 3600_000));
    await waitFor('the scheduled retention', async () => {
      const names = await partitionNames();
      return (
        !names.includes(partitionName('events', m0)) &&
        names.includes(partitionName('events', addMonths(m0, 4)))
      );
    });
    const names = await partitionNames();
    expect(names).toContain(partitionName('events', addMonths(m0, 1)));
    expect(names).toContain(partitionName('events', addMonths(m0, 2)));
    expect(names).toContain(partitionName('webhook_inbox', addMonths(m0, 1)));
    expect(await partitionOf('events', 'object_id', decemberCustomer)).toEqual([]);
    expect(await partitionOf('events', 'object_id', januaryCustomer)).toHaveLength(1);
    const events = await t.merchant.get<{ data: { data: { object: { id: string } } }[] }>('/v1/events', {
      limit: 100,
    });
    const about = events.body.data.map((event) => event.data.object.id);
    expect(about).toContain(januaryCustomer);
    expect(about).not.toContain(decemberCustomer);
  });

  it('purges webhook log months over --url, audited, and refuses bad input in one line', async () => {
    const inboxMonth = partitionName('webhook_inbox', addMonths(m0, 1));
    const bad = await runPayctl([...remote, 'maintenance', 'purge-webhook-logs', '--older-than', '0d'], {});
    expect(bad.code).not.toBe(0);
    expect(bad.output.trim().split('\n')).toHaveLength(1);
    expect(bad.output).toMatch(/--older-than/);
    const refused = await t.admin.post<{ error: { param?: string; message: string } }>(
      '/admin/maintenance/purge-webhook-logs',
      { older_than: 'soon' },
    );
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body.error)).toContain('older_than');
    expect(await partitionNames()).toContain(inboxMonth);

    const purged = await runPayctl(
      [...remote, '--json', 'maintenance', 'purge-webhook-logs', '--older-than', '5d'],
      {},
    );
    expect(purged.code, purged.output).toBe(0);
    const result = JSON.parse(purged.stdout) as {
      object: string;
      results: { partition: string; action: string }[];
    };
    expect(result.object).toBe('webhook_log_purge');
    expect(result.results).toContainEqual(
      expect.objectContaining({ partition: inboxMonth, action: 'dropped' }),
    );
    expect(result.results.map((r) => r.partition)).not.toContain(partitionName('events', addMonths(m0, 1)));
    expect(await partitionNames()).not.toContain(inboxMonth);
    expect(await partitionOf('webhook_inbox', 'provider_event_id', boundaryEvent)).toEqual([]);

    const audit = await t.admin.get<{
      data: { action: string; new_value: { dropped: string[] } }[];
    }>('/admin/audit', { action: 'maintenance.purge_webhook_logs' });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]?.new_value.dropped).toContain(inboxMonth);

    const table = await runPayctl([...remote, 'maintenance', 'partitions'], {});
    expect(table.code, table.output).toBe(0);
    expect(table.stdout).toMatch(/^TABLE\s+PARTITION\s+FROM\s+TO\s+APPROX_ROWS/);
    expect(table.stdout).toContain(partitionName('events', addMonths(m0, 1)));
  });

  it('purges in process against the database', { timeout: 180_000 }, async () => {
    // On PostgreSQL the service's own database; embedded, a fresh data folder (PGlite allows one process).
    const dataDir = t.database ? undefined : mkdtempSync(path.join(tmpdir(), 'payctl-partitions-'));
    const env = {
      LOG_LEVEL: 'warn',
      ...(t.database ? { DATABASE_URL: t.database.url } : { DATA_DIR: dataDir as string }),
    };
    try {
      const purged = await runPayctl(
        ['--json', 'maintenance', 'purge-webhook-logs', '--older-than', '30d'],
        env,
        150_000,
      );
      expect(purged.code, purged.output).toBe(0);
      expect(JSON.parse(purged.stdout)).toMatchObject({ object: 'webhook_log_purge', older_than_days: 30 });
      if (t.database) {
        const audit = await t.admin.get<{ data: unknown[] }>('/admin/audit', {
          action: 'maintenance.purge_webhook_logs',
        });
        expect(audit.body.data[0]).toMatchObject({
          action: 'maintenance.purge_webhook_logs',
          actor: { type: 'cli' },
        });
      }
    } finally {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
