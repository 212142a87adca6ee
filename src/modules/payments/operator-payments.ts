// What on-call engineers see of payments across merchants (issue 8, runbooks 002 and 004): the filters of
// GET /admin/payment_intents and `payctl payments list|search` (zod, shared by the route and the CLI),
// the operator's view of a payment, and the attempt outcome counts `payctl monitor` watches.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { listParams } from '../../http/pagination.js';
import { boolean, integer, text } from '../../http/params.js';
import { PROVIDER_NAMES } from '../../providers/routing.js';
import { instant } from '../webhooks-out/webhooks-admin.js';
import { STATUSES } from './payment-intent.states.js';
import type { PaymentAttemptRow, PaymentIntentRow } from './payments.table.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `90`, `"90s"`, `"30m"`, `"1h"` or `"2d"` as whole seconds, from 1 s up to `maxSeconds`. */
export const duration = (maxSeconds: number) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const match = /^(\d{1,9})([smhd]?)$/.exec(String(value).trim());
    const seconds = match
      ? Number(match[1]) * UNIT_SECONDS[(match[2] || 's') as keyof typeof UNIT_SECONDS]
      : Number.NaN;
    if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > maxSeconds) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration such as 90s, 30m, 1h or 2d, at most ${maxSeconds / 86_400}d (got ${JSON.stringify(value)})`,
      });
      return z.NEVER;
    }
    return seconds;
  });

const amountBound = integer('an amount in minor units').refine((n) => n >= 0, {
  message: 'must be a non-negative amount in minor units',
});

export const paymentStatusSchema = z.enum(STATUSES, {
  message: `must be one of ${STATUSES.join(', ')}`,
});
export const providerFilterSchema = z.enum(PROVIDER_NAMES as ['stripe', 'paypal', 'wallet'], {
  message: `must be one of ${PROVIDER_NAMES.join(', ')}`,
});

/** Filters shared by list and search: every merchant and mode unless narrowed. */
export const operatorPaymentFilters = {
  status: paymentStatusSchema.optional(),
  /** A provider any attempt of the payment went to. */
  provider: providerFilterSchema.optional(),
  /** Created more than this long ago: `--status processing --older-than 30m` is "pending over 30 minutes". */
  older_than: duration(366 * 86_400).optional(),
  customer: text(255).optional(),
  merchant: text(255).optional(),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, { message: 'must be a three-letter ISO currency code' })
    .transform((value) => value.toLowerCase())
    .optional(),
  livemode: boolean().optional(),
  amount: z
    .union([
      amountBound,
      z.strictObject({
        gt: amountBound.optional(),
        gte: amountBound.optional(),
        lt: amountBound.optional(),
        lte: amountBound.optional(),
      }),
    ])
    .optional(),
  created: listParams.created,
  /** The last 4 digits of the card any charge of the payment was made with (declined ones included). */
  last4: z
    .string()
    .regex(/^\d{4}$/, { message: 'must be the last 4 digits of a card number' })
    .optional(),
};

export const operatorListFields = {
  ...operatorPaymentFilters,
  limit: listParams.limit,
  starting_after: listParams.starting_after,
};

export const operatorSearchFields = {
  ...operatorPaymentFilters,
  query: text(1000),
  limit: listParams.limit,
  page: text(255)
    .regex(/^\d{1,9}$/, { message: 'must be the next_page of a previous search' })
    .optional(),
};

export const statsFields = {
  /** The window's start (ISO 8601 or Unix seconds); or `window` back from now. */
  since: instant().optional(),
  window: duration(31 * 86_400).optional(),
};

type Output<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;
export type OperatorPaymentFilters = Output<typeof operatorPaymentFilters>;
export type OperatorListInput = Output<typeof operatorListFields>;
export type OperatorSearchInput = Output<typeof operatorSearchFields>;

/** A payment as an operator lists it: who it belongs to and where it stands, no client secret. */
export function toOperatorPayment(row: PaymentIntentRow & { provider: string | null }) {
  return {
    id: row.id,
    object: 'operator_payment' as const,
    merchant: row.merchant_id,
    livemode: row.livemode,
    status: row.status,
    amount: row.amount,
    amount_received: row.amount_received,
    currency: row.currency,
    customer: row.customer_id,
    provider: row.provider,
    latest_charge: row.latest_charge_id,
    last_error: row.last_payment_error?.code ?? null,
    metadata: row.metadata,
    created: unixSeconds(row.created_at),
  };
}

export type OperatorPayment = ReturnType<typeof toOperatorPayment>;

/**
 * What an attempt's outcome counts as for the success rate: declines are the card holder's bank
 * answering, not a failure of ours or the provider's, so they stay out of the rate (runbooks 002, 004).
 * A canceled attempt (voided, or abandoned at 3DS) and one still waiting count for neither side.
 */
export type AttemptOutcome = 'succeeded' | 'failed' | 'declined' | 'canceled' | 'pending';

export function attemptOutcome(
  status: PaymentAttemptRow['status'],
  errorType: string | null,
): AttemptOutcome {
  switch (status) {
    case 'succeeded':
    case 'requires_capture':
      return 'succeeded';
    case 'failed':
      return errorType === 'card_error' ? 'declined' : 'failed';
    case 'canceled':
      return 'canceled';
    default:
      return 'pending';
  }
}

export type OutcomeCounts = Record<AttemptOutcome, number>;

export interface PaymentStats {
  object: 'payment_stats';
  /** The window, Unix seconds: attempts created at or after `since` and before `until` (now). */
  since: number;
  until: number;
  attempts: number;
  outcomes: OutcomeCounts;
  /** succeeded / (succeeded + failed), declines excluded; null before any such outcome. */
  success_rate: number | null;
  by_provider: ({ provider: string; attempts: number } & OutcomeCounts)[];
}

export function emptyCounts(): OutcomeCounts {
  return { succeeded: 0, failed: 0, declined: 0, canceled: 0, pending: 0 };
}

export function successRate(counts: OutcomeCounts): number | null {
  const judged = counts.succeeded + counts.failed;
  return judged === 0 ? null : counts.succeeded / judged;
}
