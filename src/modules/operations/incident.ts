// The incident report's shapes and parameters: a window (`since` as a duration back from now or a date),
// the timeline entries, and which audit actions and event types count as alerts or as notable.
import { z } from 'zod';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
export const MAX_WINDOW_DAYS = 31;

/**
 * `since`: a duration back from now (`90m`, `6h`, `2d`, seconds without a unit) or a date (`2024-01-01`,
 * ISO 8601 with a time). Resolved against the business clock's `now`; at most 31 days back.
 */
export function sinceParam(now: Date) {
  return z.string().transform((value, ctx) => {
    const text = value.trim();
    const duration = /^(\d+)([smhd]?)$/.exec(text);
    let at: Date | undefined;
    if (duration) {
      const seconds = Number(duration[1]) * UNIT_SECONDS[(duration[2] || 's') as keyof typeof UNIT_SECONDS];
      at = new Date(now.getTime() - seconds * 1000);
    } else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
      // A date without a zone is UTC, as everywhere in the admin API.
      const parsed = Date.parse(/[T ]/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? `${text}Z` : text);
      at = Number.isNaN(parsed) ? undefined : new Date(parsed);
    }
    const oldest = now.getTime() - MAX_WINDOW_DAYS * 86_400_000;
    if (!at || at.getTime() < oldest || at.getTime() > now.getTime()) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration such as 30m, 6h or 2d, or a date such as 2024-01-01 or 2024-01-01T14:30:00Z, within the last ${MAX_WINDOW_DAYS} days (got ${JSON.stringify(value)})`,
      });
      return z.NEVER;
    }
    return at;
  });
}

export const incidentFormat = z.enum(['json', 'markdown'], { message: 'must be json or markdown' });

/** Audit actions that change how payments flow: what an alert channel would have carried. */
export const ALERT_ACTIONS: Readonly<Record<string, string>> = {
  'provider.circuit.set': 'provider circuit forced',
  'runtime_switch.set': 'run-time switch changed',
  'feature_flag.kill': 'payments kill switch engaged',
  'feature_flag.enable': 'payments kill switch lifted',
  'feature_flag.rollout.set': 'payments rollout changed',
};

/** Events worth a line in a timeline; the rest are counted only. */
export const NOTABLE_EVENTS: readonly string[] = [
  'payment_intent.payment_failed',
  'charge.failed',
  'charge.dispute.created',
  'charge.dispute.closed',
  'refund.failed',
  'review.opened',
  'webhook_delivery.dead',
  'webhook_endpoint.disabled',
];

/** Events that are alerts in themselves: deliveries given up on, endpoints switched off. */
export const ALERT_EVENTS = new Set(['webhook_delivery.dead', 'webhook_endpoint.disabled']);

export interface TimelineEntry {
  at: number;
  time: string;
  source: 'alert' | 'audit' | 'event';
  what: string;
  subject: string | null;
  actor: string | null;
  detail: string;
}

export interface IncidentReport {
  object: 'incident_report';
  since: number;
  until: number;
  summary: {
    events: Record<string, number>;
    payments_failed: number;
    payments_succeeded: number;
    disputes_opened: number;
    audit_entries: number;
    alerts: number;
  };
  /** True when a source had more rows than `limit`: narrow the window. */
  truncated: boolean;
  timeline: TimelineEntry[];
  /** What this report cannot see. */
  notes: string[];
}
