// The operator dashboard's overview (issue 10): the windows it shows, the query it accepts and the
// object it answers. The numbers come from the modules that own them; this file only shapes them.
import { z } from 'zod';
import { boolean } from '../../http/params.js';

/** Each window the overview offers, cut into buckets for its chart. */
export const WINDOWS = {
  '1h': { seconds: 3_600, buckets: 12 },
  '24h': { seconds: 86_400, buckets: 24 },
  '7d': { seconds: 7 * 86_400, buckets: 28 },
} as const;
export type WindowName = keyof typeof WINDOWS;
const WINDOW_NAMES = Object.keys(WINDOWS) as [WindowName, ...WindowName[]];

export const overviewFields = {
  window: z.enum(WINDOW_NAMES, { message: `must be one of ${WINDOW_NAMES.join(', ')}` }).optional(),
  /** Test mode unless asked: the dashboard opens on test data. */
  livemode: boolean().optional(),
};
export type OverviewInput = z.output<z.ZodObject<typeof overviewFields>>;

export interface OverviewPayments {
  attempts: number;
  succeeded: number;
  declined: number;
  failed: number;
  /** succeeded / (succeeded + failed): declines apart, as /admin/payments/stats; null before any. */
  success_rate: number | null;
  /** declined / attempts; null without attempts. */
  decline_rate: number | null;
}

export interface SeriesBucket {
  start: number;
  succeeded: number;
  declined: number;
  failed: number;
}

export interface DashboardOverview {
  object: 'dashboard_overview';
  window: WindowName;
  livemode: boolean;
  since: number;
  until: number;
  payments: OverviewPayments;
  /** Succeeded attempts per gateway and currency: amounts in minor units, never summed across currencies. */
  volume: { gateway: string; currency: string; count: number; amount: number }[];
  p99_processing_ms: number | null;
  /** Attempts that failed at the provider or on our side (not declines), per gateway. */
  gateway_errors: { gateway: string; count: number }[];
  dispute_rate: number | null;
  refund_rate: number | null;
  series: SeriesBucket[];
  alerts: { kill_switch: boolean; open_circuits: string[] };
}

export const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);
