// The card vault through the running service: no full card number or CVC anywhere but vault
// ciphertext (tables, logs, events), ciphertext bound to its row, key rotation that survives a crash
// mid-way, verification, CVC expiry by the business clock, and the decryption counter.
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatKeysFile,
  newVaultKey,
  parseKeysFile,
  type VaultKey,
} from '../src/modules/vault/vault.keys.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

const folder = mkdtempSync(path.join(tmpdir(), 'vault-test-'));
const keysFile = path.join(folder, 'vault-keys');
const k1 = newVaultKey('k1');
const fp1 = newVaultKey('fp1');
const writeKeys = (keks: VaultKey[]) => {
  writeFileSync(keysFile, formatKeysFile({ keks, fingerprintKeys: [fp1] }), { mode: 0o600 });
  chmodSync(keysFile, 0o600);
};

let t: TestService;
beforeAll(async () => {
  writeKeys([k1]);
  t = await startTestService({ env: { VAULT_KEYS_FILE: keysFile } });
});
afterAll(async () => {
  await t.close();
});

type PaymentMethod = { id: string; card: { last4: string } };
const year = new Date().getUTCFullYear() + 2;
const scope = () => ({ merchantId: t.merchantId, livemode: false });
const vault = () => t.service.services.vault;
const db = () => t.service.database.db;

async function createCard(
  number: string,
  cvc?: string,
  options: Parameters<TestService['api']['post']>[2] = {},
) {
  const response = await t.api.post<PaymentMethod>(
    '/v1/payment_methods',
    { type: 'card', card: { number, exp_month: 6, exp_year: year, ...(cvc ? { cvc } : {}) } },
    { key: t.secretKey, ...options },
  );
  expect(response.status, response.text).toBe(200);
  return response.body;
}

async function everyTableAsText(): Promise<Map<string, string>> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'
  `.execute(db());
  const out = new Map<string, string>();
  for (const { name } of tables.rows) {
    const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(name)} t`.execute(db());
    out.set(name, rows.rows.map((r) => r.row).join('\n'));
  }
  return out;
}

/** A CVC is short: look for it as a whole token so it is not found inside random ids. */
const token = (digits: string) => new RegExp(`(?<![A-Za-z0-9+/])${digits}(?![A-Za-z0-9+/])`);

describe('no card number or CVC outside the vault ciphertext', () => {
  it('scans every table, every log line and every event', async () => {
    const cards = [
      { number: '4242424242424242', cvc: '846' },
      { number: '378282246310005', cvc: '7391' },
      { number: '6011111111111117', cvc: '529' },
      { number: '5555555555554444', cvc: undefined },
    ];
    const created = [];
    for (const [i, c] of cards.entries()) {
      created.push(
        await createCard(c.number, c.cvc, {
          key: i === 1 ? t.publishableKey : t.secretKey,
          as: i === 2 ? 'json' : 'form',
          headers: { 'idempotency-key': `scan-${i}-${Date.now()}` },
        }),
      );
    }
    const customer = await t.merchant.post<{ id: string }>('/v1/customers', {});
    await t.merchant.post(`/v1/payment_methods/${created[0]?.id}/attach`, { customer: customer.body.id });
    await t.merchant.post(`/v1/payment_methods/${created[0]?.id}`, { metadata: { note: 'scan' } });
    await t.merchant.post(`/v1/payment_methods/${created[0]?.id}/detach`);
    // A refused request quoting a near-valid number must not leak it either.
    await t.merchant.post('/v1/payment_methods', {
      type: 'card',
      card: { number: '4242424242424241', exp_month: 1, exp_year: year },
    });

    const tables = await everyTableAsText();
    expect(tables.has('vault_cards')).toBe(true);
    expect(tables.get('payment_methods')).toContain('4242');
    for (const [name, text] of tables) {
      for (const c of cards) {
        expect(text, `${name} holds a card number`).not.toContain(c.number);
        if (c.cvc && !name.startsWith('vault_'))
          expect(text, `${name} holds a CVC`).not.toMatch(token(c.cvc));
      }
      expect(text, `${name} holds a card number`).not.toContain('4242424242424241');
      if (!name.startsWith('vault_')) expect(text).not.toMatch(/"cvc"\s*:/);
    }

    const logs = JSON.stringify(t.logs);
    const events = await t.merchant.get('/v1/events', { limit: 100 });
    for (const c of cards) {
      expect(logs).not.toContain(c.number);
      expect(events.text).not.toContain(c.number);
      if (c.cvc) {
        expect(logs).not.toMatch(token(c.cvc));
        expect(events.text).not.toMatch(token(c.cvc));
      }
    }
  });
});

describe('ciphertext bound to its row', () => {
  it('refuses to decrypt a card copied to another row, merchant or mode', async () => {
    const a = await createCard('4242424242424242');
    const b = await createCard('5555555555554444');
    const rowOf = (id: string) =>
      db()
        .selectFrom('vault_cards')
        .selectAll()
        .where('payment_method_id', '=', id)
        .executeTakeFirstOrThrow();
    const original = await rowOf(b.id);
    const source = await rowOf(a.id);
    const restoreB = () =>
      db()
        .updateTable('vault_cards')
        .set({ kek_id: original.kek_id, wrapped_key: original.wrapped_key, ciphertext: original.ciphertext })
        .where('payment_method_id', '=', b.id)
        .execute();
    try {
      await db()
        .updateTable('vault_cards')
        .set({ kek_id: source.kek_id, wrapped_key: source.wrapped_key, ciphertext: source.ciphertext })
        .where('payment_method_id', '=', b.id)
        .execute();
      await expect(vault().reveal(scope(), b.id, 'test')).rejects.toThrow(/does not open|does not decrypt/);
      expect((await vault().reveal(scope(), a.id, 'test')).number.reveal()).toBe('4242424242424242');
      const report = await vault().verify();
      expect(report.ok).toBe(false);
      expect(report.failures.map((f) => f.payment_method_id)).toContain(b.id);
    } finally {
      await restoreB();
    }
    expect((await vault().reveal(scope(), b.id, 'test')).number.reveal()).toBe('5555555555554444');

    const moveA = (merchantId: string, livemode: boolean) =>
      db()
        .updateTable('vault_cards')
        .set({ merchant_id: merchantId, livemode })
        .where('payment_method_id', '=', a.id)
        .execute();
    const other = await t.admin.post<{ id: string }>('/admin/merchants', { name: 'AAD other' });
    try {
      await moveA(other.body.id, false);
      await expect(
        vault().reveal({ merchantId: other.body.id, livemode: false }, a.id, 'test'),
      ).rejects.toThrow();
      await moveA(t.merchantId, true);
      await expect(
        vault().reveal({ merchantId: t.merchantId, livemode: true }, a.id, 'test'),
      ).rejects.toThrow();
      // And the scoped lookup alone keeps the owner from seeing a row that is no longer its own.
      await expect(vault().reveal(scope(), a.id, 'test')).rejects.toThrow(/no vault entry/);
    } finally {
      await moveA(t.merchantId, false);
    }
    expect((await vault().reveal(scope(), a.id, 'test')).number.reveal()).toBe('4242424242424242');
  });
});

describe('CVCs', () => {
  it('keeps a CVC for at most an hour of business time, then forgets and purges it', async () => {
    const held = await createCard('4242424242424242', '321');
    const dropped = await createCard('4242424242424242', '654');
    expect((await vault().takeCvc(scope(), held.id, 'test'))?.reveal()).toBe('321');
    // What payments call once the payment has a final authorization result.
    expect(await vault().deleteCvc(scope(), dropped.id)).toBe(true);
    expect(await vault().takeCvc(scope(), dropped.id, 'test')).toBeNull();

    const other = await createCard('5555555555554444', '777');
    expect((await t.api.post('/_test/clock', { advance_seconds: 3601 })).status).toBe(200);
    expect(await vault().takeCvc(scope(), held.id, 'test')).toBeNull();
    // The purge job removes the rest without anyone asking for them.
    const deadline = Date.now() + 15_000;
    let remaining = 1;
    while (Date.now() < deadline) {
      remaining = (
        await db()
          .selectFrom('vault_cvcs')
          .select('payment_method_id')
          .where('payment_method_id', '=', other.id)
          .execute()
      ).length;
      if (remaining === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(remaining).toBe(0);
    // The card itself stays usable.
    expect((await vault().reveal(scope(), other.id, 'test')).number.reveal()).toBe('5555555555554444');
  });

  it('counts decryptions by purpose in /metrics', async () => {
    const card = await createCard('6011111111111117', '123');
    await vault().reveal(scope(), card.id, 'provider_confirm');
    await vault().takeCvc(scope(), card.id, 'provider_confirm');
    const metrics = await t.api.get('/metrics');
    const match = /vault_decryptions_total\{purpose="provider_confirm"\} (\d+)/.exec(metrics.text);
    expect(Number(match?.[1])).toBeGreaterThanOrEqual(2);
    expect(metrics.text).not.toContain('6011111111111117');
  });
});

describe('key rotation', () => {
  it('re-wraps every entry under a new key, resuming after a crash mid-way, then verifies', async () => {
    const cards = [];
    for (let i = 0; i < 5; i++) cards.push(await createCard('4242424242424242', '123'));
    const before = await vault().verify();
    expect(before.ok, JSON.stringify(before.failures)).toBe(true);
    expect(Object.keys(before.by_kek)).toEqual(['k1']);
    const total = before.cards.total + before.cvcs.total;

    const k2 = newVaultKey('k2');
    writeKeys([k2, k1]);
    await expect(
      vault().rotate({
        batchSize: 2,
        onBatch: () => {
          throw new Error('simulated crash after one batch');
        },
      }),
    ).rejects.toThrow('simulated crash');
    const kekCounts = async () => {
      const rows = await sql<{ kek_id: string; n: number }>`
        select kek_id, count(*)::int as n from (
          select kek_id from vault_cards union all select kek_id from vault_cvcs
        ) e group by kek_id order by kek_id`.execute(db());
      return Object.fromEntries(rows.rows.map((r) => [r.kek_id, r.n]));
    };
    expect(await kekCounts()).toEqual({ k1: total - 2, k2: 2 });
    // Half-rotated is a consistent state: every entry opens under the key it names.
    expect((await vault().verify()).ok).toBe(true);

    const report = await vault().rotate({ batchSize: 2 });
    expect(report).toMatchObject({ ok: true, current_kek: 'k2' });
    expect(report.cards.rotated + report.cvcs.rotated).toBe(total - 2);
    expect(await kekCounts()).toEqual({ k2: total });

    // With the old key gone from the file, everything still opens and new cards use the new key.
    writeKeys([k2]);
    const after = await vault().verify();
    expect(after).toMatchObject({ ok: true, by_kek: { k2: total } });
    const fresh = await createCard('5555555555554444');
    const freshRow = await db()
      .selectFrom('vault_cards')
      .select('kek_id')
      .where('payment_method_id', '=', fresh.id)
      .executeTakeFirstOrThrow();
    expect(freshRow.kek_id).toBe('k2');
    expect((await vault().reveal(scope(), cards[0]?.id as string, 'test')).number.reveal()).toBe(
      '4242424242424242',
    );
    const again = await vault().rotate();
    expect(again.cards.rotated + again.cvcs.rotated).toBe(0);
  });

  it('refuses a keys file whose key id names a different key, changing nothing', async () => {
    const current = readFileSync(keysFile, 'utf8');
    const impostor = {
      id: parseKeysFile(current, keysFile).keks[0]?.id as string,
      key: newVaultKey('x').key,
    };
    writeFileSync(keysFile, formatKeysFile({ keks: [newVaultKey('k9'), impostor], fingerprintKeys: [fp1] }));
    try {
      await expect(vault().rotate()).rejects.toThrow(/is not the key this database knows/);
      const rows = await db().selectFrom('vault_cards').select('kek_id').distinct().execute();
      expect(rows.map((r) => r.kek_id)).not.toContain('k9');
    } finally {
      writeFileSync(keysFile, current);
      vault().keys.reload();
    }
  });

  it('describes a malformed keys file by line without printing key material', () => {
    const secret = Buffer.alloc(16, 7).toString('base64');
    expect(() => parseKeysFile(`k1:${secret}\nfp1:${secret}`, 'keys')).toThrow(
      /keys line 1: key k1 must be exactly 32 bytes/,
    );
    try {
      parseKeysFile(`k1:${secret}`, 'keys');
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
    expect(() => parseKeysFile(formatKeysFile({ keks: [k1], fingerprintKeys: [] }), 'keys')).toThrow(
      /no fingerprint key/,
    );
  });
});

describe('operator access', () => {
  it('verifies and rotates over /admin and payctl --url, audited, and refuses merchant keys', async () => {
    expect((await t.api.get('/admin/vault/verify', undefined, { key: t.secretKey })).status).toBe(401);
    const verified = await t.admin.get<{ ok: boolean }>('/admin/vault/verify');
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body.ok).toBe(true);
    const remote = await runPayctl(['--url', t.url, '--token', t.adminToken, 'vault', 'rotate'], {
      LOG_LEVEL: 'warn',
    });
    expect(remote.code, remote.output).toBe(0);
    expect(remote.output).toMatch(/every entry is under the current key/);
    const audit = await t.admin.get<{ data: { action: string; outcome: string }[] }>('/admin/audit');
    const actions = audit.body.data.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['vault.verify', 'vault.rotate']));
  });
});

describe('a generated keys file', () => {
  it('is created in DATA_DIR with mode 0600 when VAULT_KEYS_FILE is unset, with a warning', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vault-data-'));
    const service = await startTestService({ env: { DATA_DIR: dataDir } });
    try {
      const file = path.join(dataDir, 'vault-keys');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(service.logs.some((l) => String(l.msg).includes('VAULT_KEYS_FILE is not set'))).toBe(true);
      const created = await service.merchant.post<PaymentMethod>('/v1/payment_methods', {
        type: 'card',
        card: { number: '4242424242424242', exp_month: 1, exp_year: year },
      });
      expect(created.status).toBe(200);
      expect((await service.service.services.vault.verify()).ok).toBe(true);
    } finally {
      await service.close();
    }
  });
});
