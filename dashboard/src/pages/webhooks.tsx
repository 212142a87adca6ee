// Webhooks: merchants' endpoints; outbound deliveries with status and the endpoint's answer, replay of
// one event, of an endpoint's failures, of a time range; inbound provider events and the dead letters.
import { type FormEvent, useState } from 'react';
import { api, type List } from '../api';
import { ConfirmAction, useAction } from '../components/action';
import { ActionOutcome, ErrorMessage, Loading } from '../components/feedback';
import { DataTable } from '../components/table';
import { secondsOfLocalInput, time } from '../format';
import { useSession } from '../session';
import type { Delivery, Endpoint, InboundWebhook } from '../types';
import { useLoad } from '../use-load';

export function WebhooksPage() {
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <Endpoints />
      <Deliveries />
      <Inbound />
    </section>
  );
}

function Endpoints() {
  const { livemode } = useSession();
  const endpoints = useLoad(() => api.get<List<Endpoint>>('/webhook_endpoints', { limit: 100 }), []);
  const rows = endpoints.data?.data.filter((e) => e.livemode === undefined || e.livemode === livemode);
  return (
    <section className="card">
      <h2>Endpoints</h2>
      <ErrorMessage error={endpoints.error} />
      <DataTable
        caption="Webhook endpoints"
        rows={rows}
        rowKey={(e) => e.id}
        columns={[
          { label: 'Endpoint', render: (e) => e.id },
          { label: 'URL', render: (e) => <span className="wrap">{e.url}</span> },
          { label: 'Status', render: (e) => e.status },
          { label: 'Merchant', render: (e) => e.merchant },
          { label: 'Events', render: (e) => (e.enabled_events ?? []).join(', ') || '—' },
        ]}
      />
    </section>
  );
}

function Deliveries() {
  const { can } = useSession();
  const [status, setStatus] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const deliveries = useLoad(
    () => api.get<List<Delivery>>('/webhook_deliveries', { status, endpoint: endpoint.trim(), limit: 50 }),
    [status, endpoint],
  );
  const mayReplay = can('webhook:operate');
  return (
    <section className="card">
      <h2>Deliveries</h2>
      <div className="filters">
        <label>
          Delivery status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Any</option>
            <option value="pending">pending</option>
            <option value="succeeded">succeeded</option>
            <option value="failed">failed</option>
            <option value="dead">dead</option>
          </select>
        </label>
        <label>
          Endpoint id
          <input value={endpoint} onChange={(e) => setEndpoint(e.target.value)} placeholder="we_…" />
        </label>
        <button type="button" onClick={deliveries.reload}>
          Refresh
        </button>
      </div>
      {mayReplay && endpoint.trim() ? (
        <ConfirmAction
          label="Replay this endpoint's failures"
          question={`Send every failed delivery of ${endpoint.trim()} again?`}
          action={() => api.post('/webhooks/replay', { endpoint: endpoint.trim(), status: 'failed' })}
          success="Failed deliveries queued again."
          onDone={deliveries.reload}
        />
      ) : null}
      <ErrorMessage error={deliveries.error} />
      <Loading loading={deliveries.loading} />
      <DataTable
        caption="Webhook deliveries, newest first"
        rows={deliveries.data?.data}
        rowKey={(d) => d.id}
        empty="No deliveries."
        columns={[
          { label: 'Delivery', render: (d) => d.id },
          { label: 'Event', render: (d) => d.event },
          { label: 'Endpoint', render: (d) => d.endpoint },
          {
            label: 'Status',
            render: (d) => <span className={`status status-${d.status}`}>{d.status}</span>,
          },
          { label: 'Attempts', render: (d) => d.attempts },
          {
            label: 'Response',
            render: (d) =>
              d.last_status_code === null
                ? (d.last_error ?? '—')
                : `HTTP ${d.last_status_code}${d.last_error ? ` ${d.last_error}` : ''}`,
          },
          { label: 'Created', render: (d) => time(d.created) },
          {
            label: 'Replay',
            render: (d) =>
              mayReplay ? (
                <ConfirmAction
                  label={`Replay ${d.id}`}
                  text="Replay"
                  question="Send this event again?"
                  action={() => api.post('/webhooks/replay', { event: d.event })}
                  success="Queued again."
                  onDone={deliveries.reload}
                />
              ) : (
                '—'
              ),
          },
        ]}
      />
      {mayReplay ? <ReplayRange onDone={deliveries.reload} /> : null}
    </section>
  );
}

function ReplayRange({ onDone }: { onDone(): void }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const { busy, error, done, run } = useAction();
  async function submit(event: FormEvent) {
    event.preventDefault();
    const ok = await run(
      () =>
        api.post('/webhooks/replay', {
          from: secondsOfLocalInput(from),
          to: secondsOfLocalInput(to),
          ...(endpoint.trim() ? { endpoint: endpoint.trim() } : {}),
        }),
      'Deliveries in the range queued again.',
    );
    if (ok) onDone();
  }
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Replay a time range">
      <h3>Replay a time range</h3>
      <label>
        From (UTC)
        <input type="datetime-local" required value={from} onChange={(e) => setFrom(e.target.value)} />
      </label>
      <label>
        To (UTC)
        <input type="datetime-local" required value={to} onChange={(e) => setTo(e.target.value)} />
      </label>
      <label>
        Only endpoint (optional)
        <input value={endpoint} onChange={(e) => setEndpoint(e.target.value)} />
      </label>
      <button type="submit" disabled={busy}>
        Replay range
      </button>
      <ActionOutcome done={done} error={error} />
    </form>
  );
}

function Inbound() {
  const { can } = useSession();
  const [status, setStatus] = useState('');
  const inbound = useLoad(
    () => api.get<List<InboundWebhook>>('/webhooks/inbound', { status, limit: 50 }),
    [status],
  );
  const mayReplay = can('webhook:operate');
  return (
    <section className="card">
      <h2>Inbound provider events</h2>
      <div className="filters">
        <label>
          Inbound status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Any</option>
            <option value="pending">pending</option>
            <option value="processed">processed</option>
            <option value="ignored">ignored</option>
            <option value="failed">failed</option>
            <option value="dead">dead letters</option>
          </select>
        </label>
        {mayReplay ? (
          <ConfirmAction
            label="Replay dead letters"
            question="Process every dead inbound event again?"
            action={() => api.post('/webhooks/inbound/replay', { status: 'dead' })}
            success="Dead letters queued again."
            onDone={inbound.reload}
          />
        ) : null}
      </div>
      <ErrorMessage error={inbound.error} />
      <DataTable
        caption="Inbound webhooks, newest first"
        rows={inbound.data?.data}
        rowKey={(w) => w.id}
        empty="No inbound events."
        columns={[
          { label: 'Id', render: (w) => w.id },
          { label: 'Provider', render: (w) => w.provider },
          { label: 'Type', render: (w) => w.type },
          { label: 'Status', render: (w) => <span className={`status status-${w.status}`}>{w.status}</span> },
          { label: 'Error', render: (w) => w.last_error ?? '—' },
          { label: 'Received', render: (w) => time(w.received_at ?? w.created) },
          {
            label: 'Replay',
            render: (w) =>
              mayReplay && (w.status === 'dead' || w.status === 'failed') ? (
                <ConfirmAction
                  label={`Replay ${w.id}`}
                  text="Replay"
                  question="Process this event again?"
                  action={() => api.post('/webhooks/inbound/replay', { id: w.id })}
                  success="Queued again."
                  onDone={inbound.reload}
                />
              ) : (
                '—'
              ),
          },
        ]}
      />
    </section>
  );
}
