// Disputes: the list across merchants with due dates (the ones due soonest first to the eye), and
// evidence submission for roles that may write.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, type List } from '../api';
import { useAction } from '../components/action';
import { ActionOutcome, ErrorMessage, Loading } from '../components/feedback';
import { DataTable } from '../components/table';
import { money, time } from '../format';
import { useSession } from '../session';
import { useLoad } from '../use-load';

interface Dispute {
  id: string;
  amount: number;
  currency: string;
  status: string;
  reason: string;
  payment_intent: string | null;
  merchant?: string;
  evidence_details?: { due_by: number | null; has_evidence?: boolean; submission_count?: number };
  created: number;
}

export function DisputesPage() {
  const { livemode, can } = useSession();
  const disputes = useLoad(() => api.get<List<Dispute>>('/disputes', { livemode, limit: 50 }), [livemode]);
  const [selected, setSelected] = useState<string>();
  const now = Date.now() / 1000;
  return (
    <section aria-labelledby="disputes-title">
      <h1 id="disputes-title">Disputes</h1>
      <ErrorMessage error={disputes.error} />
      <Loading loading={disputes.loading && !disputes.data} />
      <DataTable
        caption="Disputes"
        rows={disputes.data?.data}
        rowKey={(d) => d.id}
        empty="No disputes."
        columns={[
          { label: 'Dispute', render: (d) => d.id },
          { label: 'Amount', render: (d) => money(d.amount, d.currency) },
          { label: 'Status', render: (d) => <span className={`status status-${d.status}`}>{d.status}</span> },
          { label: 'Reason', render: (d) => d.reason },
          { label: 'Payment', render: (d) => d.payment_intent ?? '—' },
          {
            label: 'Evidence due',
            render: (d) => {
              const due = d.evidence_details?.due_by;
              if (!due) return '—';
              const days = Math.floor((due - now) / 86_400);
              return `${time(due)} (${days < 0 ? 'overdue' : `${days} days left`})`;
            },
          },
          {
            label: 'Evidence',
            render: (d) =>
              can('payment:write') && d.status.startsWith('needs_response') ? (
                <button
                  type="button"
                  aria-label={`Add evidence to ${d.id}`}
                  onClick={() => setSelected(d.id)}
                >
                  Add evidence
                </button>
              ) : d.evidence_details?.has_evidence ? (
                'submitted'
              ) : (
                '—'
              ),
          },
        ]}
      />
      {selected ? (
        <EvidenceForm id={selected} onDone={disputes.reload} onClose={() => setSelected(undefined)} />
      ) : null}
    </section>
  );
}

/** The evidence fields that take a file, as the card networks name the documents. */
const FILE_FIELDS = [
  ['receipt', 'Receipt'],
  ['customer_communication', 'Customer communication'],
  ['customer_signature', 'Customer signature'],
  ['shipping_documentation', 'Shipping documentation'],
  ['service_documentation', 'Service documentation'],
  ['refund_policy', 'Refund policy'],
  ['cancellation_policy', 'Cancellation policy'],
  ['duplicate_charge_documentation', 'Duplicate charge documentation'],
  ['uncategorized_file', 'Other document'],
] as const;

interface UploadedFile {
  id: string;
  filename: string;
  size: number;
}

function EvidenceForm(props: { id: string; onDone(): void; onClose(): void }) {
  const [text, setText] = useState('');
  const [field, setField] = useState<string>('receipt');
  const [file, setFile] = useState<File>();
  const [submit, setSubmit] = useState(false);
  const { busy, error, done, run } = useAction();
  // Keyboard users land in the form they opened.
  const first = useRef<HTMLTextAreaElement>(null);
  useEffect(() => first.current?.focus(), []);
  async function send(event: FormEvent) {
    event.preventDefault();
    const ok = await run(
      async () => {
        // The file is uploaded first (kept under the dispute's merchant), then named in its evidence field.
        const uploaded = file
          ? await api.upload<UploadedFile>(`/disputes/${props.id}/files`, file)
          : undefined;
        return api.post(`/disputes/${props.id}/evidence`, {
          evidence: {
            ...(text ? { uncategorized_text: text } : {}),
            ...(uploaded ? { [field]: uploaded.id } : {}),
          },
          submit,
        });
      },
      submit ? 'Evidence submitted.' : 'Evidence saved.',
    );
    if (ok) props.onDone();
  }
  return (
    <form className="card inline-form" onSubmit={send} aria-label={`Evidence for ${props.id}`}>
      <h2>Evidence for {props.id}</h2>
      <label>
        Explanation
        <textarea ref={first} value={text} onChange={(e) => setText(e.target.value)} rows={4} />
      </label>
      <label>
        Document type
        <select value={field} onChange={(e) => setField(e.target.value)}>
          {FILE_FIELDS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Evidence file (PDF, PNG or JPEG, up to 5 MB)
        <input
          type="file"
          accept=".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"
          onChange={(e) => setFile(e.target.files?.[0])}
        />
      </label>
      <label className="check">
        <input type="checkbox" checked={submit} onChange={(e) => setSubmit(e.target.checked)} />
        Submit to the card network now (no further changes)
      </label>
      <button type="submit" className="primary" disabled={busy}>
        Save evidence
      </button>
      <button type="button" onClick={props.onClose}>
        Close
      </button>
      <ActionOutcome done={done} error={error} />
    </form>
  );
}
