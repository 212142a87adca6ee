// The review as the merchant API and events show it, in Stripe's shape (../shared/stripe fixture
// `review`). Sessions, IP addresses and billing ZIPs come from Radar, which this service does not run,
// so they are null, as Stripe sends them for charges made without Radar data.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import type { ReviewRow } from './reviews.table.js';

export function toReviewObject(row: ReviewRow) {
  return {
    id: row.id,
    object: 'review' as const,
    billing_zip: null,
    charge: row.charge_id as string | Record<string, unknown>,
    closed_reason: row.closed_reason,
    created: unixSeconds(row.created_at),
    ip_address: null,
    ip_address_location: null,
    livemode: row.livemode,
    open: row.open,
    opened_reason: row.opened_reason,
    payment_intent: row.payment_intent_id as string | Record<string, unknown>,
    reason: row.reason,
    session: null,
  };
}

export type ReviewObject = ReturnType<typeof toReviewObject>;

/** What a rollback marking did: how many reviews it opened, and on which charges. */
export interface RollbackMarking {
  object: 'rollback_marking';
  since: number;
  opened: number;
  reviews: { id: string; charge: string; payment_intent: string; merchant: string; livemode: boolean }[];
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** Rollback marking looks back at most this far: a rollback is about the last hours, not history. */
export const MAX_SINCE_SECONDS = 31 * 86_400;

/** `3600`, `"3600"`, `"90s"`, `"30m"`, `"1h"` or `"2d"` as seconds, from 1 s up to 31 days. */
export const sinceSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const match = /^(\d+)([smhd]?)$/.exec(String(value).trim());
  const seconds = match
    ? Number(match[1]) * UNIT_SECONDS[(match[2] || 's') as keyof typeof UNIT_SECONDS]
    : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_SINCE_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a duration such as 3600, 90s, 30m, 1h or 2d, at most 31d (got ${JSON.stringify(value)})`,
    });
    return z.NEVER;
  }
  return seconds;
});
