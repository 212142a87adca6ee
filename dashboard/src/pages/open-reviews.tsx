// Payments held for review (fraud rules, a rollback's marking): approve releases the payment (a held
// one is captured first). Shown above the payment search for the roles that may read payments.
import { Link } from 'react-router';
import { api, type List } from '../api';
import { ConfirmAction } from '../components/action';
import { ErrorMessage } from '../components/feedback';
import { DataTable } from '../components/table';
import { time } from '../format';
import { useSession } from '../session';
import { useLoad } from '../use-load';

interface Review {
  id: string;
  payment_intent: string;
  charge: string;
  opened_reason: string;
  reason: string;
  created: number;
}

export function OpenReviews() {
  const { livemode, can } = useSession();
  const reviews = useLoad(
    () => api.get<List<Review>>('/reviews', { open: true, livemode, limit: 20 }),
    [livemode],
  );
  return (
    <section className="card">
      <h2>Open reviews</h2>
      <ErrorMessage error={reviews.error} />
      <DataTable
        caption="Payments held for review"
        rows={reviews.data?.data}
        rowKey={(r) => r.id}
        empty="No open reviews."
        columns={[
          { label: 'Review', render: (r) => r.id },
          {
            label: 'Payment',
            render: (r) => <Link to={`/payments/${r.payment_intent}`}>{r.payment_intent}</Link>,
          },
          { label: 'Reason', render: (r) => `${r.reason} (${r.opened_reason})` },
          { label: 'Opened', render: (r) => time(r.created) },
          {
            label: 'Decision',
            render: (r) =>
              can('payment:write') ? (
                <ConfirmAction
                  label={`Approve ${r.id}`}
                  text="Approve"
                  question="Approve and release this payment?"
                  action={() => api.post(`/reviews/${r.id}/approve`)}
                  onDone={reviews.reload}
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
