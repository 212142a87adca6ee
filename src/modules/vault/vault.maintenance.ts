// Key rotation and verification over every vault entry, in batches.
// Rotation re-wraps each data key under the current KEK; each batch commits on its own and each entry's
// wrapped key and KEK id change together, so a crash leaves every entry wholly old or wholly new and a
// re-run finishes the rest. The KEK used to unwrap is always the one the entry names, and GCM refuses a
// wrong key, so nothing is ever decrypted with the wrong key.
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { luhnValid } from '../../pan.js';
import { computeFingerprint, open, rewrap } from './vault.crypto.js';
import type { VaultKeys } from './vault.keys.js';
import { type EnvelopeTable, lockNotUnder, pageEntries, replaceWrappedKey } from './vault.repository.js';

const TABLES: { table: EnvelopeTable; kind: 'card' | 'cvc'; label: 'cards' | 'cvcs' }[] = [
  { table: 'vault_cards', kind: 'card', label: 'cards' },
  { table: 'vault_cvcs', kind: 'cvc', label: 'cvcs' },
];
const MAX_LISTED_FAILURES = 50;

interface Deps {
  db: Kysely<Database>;
  keys: VaultKeys;
  clock: Clock;
}

export interface Failure {
  table: EnvelopeTable;
  payment_method_id: string;
  reason: string;
}

export interface RotationOptions {
  batchSize?: number;
  /** Called after each committed batch (progress output; tests use it to simulate a crash). */
  onBatch?: (progress: { table: EnvelopeTable; rotated: number }) => void | Promise<void>;
}

export interface RotationReport {
  ok: boolean;
  current_kek: string;
  cards: { rotated: number; failed: number };
  cvcs: { rotated: number; failed: number };
  failures: Failure[];
}

export async function rotateVault(
  { db, keys, clock }: Deps,
  options: RotationOptions,
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 500;
  const current = keys.currentKek();
  const report: RotationReport = {
    ok: true,
    current_kek: current.id,
    cards: { rotated: 0, failed: 0 },
    cvcs: { rotated: 0, failed: 0 },
    failures: [],
  };
  const fail = (failure: Failure, label: 'cards' | 'cvcs') => {
    report[label].failed++;
    report.ok = false;
    if (report.failures.length < MAX_LISTED_FAILURES) report.failures.push(failure);
  };
  for (const { table, kind, label } of TABLES) {
    let after = '';
    for (;;) {
      const batch = await db.transaction().execute(async (trx) => {
        const rows = await lockNotUnder(trx, table, current.id, after, batchSize);
        let rotated = 0;
        for (const row of rows) {
          const from = keys.kek(row.kek_id);
          const where = { table, payment_method_id: row.payment_method_id };
          if (!from) {
            fail({ ...where, reason: `key ${row.kek_id} is not in the keys file` }, label);
            continue;
          }
          try {
            const next = rewrap(
              { kekId: row.kek_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext },
              from,
              current,
              {
                merchantId: row.merchant_id,
                livemode: row.livemode,
                paymentMethodId: row.payment_method_id,
                kind,
              },
            );
            if (await replaceWrappedKey(trx, table, row.payment_method_id, row.kek_id, next, clock.now()))
              rotated++;
          } catch (error) {
            fail({ ...where, reason: (error as Error).message }, label);
          }
        }
        return { count: rows.length, last: rows.at(-1)?.payment_method_id, rotated };
      });
      if (batch.count === 0 || batch.last === undefined) break;
      after = batch.last;
      report[label].rotated += batch.rotated;
      await options.onBatch?.({ table, rotated: batch.rotated });
    }
  }
  return report;
}

export interface VerifyReport {
  ok: boolean;
  cards: { total: number; ok: number; failed: number };
  cvcs: { total: number; ok: number; failed: number };
  by_kek: Record<string, number>;
  failures: Failure[];
}

export async function verifyVault({ db, keys }: Deps, counted: () => void): Promise<VerifyReport> {
  const report: VerifyReport = {
    ok: true,
    cards: { total: 0, ok: 0, failed: 0 },
    cvcs: { total: 0, ok: 0, failed: 0 },
    by_kek: {},
    failures: [],
  };
  for (const { table, kind, label } of TABLES) {
    let after = '';
    for (;;) {
      const rows = await pageEntries(db, table, after, 500);
      if (rows.length === 0) break;
      after = (rows.at(-1) as { payment_method_id: string }).payment_method_id;
      for (const row of rows) {
        report[label].total++;
        report.by_kek[row.kek_id] = (report.by_kek[row.kek_id] ?? 0) + 1;
        const problem = checkEntry(keys, row, kind, counted);
        if (problem === undefined) {
          report[label].ok++;
          continue;
        }
        report[label].failed++;
        report.ok = false;
        if (report.failures.length < MAX_LISTED_FAILURES) {
          report.failures.push({ table, payment_method_id: row.payment_method_id, reason: problem });
        }
      }
    }
  }
  return report;
}

type PagedEntry = Awaited<ReturnType<typeof pageEntries>>[number];

/** Undefined when the entry opens and agrees with its payment method; otherwise what is wrong. */
function checkEntry(keys: VaultKeys, row: PagedEntry, kind: 'card' | 'cvc', counted: () => void) {
  const kek = keys.kek(row.kek_id);
  if (!kek) return `key ${row.kek_id} is not in the keys file`;
  let plaintext: Buffer;
  try {
    plaintext = open({ kekId: row.kek_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext }, kek, {
      merchantId: row.merchant_id,
      livemode: row.livemode,
      paymentMethodId: row.payment_method_id,
      kind,
    });
  } catch (error) {
    return (error as Error).message;
  }
  counted();
  try {
    if (kind === 'cvc') return /^\d{3,4}$/.test(plaintext.toString('utf8')) ? undefined : 'CVC is malformed';
    const { number } = JSON.parse(plaintext.toString('utf8')) as { number?: unknown };
    if (typeof number !== 'string' || !/^\d{12,19}$/.test(number) || !luhnValid(number))
      return 'card number is malformed';
    if (!row.card_last4 || !row.card_fingerprint_key) return 'the payment method of this entry is not a card';
    if (!number.endsWith(row.card_last4)) return 'card number does not match the payment method last 4';
    const fingerprintKey = keys.fingerprintKey(row.card_fingerprint_key);
    if (
      fingerprintKey &&
      computeFingerprint(fingerprintKey, row.merchant_id, number) !== row.card_fingerprint
    ) {
      return 'card fingerprint does not match';
    }
    return undefined;
  } finally {
    plaintext.fill(0);
  }
}
