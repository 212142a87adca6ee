// Overview: success rate with declines apart, volume by gateway and currency, p99 processing time,
// gateway errors, dispute and refund rates over the last hour, day or week; banners while a circuit is
// open or the kill switch is on.
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api';
import { BarChart, OutcomeChart, RateMeter } from '../components/charts';
import { ErrorMessage, Loading } from '../components/feedback';
import { money, percent, time } from '../format';
import { useSession } from '../session';
import type { Overview } from '../types';
import { useLoad } from '../use-load';

const WINDOWS = [
  ['1h', 'Last hour'],
  ['24h', 'Last day'],
  ['7d', 'Last week'],
] as const;

export function OverviewPage() {
  const { livemode } = useSession();
  const [range, setRange] = useState<string>('24h');
  const overview = useLoad(
    () => api.get<Overview>('/overview', { window: range, livemode }),
    [range, livemode],
  );
  const data = overview.data;
  return (
    <section aria-labelledby="overview-title">
      <div className="page-head">
        <h1 id="overview-title">Overview</h1>
        <fieldset className="segmented">
          <legend className="visually-hidden">Time window</legend>
          {WINDOWS.map(([value, label]) => (
            <label key={value} className={range === value ? 'selected' : undefined}>
              <input
                type="radio"
                name="window"
                value={value}
                checked={range === value}
                onChange={() => setRange(value)}
              />
              {label}
            </label>
          ))}
        </fieldset>
        <button type="button" onClick={overview.reload}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={overview.error} />
      <Loading loading={overview.loading && !data} />
      {data ? <Banners alerts={data.alerts} /> : null}
      {data ? (
        <>
          <p className="muted">
            {time(data.since)} to {time(data.until)}
          </p>
          <div className="tiles">
            <Tile label="Attempts" value={String(data.payments.attempts)} testId="attempts" />
            <Tile label="Succeeded" value={String(data.payments.succeeded)} testId="succeeded" />
            <Tile
              label="Success rate (declines apart)"
              value={percent(data.payments.success_rate)}
              meter={data.payments.success_rate}
              testId="success-rate"
            />
            <Tile
              label="Decline rate"
              value={percent(data.payments.decline_rate)}
              meter={data.payments.decline_rate}
              testId="decline-rate"
            />
            <Tile
              label="p99 processing time"
              value={data.p99_processing_ms === null ? '—' : `${Math.round(data.p99_processing_ms)} ms`}
              testId="p99"
            />
            <Tile
              label="Dispute rate"
              value={percent(data.dispute_rate)}
              meter={data.dispute_rate}
              testId="dispute-rate"
            />
            <Tile
              label="Refund rate"
              value={percent(data.refund_rate)}
              meter={data.refund_rate}
              testId="refund-rate"
            />
          </div>
          <div className="charts">
            <section className="card">
              <h2>Outcomes over time</h2>
              <OutcomeChart title="Payment attempts by outcome over time" series={data.series} />
            </section>
            <section className="card">
              <h2>Volume by gateway and currency</h2>
              <BarChart
                title="Volume by gateway and currency"
                bars={data.volume.map((row) => ({
                  label: `${row.gateway} ${row.currency.toUpperCase()}`,
                  value: row.amount,
                  text: `${money(row.amount, row.currency)} (${row.count})`,
                }))}
              />
            </section>
            <section className="card">
              <h2>Gateway errors</h2>
              <BarChart
                title="Gateway errors by gateway"
                bars={data.gateway_errors.map((row) => ({
                  label: row.gateway,
                  value: row.count,
                  text: String(row.count),
                }))}
              />
            </section>
          </div>
        </>
      ) : null}
    </section>
  );
}

function Tile(props: { label: string; value: string; meter?: number | null; testId: string }) {
  return (
    <div className="tile" data-testid={`tile-${props.testId}`}>
      <span className="tile-label">{props.label}</span>
      <span className="tile-value">{props.value}</span>
      {props.meter !== undefined ? <RateMeter title={props.label} rate={props.meter} /> : null}
    </div>
  );
}

function Banners({ alerts }: { alerts: Overview['alerts'] }) {
  return (
    <>
      {alerts.kill_switch ? (
        <div className="banner danger" role="alert">
          The payments kill switch is on: new payment confirmations are refused.{' '}
          <Link to="/flags">Flags</Link>
        </div>
      ) : null}
      {alerts.open_circuits.length > 0 ? (
        <div className="banner warning" role="alert">
          Circuit open for {alerts.open_circuits.join(', ')}: payments to it are not attempted.{' '}
          <Link to="/providers">Providers</Link>
        </div>
      ) : null}
    </>
  );
}
