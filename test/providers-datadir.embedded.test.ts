// The embedded Stripe emulator keeps its state in DATA_DIR/emulators/stripe: a payment the connector
// made before a restart can still be read (and so settled) after it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createService } from '../src/main.js';
import { createLogger } from '../src/observability/logger.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'providers-datadir-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function boot() {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', APP_ENV: 'test', DATA_DIR: dataDir });
  const service = await createService(config, {
    logger: createLogger({ level: 'silent' }),
    bootstrap: false,
  });
  await service.start();
  return service;
}

it('keeps provider objects across a restart of an embedded service', async () => {
  const context = {
    attemptId: 'att_datadir',
    livemode: false,
    merchantId: 'mer_x',
    paymentIntentId: 'pi_ours',
  };
  const first = await boot();
  let providerPaymentId: string;
  try {
    const created = await first.providers.stripe!.createPayment({
      ...context,
      amount: 2500,
      currency: 'usd',
      captureMethod: 'automatic',
    });
    if ('status' in created) throw new Error(JSON.stringify(created));
    providerPaymentId = created.providerPaymentId;
    const outcome = await first.providers.stripe!.confirm(context, providerPaymentId, {
      kind: 'provider_token',
      token: 'pm_card_visa',
    });
    expect(outcome.status).toBe('succeeded');
  } finally {
    await first.close();
  }
  expect(existsSync(path.join(dataDir, 'emulators', 'stripe'))).toBe(true);

  const second = await boot();
  try {
    expect(await second.providers.stripe!.retrieve(context, providerPaymentId)).toMatchObject({
      status: 'succeeded',
      providerPaymentId,
      charge: { amount: 2500 },
    });
  } finally {
    await second.close();
  }
});
