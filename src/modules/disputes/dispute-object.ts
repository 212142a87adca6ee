// The dispute as the merchant API and events show it, in Stripe's shape (../shared/stripe fixture
// `dispute`): evidence by Stripe's field names, evidence_details with the deadline, the ledger's
// balance transactions for the withdrawal and reinstatement, and the case type (inquiry or chargeback).
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import { EVIDENCE_FIELDS } from '../../providers/stripe/dispute-evidence.js';
import { type BalanceTransactionObject, toBalanceTransaction } from '../ledger/balance.js';
import { balanceTransactionsQuery } from '../ledger/balance.repository.js';
import type { DisputeRow, DisputeStatus } from './disputes.table.js';

/** Stripe caps the text evidence of one dispute at 150,000 characters in all. */
export const EVIDENCE_MAX_TOTAL = 150_000;

export const evidenceSchema = z
  .strictObject(
    Object.fromEntries(EVIDENCE_FIELDS.map((field) => [field, z.string().max(20_000).optional()])) as Record<
      (typeof EVIDENCE_FIELDS)[number],
      z.ZodOptional<z.ZodString>
    >,
  )
  .refine((evidence) => Object.values(evidence).join('').length <= EVIDENCE_MAX_TOTAL, {
    message: `must be at most ${EVIDENCE_MAX_TOTAL} characters in all`,
  });

const CLOSED: ReadonlySet<DisputeStatus> = new Set(['won', 'lost', 'warning_closed']);
export const isClosed = (status: DisputeStatus) => CLOSED.has(status);

export interface DisputeContext {
  now: Date;
  cardBrand: string | null;
  provider: string;
  balanceTransactions: BalanceTransactionObject[];
}

export function toDisputeObject(row: DisputeRow, context: DisputeContext) {
  const evidence: Record<string, string | null> = {};
  for (const field of EVIDENCE_FIELDS) evidence[field] = row.evidence[field] ?? null;
  const open = !isClosed(row.status);
  return {
    id: row.id,
    object: 'dispute' as const,
    amount: row.amount,
    balance_transactions: context.balanceTransactions,
    charge: row.charge_id,
    created: unixSeconds(row.created_at),
    currency: row.currency,
    enhanced_eligibility_types: [] as string[],
    evidence: { ...evidence, enhanced_evidence: {} },
    evidence_details: {
      due_by: row.due_by ? unixSeconds(row.due_by) : null,
      enhanced_eligibility: {},
      has_evidence: Object.keys(row.evidence).length > 0,
      past_due: open && row.due_by !== null && context.now.getTime() > row.due_by.getTime(),
      submission_count: row.evidence_submission_count,
    },
    // A chargeback has taken the money back already; an open inquiry can still be answered by a refund.
    is_charge_refundable: open && row.case_type === 'inquiry',
    livemode: row.livemode,
    metadata: row.metadata,
    payment_intent: row.payment_intent_id,
    payment_method_details:
      context.provider === 'paypal'
        ? { type: 'paypal' as const, paypal: { case_type: row.case_type } }
        : {
            type: 'card' as const,
            card: {
              brand: context.cardBrand,
              case_type: row.case_type,
              network_reason_code: null,
              network: context.cardBrand,
            },
          },
    reason: row.reason ?? 'general',
    status: row.status,
  };
}

export type DisputeObject = ReturnType<typeof toDisputeObject>;

type Executor = Kysely<Database> | Transaction<Database>;

/** Renders a dispute with its balance transactions, read through `executor` (inside a write, its transaction). */
export async function renderDispute(
  executor: Executor,
  row: DisputeRow,
  cardBrand: string | null,
  now: Date,
): Promise<DisputeObject> {
  const scope: Scope = { merchantId: row.merchant_id, livemode: row.livemode };
  // Oldest first, as Stripe lists a dispute's withdrawal before its reinstatement.
  const rows = await balanceTransactionsQuery(executor, scope, { source: row.id })
    .orderBy('created_at', 'asc')
    .execute();
  return toDisputeObject(row, {
    now,
    cardBrand,
    provider: row.provider,
    balanceTransactions: rows.map(toBalanceTransaction),
  });
}
