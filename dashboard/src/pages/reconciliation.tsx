// Reconciliation: runs (start one over a window, or the pending pass that settles payments stuck in
// processing), a run's mismatches, and their resolution: refund at the provider or adopt as a payment.
import { useState } from 'react';
import { api, type List } from '../api';
import { ConfirmAction } from '../components/action';
import { ErrorMessage, Loading } from '../components/feedback';
import { DataTable } from '../components/table';
import { money, time } from '../format';
import { useSession } from '../session';
import { useLoad } from '../use-load';

interface Run {
  id: string;
  kind: string;
  trigger: string;
  status: string;
  window_start: number;
  window_end: number;
  providers: string[] | null;
  counts: Record<string, number> | null;
  error: string | null;
  created: number;
}

interface Finding {
  id: string;
  kind: string;
  provider: string;
  provider_charge_id: string | null;
  merchant: string | null;
  payment_intent: string | null;
  amount: number | null;
  currency: string | null;
  our_status: string | null;
  provider_status: string | null;
  resolution: string | null;
}

export function ReconciliationPage() {
  const { can } = useSession();
  const runs = useLoad(() => api.get<List<Run>>('/reconciliation/runs', { limit: 20 }), []);
  const [selected, setSelected] = useState<string>();
  const runId = selected ?? runs.data?.data[0]?.id;
  return (
    <section aria-labelledby="recon-title">
      <h1 id="recon-title">Reconciliation</h1>
      {can('payment:configure') ? (
        <div className="button-row">
          <ConfirmAction
            label="Reconcile the last 24 hours"
            question="Compare the providers' records of the last 24 hours with ours?"
            action={() => api.post('/reconciliation/runs', { since: '24h' })}
            success="Run started."
            onDone={runs.reload}
          />
          <ConfirmAction
            label="Settle pending payments"
            question="Ask the providers now about every payment pending for more than 10 minutes?"
            action={() => api.post('/reconciliation/runs', { kind: 'pending' })}
            success="Pending pass finished."
            onDone={runs.reload}
          />
        </div>
      ) : null}
      <ErrorMessage error={runs.error} />
      <Loading loading={runs.loading && !runs.data} />
      <DataTable
        caption="Runs, newest first"
        rows={runs.data?.data}
        rowKey={(r) => r.id}
        empty="No runs yet."
        columns={[
          {
            label: 'Run',
            render: (r) => (
              <button
                type="button"
                className="link"
                aria-pressed={r.id === runId}
                onClick={() => setSelected(r.id)}
              >
                {r.id}
              </button>
            ),
          },
          { label: 'Kind', render: (r) => `${r.kind} (${r.trigger})` },
          { label: 'Status', render: (r) => r.status },
          { label: 'Window', render: (r) => `${time(r.window_start)} – ${time(r.window_end)}` },
          {
            label: 'Counts',
            render: (r) =>
              r.counts
                ? Object.entries(r.counts)
                    .map(([k, v]) => `${k} ${v}`)
                    .join(', ')
                : '—',
          },
          { label: 'Error', render: (r) => r.error ?? '—' },
        ]}
      />
      {runId ? <Findings runId={runId} /> : null}
    </section>
  );
}

function Findings({ runId }: { runId: string }) {
  const { can } = useSession();
  const report = useLoad(
    () => api.get<{ findings: Finding[] }>(`/reconciliation/runs/${runId}`, { limit: 200 }),
    [runId],
  );
  return (
    <section className="card">
      <h2>Mismatches of {runId}</h2>
      <ErrorMessage error={report.error} />
      <DataTable
        caption={`Mismatches found by ${runId}`}
        rows={report.data?.findings}
        rowKey={(f) => f.id}
        empty="No mismatches."
        columns={[
          { label: 'Kind', render: (f) => f.kind },
          { label: 'Provider', render: (f) => `${f.provider} ${f.provider_charge_id ?? ''}` },
          { label: 'Payment', render: (f) => f.payment_intent ?? '—' },
          { label: 'Amount', render: (f) => money(f.amount, f.currency) },
          { label: 'Ours / theirs', render: (f) => `${f.our_status ?? '—'} / ${f.provider_status ?? '—'}` },
          { label: 'Resolution', render: (f) => f.resolution ?? 'open' },
          {
            label: 'Resolve',
            render: (f) =>
              f.resolution ? (
                '—'
              ) : (
                <span className="button-row">
                  {f.kind !== 'missing_at_provider' && can('payment:refund') ? (
                    <ConfirmAction
                      label="Refund at provider"
                      question="Refund this charge at the provider?"
                      danger
                      action={() => api.post(`/reconciliation/findings/${f.id}/refund`)}
                      onDone={report.reload}
                    />
                  ) : null}
                  {f.kind === 'unknown_at_our_side' && can('payment:configure') ? (
                    <ConfirmAction
                      label="Adopt as payment"
                      question="Record this provider charge as a payment?"
                      action={() =>
                        api.post(
                          `/reconciliation/findings/${f.id}/adopt`,
                          f.merchant ? { merchant: f.merchant } : {},
                        )
                      }
                      onDone={report.reload}
                    />
                  ) : null}
                </span>
              ),
          },
        ]}
      />
    </section>
  );
}
