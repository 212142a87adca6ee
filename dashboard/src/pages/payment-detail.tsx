// One payment: its summary, the actions the role may take (capture, refund, approve a review), and the
// timeline: attempts, events, webhooks in and out, ledger postings, fraud decision, reviews, refunds
// and disputes.
import { type FormEvent, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, newIdempotencyKey } from '../api';
import { ConfirmAction, useAction } from '../components/action';
import { ErrorMessage, Loading, Notice } from '../components/feedback';
import { RecordTable } from '../components/records';
import { money, time } from '../format';
import { useSession } from '../session';
import { useLoad } from '../use-load';

/** The payment as the merchant API shows it (the timeline's `payment`), less its client secret. */
interface TimelinePayment {
  id: string;
  status: string;
  amount: number;
  amount_received: number;
  currency: string;
  customer: string | null;
  livemode: boolean;
  metadata: Record<string, string>;
  created: number;
}

interface Timeline {
  merchant: string;
  payment: TimelinePayment;
  attempts: { provider?: string }[];
  charges: { id: string; payment_method_details?: { card?: { last4?: string; brand?: string } } | null }[];
  events: unknown[];
  webhooks_in: unknown[];
  deliveries: unknown[];
  ledger: unknown[];
  fraud: unknown;
  reviews: { id: string; open?: boolean; status?: string; reason?: string }[];
  refunds: { id: string; amount: number; status: string }[];
  disputes: unknown[];
}

const SECTIONS: [keyof Timeline, string][] = [
  ['attempts', 'Provider attempts'],
  ['charges', 'Charges'],
  ['events', 'Events'],
  ['webhooks_in', 'Webhooks in'],
  ['deliveries', 'Webhook deliveries out'],
  ['ledger', 'Ledger postings'],
  ['fraud', 'Fraud decision'],
  ['reviews', 'Reviews'],
  ['refunds', 'Refunds'],
  ['disputes', 'Disputes'],
];

export function PaymentDetailPage() {
  const { id = '' } = useParams();
  const { can } = useSession();
  // The outcome of the last action, shown at page level: the form that made it may be gone after the
  // reload (a payment refunded in full offers no more refunds).
  const [notice, setNotice] = useState<string>();
  const timeline = useLoad(
    () => api.get<Timeline>(`/payment_intents/${encodeURIComponent(id)}/timeline`),
    [id],
  );
  const data = timeline.data;
  const payment = data?.payment;
  const refunded = (data?.refunds ?? [])
    .filter((r) => r.status === 'succeeded' || r.status === 'pending')
    .reduce((sum, r) => sum + r.amount, 0);
  const card = data?.charges.map((c) => c.payment_method_details?.card).find((c) => c?.last4);
  const providers = [...new Set((data?.attempts ?? []).map((a) => a.provider).filter(Boolean))];
  const openReviews = (data?.reviews ?? []).filter((r) => r.open === true || r.status === 'open');
  return (
    <section aria-labelledby="payment-title">
      <p>
        <Link to="/payments">← Payments</Link>
      </p>
      <h1 id="payment-title">Payment {id}</h1>
      <ErrorMessage error={timeline.error} />
      <Loading loading={timeline.loading && !data} />
      {payment ? (
        <>
          <dl className="summary">
            <dt>Amount</dt>
            <dd>{money(payment.amount, payment.currency)}</dd>
            <dt>Status</dt>
            <dd data-testid="payment-status">
              <span className={`status status-${payment.status}`}>{payment.status}</span>
            </dd>
            <dt>Refunded</dt>
            <dd data-testid="payment-refunded">{money(refunded, payment.currency)}</dd>
            <dt>Provider</dt>
            <dd>{providers.join(', ') || '—'}</dd>
            <dt>Card</dt>
            <dd data-testid="payment-card">{card ? `${card.brand ?? 'card'} •••• ${card.last4}` : '—'}</dd>
            <dt>Customer</dt>
            <dd>{payment.customer ?? '—'}</dd>
            <dt>Merchant</dt>
            <dd>{data?.merchant}</dd>
            <dt>Mode</dt>
            <dd>{payment.livemode ? 'live' : 'test'}</dd>
            <dt>Created</dt>
            <dd>{time(payment.created)}</dd>
            <dt>Metadata</dt>
            <dd>{Object.keys(payment.metadata ?? {}).length ? JSON.stringify(payment.metadata) : '—'}</dd>
          </dl>
          {notice ? <Notice>{notice}</Notice> : null}
          <div className="actions">
            {payment.status === 'requires_capture' && can('payment:write') ? (
              <ConfirmAction
                label="Capture"
                question={`Capture ${money(payment.amount, payment.currency)}?`}
                action={() => api.post(`/payment_intents/${payment.id}/capture`)}
                success="Captured."
                onDone={timeline.reload}
              />
            ) : null}
            {payment.status === 'succeeded' && refunded < payment.amount_received && can('payment:refund') ? (
              <RefundForm
                payment={payment}
                remaining={payment.amount_received - refunded}
                onDone={(message) => {
                  setNotice(message);
                  timeline.reload();
                }}
              />
            ) : null}
            {can('payment:write')
              ? openReviews.map((review) => (
                  <ConfirmAction
                    key={review.id}
                    label={`Approve review ${review.id}`}
                    text="Approve review"
                    question="Approve this review and release the payment?"
                    action={() => api.post(`/reviews/${review.id}/approve`)}
                    success="Review approved."
                    onDone={timeline.reload}
                  />
                ))
              : null}
          </div>
          {SECTIONS.map(([key, label]) => (
            <section key={key} className="timeline-section">
              <h2>{label}</h2>
              <RecordTable caption={label} rows={data?.[key]} />
            </section>
          ))}
        </>
      ) : null}
    </section>
  );
}

function RefundForm(props: { payment: TimelinePayment; remaining: number; onDone(message: string): void }) {
  const [open, setOpen] = useState(false);
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('requested_by_customer');
  // One key per amount and reason: sending the same refund again (a double click, a retry after a lost
  // answer) refunds once; changing what is asked for makes it a new request.
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);
  const { busy, error, run } = useAction();
  async function submit(event: FormEvent) {
    event.preventDefault();
    let refund: { id: string; amount: number; status: string } | undefined;
    const ok = await run(async () => {
      refund = await api.post(
        '/refunds',
        {
          payment_intent: props.payment.id,
          reason,
          ...(amount.trim() ? { amount: Number(amount.trim()) } : {}),
        },
        idempotencyKey,
      );
    });
    if (ok && refund) {
      setOpen(false);
      props.onDone(
        `Refund ${refund.id} created: ${money(refund.amount, props.payment.currency)}, ${refund.status}.`,
      );
    }
  }
  if (!open)
    return (
      <button
        type="button"
        onClick={() => {
          // A new refund, even of the same amount as the last one: a new key.
          setIdempotencyKey(newIdempotencyKey());
          setOpen(true);
        }}
      >
        Refund
      </button>
    );
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Refund">
      <label>
        Amount in minor units (empty: all of {money(props.remaining, props.payment.currency)})
        <input
          value={amount}
          onChange={(e) => {
            setAmount(e.target.value);
            setIdempotencyKey(newIdempotencyKey());
          }}
          inputMode="numeric"
          pattern="[0-9]*"
        />
      </label>
      <label>
        Reason
        <select
          value={reason}
          onChange={(e) => {
            setReason(e.target.value);
            setIdempotencyKey(newIdempotencyKey());
          }}
        >
          <option value="requested_by_customer">Requested by customer</option>
          <option value="duplicate">Duplicate</option>
          <option value="fraudulent">Fraudulent</option>
        </select>
      </label>
      <button type="submit" className="danger" disabled={busy}>
        Confirm refund
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}
