// Runbook 002's dispute rate (warn above 1%) and refund rate (warn above 5%) as gauges, by mode, over
// the trailing 24 hours and 30 days (card networks judge dispute ratios monthly): disputes opened and
// charges refunded (fully or partly) per succeeded charge created in the window. The counts read the
// database, so a scrape reuses an answer up to a minute old rather than scanning on every scrape.
import { type Kysely, sql } from 'kysely';
import client from 'prom-client';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';

const WINDOWS = { '24h': 86_400, '30d': 30 * 86_400 } as const;
const CACHE_MS = 60_000;

interface Rates {
  mode: 'live' | 'test';
  window: keyof typeof WINDOWS;
  dispute: number;
  refund: number;
}

/** Succeeded charges created in [since, until] per mode, and how many of them were refunded and disputed. */
export interface ChargeRateCounts {
  livemode: boolean;
  charges: number;
  refunded: number;
  disputed: number;
}

export async function chargeRateCounts(
  db: Kysely<Database>,
  since: Date,
  until: Date,
): Promise<ChargeRateCounts[]> {
  const { rows } = await sql<{ livemode: boolean; charges: string; refunded: string; disputed: string }>`
    select c.livemode,
           count(*) as charges,
           count(*) filter (where c.amount_refunded > 0) as refunded,
           count(*) filter (where exists (select 1 from disputes d where d.charge_id = c.id)) as disputed
      from charges c
     where c.status = 'succeeded' and c.created_at >= ${since} and c.created_at <= ${until}
     group by c.livemode`.execute(db);
  return rows.map((row) => ({
    livemode: row.livemode,
    charges: Number(row.charges),
    refunded: Number(row.refunded),
    disputed: Number(row.disputed),
  }));
}

export async function readRates(db: Kysely<Database>, now: Date): Promise<Rates[]> {
  const rates: Rates[] = [];
  for (const [window, seconds] of Object.entries(WINDOWS) as [keyof typeof WINDOWS, number][]) {
    const rows = await chargeRateCounts(db, new Date(now.getTime() - seconds * 1000), now);
    for (const livemode of [true, false]) {
      const row = rows.find((r) => r.livemode === livemode);
      const charges = row?.charges ?? 0;
      rates.push({
        mode: livemode ? 'live' : 'test',
        window,
        dispute: charges === 0 ? 0 : (row?.disputed ?? 0) / charges,
        refund: charges === 0 ? 0 : (row?.refunded ?? 0) / charges,
      });
    }
  }
  return rates;
}

export function registerRateGauges(registry: client.Registry, db: Kysely<Database>, clock: Clock): void {
  let cached: { at: number; rates: Promise<Rates[]> } | undefined;
  const current = () => {
    const at = performance.now();
    if (!cached || at - cached.at > CACHE_MS) {
      const rates = readRates(db, clock.now());
      cached = { at, rates };
      // A failed read is not kept: the next scrape tries again.
      rates.catch(() => {
        cached = undefined;
      });
    }
    return cached.rates;
  };
  const gauge = (name: string, help: string, pick: (rates: Rates) => number) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['mode', 'window'],
      registers: [registry],
      async collect() {
        // A scrape must answer with the pool exhausted: give the read 250 ms, then report nothing new.
        const timeout = new Promise<undefined>((resolve) =>
          setTimeout(() => resolve(undefined), 250).unref(),
        );
        const rates = await Promise.race([current().catch(() => undefined), timeout]);
        for (const rate of rates ?? []) this.set({ mode: rate.mode, window: rate.window }, pick(rate));
      },
    });
  gauge(
    'payment_dispute_rate',
    'Disputed share of succeeded charges created in the window (alert > 0.01)',
    (r) => r.dispute,
  );
  gauge(
    'payment_refund_rate',
    'Refunded share of succeeded charges created in the window (alert > 0.05)',
    (r) => r.refund,
  );
}
