// Profiles the server side of posting: one ledger_post_batch call of many postings, no concurrency.
//   node dist-bench/bench/ledger-profile.js   (after npx tsc -p tsconfig.bench.json)
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createService } from '../src/main.js';
import { createLogger } from '../src/observability/logger.js';
import { type Bank, fundWallets, runTransfers } from './ledger-workload.js';

const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `bench_${randomBytes(5).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const config = loadConfig({
  DATABASE_URL: url.toString(),
  LOG_LEVEL: 'error',
  PORT: '0',
  DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ledger-profile-')),
});
const service = await createService(config, {
  role: 'api',
  bootstrap: false,
  logger: createLogger({ level: 'error' }),
});
const bank: Bank = {
  ledger: service.services.ledger,
  merchantId: 'acct_p',
  runId: 'p',
  wallets: Number(process.env.WALLETS ?? 10),
};
await fundWallets(bank, 1_000_000_000);
for (const batchSize of [1, 20, 200]) {
  const outcome = await runTransfers(bank, { transfers: 2000, workers: 1, maxAmount: 100, batchSize });
  process.stdout.write(
    `1 worker, batch ${batchSize}: ${(outcome.durationMs / 2000).toFixed(3)} ms per transfer\n`,
  );
  bank.runId = `${bank.runId}x`;
}
await service.close();
await admin.query(`drop database ${name} with (force)`);
await admin.end();
