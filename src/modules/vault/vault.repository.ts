import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { EnvelopeRow, VaultCardsTable, VaultCvcsTable } from './vault.table.js';

type Executor = Kysely<Database> | Transaction<Database>;
export type EnvelopeTable = 'vault_cards' | 'vault_cvcs';

export async function insertCard(db: Executor, row: Insertable<VaultCardsTable>): Promise<void> {
  await db.insertInto('vault_cards').values(row).execute();
}

/** Scoped like every merchant read (invariant 8): another merchant's or mode's entry is not found. */
export async function findCard(db: Executor, scope: Scope, paymentMethodId: string) {
  return db
    .selectFrom('vault_cards')
    .selectAll()
    .where('payment_method_id', '=', paymentMethodId)
    .where(inScope(scope))
    .executeTakeFirst();
}

/** Deletes a card's envelope (and so the card number for good); whether one was held. */
export async function deleteCard(db: Executor, scope: Scope, paymentMethodId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('vault_cards')
    .where('payment_method_id', '=', paymentMethodId)
    .where(inScope(scope))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** One CVC per payment method: a newer one replaces the older, with a fresh expiry. */
export async function upsertCvc(db: Executor, row: Insertable<VaultCvcsTable>): Promise<void> {
  await db
    .insertInto('vault_cvcs')
    .values(row)
    .onConflict((oc) =>
      oc.column('payment_method_id').doUpdateSet({
        kek_id: row.kek_id,
        wrapped_key: row.wrapped_key,
        ciphertext: row.ciphertext,
        expires_at: row.expires_at,
      }),
    )
    .execute();
}

export async function findCvc(db: Executor, scope: Scope, paymentMethodId: string) {
  return db
    .selectFrom('vault_cvcs')
    .selectAll()
    .where('payment_method_id', '=', paymentMethodId)
    .where(inScope(scope))
    .executeTakeFirst();
}

export async function deleteCvc(db: Executor, scope: Scope, paymentMethodId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('vault_cvcs')
    .where('payment_method_id', '=', paymentMethodId)
    .where(inScope(scope))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function deleteExpiredCvcs(db: Executor, now: Date): Promise<number> {
  const result = await db.deleteFrom('vault_cvcs').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * The next entries of `table` not wrapped by `currentKek`, after `afterId`, locked so two rotations
 * never re-wrap the same entry at once (SKIP LOCKED: a second rotation takes other entries).
 */
export async function lockNotUnder(
  trx: Transaction<Database>,
  table: EnvelopeTable,
  currentKek: string,
  afterId: string,
  limit: number,
): Promise<EnvelopeRow[]> {
  // Both envelope tables share these columns; the name is cast so one query serves both.
  return trx
    .selectFrom(table as 'vault_cards')
    .select([
      'payment_method_id',
      'merchant_id',
      'livemode',
      'kek_id',
      'wrapped_key',
      'ciphertext',
      'created_at',
    ])
    .where('kek_id', '<>', currentKek)
    .where('payment_method_id', '>', afterId)
    .orderBy('payment_method_id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Replaces the wrapped key and its KEK id together, only if the entry is still under `fromKek`. */
export async function replaceWrappedKey(
  trx: Transaction<Database>,
  table: EnvelopeTable,
  paymentMethodId: string,
  fromKek: string,
  next: { kekId: string; wrappedKey: string },
  now: Date,
): Promise<boolean> {
  const result = await trx
    .updateTable(table as 'vault_cards')
    .set({
      kek_id: next.kekId,
      wrapped_key: next.wrappedKey,
      ...(table === 'vault_cards' ? { rewrapped_at: now } : {}),
    })
    .where('payment_method_id', '=', paymentMethodId)
    .where('kek_id', '=', fromKek)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** A page of every entry in id order, for verification. */
export async function pageEntries(db: Executor, table: EnvelopeTable, afterId: string, limit: number) {
  return db
    .selectFrom(`${table as 'vault_cards'} as v`)
    .innerJoin('payment_methods as pm', 'pm.id', 'v.payment_method_id')
    .select([
      'v.payment_method_id',
      'v.merchant_id',
      'v.livemode',
      'v.kek_id',
      'v.wrapped_key',
      'v.ciphertext',
      'v.created_at',
      'pm.card_last4',
      'pm.card_fingerprint',
      'pm.card_fingerprint_key',
    ])
    .where('v.payment_method_id', '>', afterId)
    .orderBy('v.payment_method_id')
    .limit(limit)
    .execute();
}

export async function listKeyChecks(db: Executor) {
  return db.selectFrom('vault_keys').selectAll().execute();
}

export async function recordKeyCheck(db: Executor, id: string, checkValue: string, now: Date): Promise<void> {
  await db
    .insertInto('vault_keys')
    .values({ id, check_value: checkValue, first_seen_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
