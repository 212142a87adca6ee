// The overview on-call engineers and finance open first (issue 10): attempt outcomes with declines
// apart, volume per gateway and currency, p99 processing time, gateway errors, dispute and refund
// rates, a chart series, and the alerts (kill switch, open circuits), for one window and mode.
// Read-only. Each number is read through the module that owns it: attempt counts and their outcome
// classification are the payments module's (the same as GET /admin/payments/stats), the rates the
// disputes module's, the kill switch the flags module's, the circuits the provider gateway's.
import type { Kysely } from 'kysely';
import { type Clock, unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { ProviderGateway } from '../../providers/gateway.js';
import { chargeRateCounts } from '../disputes/dispute-rates.js';
import { PAYMENTS_FLAG } from '../flags/flags.js';
import type { FlagsService } from '../flags/flags.service.js';
import { attemptOutcome, emptyCounts, successRate } from '../payments/operator-payments.js';
import { attemptCounts, processingPercentile } from '../payments/operator-payments.repository.js';
import {
  type DashboardOverview,
  type OverviewInput,
  ratio,
  type SeriesBucket,
  WINDOWS,
} from './dashboard.js';

export interface DashboardDeps {
  db: Kysely<Database>;
  clock: Clock;
  flags: FlagsService;
  gateway: ProviderGateway;
}

export class DashboardService {
  constructor(private readonly deps: DashboardDeps) {}

  /**
   * The window ends now and starts exactly its length before; its buckets are equal slices from the
   * start, so the last one ends now and holds the newest payments, and the series adds up to the totals.
   */
  async overview(input: OverviewInput): Promise<DashboardOverview> {
    const { db, clock } = this.deps;
    const windowName = input.window ?? '24h';
    const livemode = input.livemode ?? false;
    const window = WINDOWS[windowName];
    const bucketSeconds = window.seconds / window.buckets;
    const until = clock.now();
    const since = new Date(until.getTime() - window.seconds * 1000);

    const [rows, p99, rates, alerts] = await Promise.all([
      attemptCounts(db, since, until, { livemode, bucketSeconds }),
      processingPercentile(db, since, until, livemode, 0.99),
      chargeRateCounts(db, since, until),
      this.alerts(),
    ]);

    const totals = emptyCounts();
    const series: SeriesBucket[] = Array.from({ length: window.buckets }, (_, i) => ({
      start: unixSeconds(new Date(since.getTime() + i * bucketSeconds * 1000)),
      succeeded: 0,
      declined: 0,
      failed: 0,
    }));
    const volume = new Map<string, DashboardOverview['volume'][number]>();
    const gatewayErrors = new Map<string, number>();
    for (const row of rows) {
      const outcome = attemptOutcome(row.status, row.error_type);
      totals[outcome] += row.count;
      const bucket = series[Math.min(Math.max(row.bucket, 0), window.buckets - 1)];
      if (bucket && (outcome === 'succeeded' || outcome === 'declined' || outcome === 'failed')) {
        bucket[outcome] += row.count;
      }
      if (outcome === 'succeeded') {
        const key = `${row.provider}\u0000${row.currency}`;
        const entry = volume.get(key) ?? {
          gateway: row.provider,
          currency: row.currency,
          count: 0,
          amount: 0,
        };
        entry.count += row.count;
        entry.amount += row.amount;
        volume.set(key, entry);
      }
      if (outcome === 'failed')
        gatewayErrors.set(row.provider, (gatewayErrors.get(row.provider) ?? 0) + row.count);
    }
    const judged = totals.succeeded + totals.declined + totals.failed;
    const charges = rates.find((r) => r.livemode === livemode);
    return {
      object: 'dashboard_overview',
      window: windowName,
      livemode,
      since: unixSeconds(since),
      until: unixSeconds(until),
      payments: {
        attempts: Object.values(totals).reduce((a, b) => a + b, 0),
        succeeded: totals.succeeded,
        declined: totals.declined,
        failed: totals.failed,
        success_rate: successRate(totals),
        decline_rate: ratio(totals.declined, judged),
      },
      volume: [...volume.values()].sort(
        (a, b) => a.gateway.localeCompare(b.gateway) || a.currency.localeCompare(b.currency),
      ),
      p99_processing_ms: p99,
      gateway_errors: [...gatewayErrors.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([gateway, count]) => ({ gateway, count })),
      dispute_rate: ratio(charges?.disputed ?? 0, charges?.charges ?? 0),
      refund_rate: ratio(charges?.refunded ?? 0, charges?.charges ?? 0),
      series,
      alerts,
    };
  }

  /**
   * The kill switch as stored now (`payments_live_v1` killed stops new confirmations in every
   * environment, this service's APP_ENV included), and every configured provider whose circuit is not
   * closed (open or half-open, forced or tripped), as the `provider_circuits` health check counts them.
   */
  private async alerts(): Promise<DashboardOverview['alerts']> {
    const [flag, providers] = await Promise.all([
      this.deps.flags.status(PAYMENTS_FLAG),
      this.deps.gateway.statuses(),
    ]);
    return {
      kill_switch: flag.killed,
      open_circuits: providers
        .filter((p) => p.configured && p.state !== undefined && p.state !== 'closed')
        .map((p) => p.provider),
    };
  }
}
