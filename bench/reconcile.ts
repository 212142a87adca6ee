// Reconciliation benchmark on PostgreSQL: 1,000,000 provider records reconciled against our attempts,
// through the reconciler the service runs (page matching, findings, the seen set, missing-at-provider
// and duplicate queries). Target (DESIGN section 14): <= 60 s and RSS <= 256 MB.
//   npm run bench:reconcile      (DATABASE_ADMIN_URL defaults to postgres://postgres@127.0.0.1:5432/postgres)
// Our side (1,000,000 intents and attempts) is bulk-loaded with SQL before the clock starts. The
// provider side is generated in this process as Stripe's listing would hand it over (pages of 100),
// not fetched over HTTP: the figure is the reconciler's, not an emulator's list endpoint. Of the records,
// 1,000 are unknown at our side; 1,000 of our attempts are left out of the listing (missing at the
// provider). BENCH_RECORDS changes the size.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { newId } from '../src/ids.js';
import { createService } from '../src/main.js';
import { emptyCounts, Reconciler } from '../src/modules/reconciliation/reconciler.js';
import { insertRun } from '../src/modules/reconciliation/reconciliation.repository.js';
import { createLogger } from '../src/observability/logger.js';
import type { ProviderRecord, ReconciliationSource } from '../src/providers/provider.js';
import { result as record, writeResults } from './bench-env.js';

const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const UNKNOWN = 1_000;
const MISSING = 1_000;
const OURS = RECORDS - UNKNOWN + MISSING;
const MERCHANT = 'acct_reconbench';

const name = `bench_${randomBytes(5).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`create database ${name}`);
// Stopped part-way (Ctrl-C, or `npm run bench` giving up on it): the database goes, what was measured stays.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: dropping ${name}\n`);
    void admin
      .query(`drop database if exists ${name} with (force)`)
      .catch(() => {})
      .finally(() => {
        writeResults();
        process.exit(130);
      });
  });
}
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const config = loadConfig({
  DATABASE_URL: url.toString(),
  LOG_LEVEL: 'error',
  PORT: '0',
  DATA_DIR: mkdtempSync(path.join(tmpdir(), 'reconcile-bench-')),
});
const service = await createService(config, {
  role: 'api',
  bootstrap: false,
  logger: createLogger({ level: 'error' }),
});
const db = service.database.db;
const now = service.clock.now();
const windowStart = new Date(now.getTime() - 24 * 3_600_000);

try {
  const seeded = performance.now();
  await sql`insert into merchants (id, name, created_at) values (${MERCHANT}, 'Reconciliation bench', ${now})`.execute(
    db,
  );
  const merchant = MERCHANT;
  // Our side: OURS succeeded payments spread over the last 23 hours, attempt i <-> provider pi_bench_i.
  await sql`
    insert into payment_intents (id, merchant_id, livemode, created_at, amount, currency, status, capture_method,
      payment_method_types, metadata, client_secret, amount_received, extra, current_attempt_id)
    select 'pi_ours_' || i, ${merchant}, false, ${windowStart}::timestamptz + (i * interval '80 milliseconds'),
      1000, 'usd', 'succeeded', 'automatic', '["card"]', '{}', 'secret_' || i, 1000, '{}', 'pa_bench_' || i
    from generate_series(1, ${OURS}::int) i`.execute(db);
  await sql`
    insert into payment_attempts (id, payment_intent_id, merchant_id, livemode, provider, amount, currency,
      capture_method, created_at, phase, status, provider_payment_id, error)
    select 'pa_bench_' || i, 'pi_ours_' || i, ${merchant}, false, 'stripe', 1000, 'usd', 'automatic',
      ${windowStart}::timestamptz + (i * interval '80 milliseconds'), 'settled', 'succeeded', 'pi_bench_' || i, 'null'
    from generate_series(1, ${OURS}::int) i`.execute(db);
  await sql`analyze payment_intents`.execute(db);
  await sql`analyze payment_attempts`.execute(db);
  process.stdout.write(`seeded ${OURS} payments in ${((performance.now() - seeded) / 1000).toFixed(1)} s\n`);

  // The provider's listing, 100 a page as Stripe's: our attempts but the last MISSING, plus UNKNOWN others.
  const source: ReconciliationSource = {
    async *records() {
      let page: ProviderRecord[] = [];
      for (let i = 1; i <= RECORDS; i++) {
        const ours = i <= OURS - MISSING;
        page.push({
          providerPaymentId: ours ? `pi_bench_${i}` : `pi_elsewhere_${i}`,
          providerChargeId: `ch_bench_${i}`,
          status: 'succeeded',
          amount: 1000,
          amountRefunded: null,
          disputed: null,
          currency: 'usd',
          createdAt: new Date(windowStart.getTime() + i * 80 + 500),
          claimedPaymentIntentId: null,
          claimedMerchantId: null,
        });
        if (page.length === 100) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    },
  };

  const run = await insertRun(db, {
    id: newId('rcn'),
    kind: 'window',
    trigger: 'cli',
    actor_id: 'bench',
    status: 'running',
    window_start: windowStart,
    window_end: now,
    providers: JSON.stringify(['stripe']),
    counts: JSON.stringify(emptyCounts()),
    error: null,
    created_at: now,
    finished_at: null,
  });
  const reconciler = new Reconciler({
    db,
    clock: service.clock,
    logger: service.logger,
    recovery: service.services.paymentRecovery,
  });
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const counts = emptyCounts();
  const started = performance.now();
  await reconciler.run(
    run.id,
    [{ name: 'stripe', source, livemode: false, delayMs: 0 }],
    { since: windowStart, until: now },
    counts,
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const mb = peakRss / 1024 / 1024;
  const detail =
    `${Math.round(counts.provider_records / seconds)} records/s; RSS ${(startRss / 1024 / 1024).toFixed(0)} MB before the run; ` +
    `matched ${counts.matched}, unknown ${counts.unknown_at_our_side}, missing ${counts.missing_at_provider}`;
  record('reconcile_records', counts.provider_records);
  record('reconcile_seconds', seconds, detail);
  record('reconcile_rss_mb', mb, detail);
  process.stdout.write(
    [
      `reconciled ${counts.provider_records} provider records in ${seconds.toFixed(1)} s (${Math.round(counts.provider_records / seconds)} records/s), target <= 60 s: ${seconds <= 60 ? 'met' : 'MISSED'}`,
      `peak RSS ${mb.toFixed(0)} MB (${(startRss / 1024 / 1024).toFixed(0)} MB before the run), target <= 256 MB: ${mb <= 256 ? 'met' : 'MISSED'}`,
      `matched ${counts.matched}, unknown at our side ${counts.unknown_at_our_side}, missing at provider ${counts.missing_at_provider}, status mismatch ${counts.status_mismatch}, duplicate ${counts.duplicate}`,
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      'command: npm run bench:reconcile',
      '',
    ].join('\n'),
  );
} finally {
  await service.close();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
  writeResults();
}
