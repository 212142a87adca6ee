// Reconciliation's inputs (zod, shared by the routes and payctl) and the API objects of runs and findings.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import type { FindingRow, RunRow } from './reconciliation.table.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** The longest window one run may cover; PayPal's search is read in 31-day pieces within it. */
export const MAX_WINDOW_SECONDS = 366 * 86_400;
export const DEFAULT_SINCE_SECONDS = 86_400;

/** Where a window starts: seconds back from now (`3600`, `90m`, `24h`, `7d`) or an ISO 8601 date. */
export type Since = { seconds: number } | { at: Date };

export const sinceSchema = z.union([z.number(), z.string()]).transform((value, ctx): Since => {
  const text = String(value).trim();
  const match = /^(\d+)([smhd]?)$/.exec(text);
  if (match) {
    const seconds = Number(match[1]) * UNIT_SECONDS[(match[2] || 's') as keyof typeof UNIT_SECONDS];
    if (Number.isSafeInteger(seconds) && seconds >= 1 && seconds <= MAX_WINDOW_SECONDS) return { seconds };
  } else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const at = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
    if (!Number.isNaN(at.getTime())) return { at };
  }
  ctx.addIssue({
    code: 'custom',
    message: `must be a duration such as 3600, 90m, 24h or 7d (at most 366d) or a date such as 2026-12-01 (got ${JSON.stringify(value)})`,
  });
  return z.NEVER;
});

export const providerSchema = z.enum(['stripe', 'paypal'], { message: 'must be stripe or paypal' });

export const runInput = {
  /** `window` (default): the providers' listings against ours; `pending`: the scheduled pass, now. */
  kind: z.enum(['window', 'pending'], { message: 'must be window or pending' }).optional(),
  since: sinceSchema.optional(),
  provider: providerSchema.optional(),
};

export const adoptInput = {
  merchant: z
    .string()
    .regex(/^acct_\w+$/, { message: 'must be a merchant id (acct_...)' })
    .optional(),
};

export function toRunObject(row: RunRow) {
  return {
    id: row.id,
    object: 'reconciliation_run' as const,
    kind: row.kind,
    trigger: row.trigger,
    actor: row.actor_id,
    status: row.status,
    window_start: unixSeconds(row.window_start),
    window_end: unixSeconds(row.window_end),
    providers: row.providers,
    counts: row.counts,
    error: row.error,
    created: unixSeconds(row.created_at),
    finished: row.finished_at ? unixSeconds(row.finished_at) : null,
  };
}

export type RunObject = ReturnType<typeof toRunObject>;

export function toFindingObject(row: FindingRow) {
  return {
    id: row.id,
    object: 'reconciliation_finding' as const,
    run: row.run_id,
    kind: row.kind,
    provider: row.provider,
    provider_payment_id: row.provider_payment_id,
    provider_charge_id: row.provider_charge_id,
    merchant: row.merchant_id,
    livemode: row.livemode,
    payment_intent: row.payment_intent_id,
    attempt: row.attempt_id,
    amount: row.amount === null ? null : Number(row.amount),
    currency: row.currency,
    our_status: row.our_status,
    provider_status: row.provider_status,
    resolution: row.resolution,
    resolved: row.resolved_at ? unixSeconds(row.resolved_at) : null,
    resolved_by: row.resolved_by,
    detail: row.detail,
    created: unixSeconds(row.created_at),
  };
}

export type FindingObject = ReturnType<typeof toFindingObject>;

export interface RunReport {
  run: RunObject;
  findings: FindingObject[];
  has_more: boolean;
}
