import { type Kysely, sql } from 'kysely';

// The operator dashboard's payment timeline (issue 10) reads, for one payment, the ledger transactions
// whose source is the payment, its charges, refunds and disputes (and the releases of those), their
// entries, the inbound provider events about its provider objects, and its reviews. Each read is one
// payment's handful of rows, which these indexes make an index lookup rather than a scan of the
// ledger, the inbox or the reviews. (On an existing large database, an operator may create them
// CONCURRENTLY under the same names before upgrading; `if not exists` then leaves them be.)
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index if not exists ledger_transactions_source on ledger_transactions (source_id);
    create index if not exists ledger_entries_transaction on ledger_entries (transaction_id);
    create index if not exists webhook_inbox_subject on webhook_inbox (provider, subject);
    create index if not exists reviews_payment_intent on reviews (payment_intent_id, created_at);
  `.execute(db);
}
