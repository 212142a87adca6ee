// `payctl vault rotate` and `payctl vault verify` as real processes against a PostgreSQL database that a
// running service is using (PostgreSQL only: a second process on the same database). Covers a rotation
// killed mid-way and finished by a re-run, verification failures, and a keys file naming a wrong key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatKeysFile, newVaultKey, type VaultKey } from '../src/modules/vault/vault.keys.js';
import { runPayctl, spawnPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

const folder = mkdtempSync(path.join(tmpdir(), 'vault-cli-'));
const keysFile = path.join(folder, 'vault-keys');
const fp1 = newVaultKey('fp1');
const writeKeys = (keks: VaultKey[]) =>
  writeFileSync(keysFile, formatKeysFile({ keks, fingerprintKeys: [fp1] }), { mode: 0o600 });
const k1 = newVaultKey('k1');

let t: TestService;
let env: Record<string, string>;
beforeAll(async () => {
  writeKeys([k1]);
  t = await startTestService({ env: { VAULT_KEYS_FILE: keysFile } });
  env = { DATABASE_URL: t.database?.url as string, VAULT_KEYS_FILE: keysFile, LOG_LEVEL: 'warn' };
});
afterAll(async () => {
  await t.close();
});

const scope = () => ({ merchantId: t.merchantId, livemode: false });
const year = new Date().getUTCFullYear() + 2;

async function kekCounts(): Promise<Record<string, number>> {
  const rows = await sql<{ kek_id: string; n: number }>`
    select kek_id, count(*)::int as n from (
      select kek_id from vault_cards union all select kek_id from vault_cvcs
    ) e group by kek_id order by kek_id`.execute(t.service.database.db);
  return Object.fromEntries(rows.rows.map((r) => [r.kek_id, r.n]));
}

describe('payctl vault (PostgreSQL)', () => {
  // Four payctl processes, each starting Node and the service's modules: minutes on a loaded machine.
  it('rotates to a new key, resumes after being killed mid-way, and verifies', {
    timeout: 120_000,
  }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      const pm = await t.service.services.paymentMethods.create(scope(), {
        type: 'card',
        card: { number: '4242424242424242', exp_month: 1, exp_year: year, cvc: '123' },
      });
      ids.push(pm.id);
    }
    const total = (await kekCounts()).k1 as number;
    expect(total).toBe(300);

    const k2 = newVaultKey('k2');
    writeKeys([k2, k1]);
    const first = await runPayctl(['vault', 'rotate', '--batch-size', '100'], env);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('current key k2');
    expect(await kekCounts()).toEqual({ k2: total });

    // Killed after its first committed batch: every entry is wholly under one key or the other.
    const k3 = newVaultKey('k3');
    writeKeys([k3, k2]);
    const crashing = spawnPayctl(['vault', 'rotate', '--batch-size', '1'], env);
    await crashing.waitFor('batch of 1 committed');
    crashing.child.kill('SIGKILL');
    await crashing.exited;
    const midway = await kekCounts();
    expect((midway.k3 ?? 0) + (midway.k2 ?? 0)).toBe(total);
    expect(midway.k3).toBeGreaterThan(0);
    expect(midway.k2, 'the rotation finished before it could be killed').toBeGreaterThan(0);

    const resumed = await runPayctl(['--json', 'vault', 'rotate'], env);
    expect(resumed.code, resumed.output).toBe(0);
    const report = JSON.parse(resumed.output) as {
      ok: boolean;
      cards: { rotated: number };
      cvcs: { rotated: number };
    };
    expect(report.ok).toBe(true);
    expect(report.cards.rotated + report.cvcs.rotated).toBe(midway.k2);
    expect(await kekCounts()).toEqual({ k3: total });

    const verified = await runPayctl(['--json', 'vault', 'verify'], env);
    expect(verified.code, verified.output).toBe(0);
    expect(JSON.parse(verified.output)).toMatchObject({
      ok: true,
      cards: { total: 150, ok: 150, failed: 0 },
      cvcs: { total: 150, ok: 150, failed: 0 },
      by_kek: { k3: total },
    });
    // The running service follows the rotation without a restart.
    const revealed = await t.service.services.vault.reveal(scope(), ids[0] as string, 'test');
    expect(revealed.number.reveal()).toBe('4242424242424242');
    expect(verified.output).not.toContain('4242424242424242');
  });

  it('exits non-zero and names the entry when one does not decrypt', async () => {
    const db = t.service.database.db;
    const [a, b] = await db
      .selectFrom('vault_cards')
      .selectAll()
      .orderBy('payment_method_id')
      .limit(2)
      .execute();
    if (!a || !b) throw new Error('expected entries from the previous test');
    await db
      .updateTable('vault_cards')
      .set({ ciphertext: a.ciphertext, wrapped_key: a.wrapped_key, kek_id: a.kek_id })
      .where('payment_method_id', '=', b.payment_method_id)
      .execute();
    try {
      const result = await runPayctl(['vault', 'verify'], env);
      expect(result.code).toBe(1);
      expect(result.output).toContain('FAILED');
      expect(result.output).toContain(b.payment_method_id);
      expect(result.output).not.toMatch(/\n\s+at /);
    } finally {
      await db
        .updateTable('vault_cards')
        .set({ ciphertext: b.ciphertext, wrapped_key: b.wrapped_key, kek_id: b.kek_id })
        .where('payment_method_id', '=', b.payment_method_id)
        .execute();
    }
    expect((await runPayctl(['vault', 'verify'], env)).code).toBe(0);
  });

  it('refuses a keys file that gives a known key id a different key, touching nothing', async () => {
    const wrong = path.join(folder, 'wrong-keys');
    writeFileSync(
      wrong,
      formatKeysFile({
        keks: [newVaultKey('k4'), { id: 'k3', key: newVaultKey('x').key }],
        fingerprintKeys: [fp1],
      }),
      { mode: 0o600 },
    );
    const before = await kekCounts();
    const result = await runPayctl(['vault', 'rotate'], { ...env, VAULT_KEYS_FILE: wrong });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('is not the key this database knows as k3');
    expect(await kekCounts()).toEqual(before);
  });
});
