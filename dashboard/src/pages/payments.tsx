// Payments: search across merchants by status, provider, amount, date, customer, card last4 and
// metadata. The filters live in the URL, so a search can be bookmarked or shared. Metadata needs the
// search endpoint (Stripe's query language); the rest is the list's own filters.
import { type FormEvent, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, type List } from '../api';
import { ErrorMessage, Loading } from '../components/feedback';
import { DataTable } from '../components/table';
import { money, secondsOfLocalInput, time } from '../format';
import { useSession } from '../session';
import type { OperatorPayment } from '../types';
import { useLoad } from '../use-load';
import { OpenReviews } from './open-reviews';

const STATUSES = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'succeeded',
  'canceled',
];
const PROVIDERS = ['stripe', 'paypal', 'wallet'];
const FIELDS = [
  'status',
  'provider',
  'amount_min',
  'amount_max',
  'from',
  'to',
  'customer',
  'last4',
  'metadata_key',
  'metadata_value',
] as const;
type Field = (typeof FIELDS)[number];

/** Stripe's search query for one metadata pair; quotes in the value are escaped as the language wants. */
const metadataQuery = (key: string, value: string) =>
  `metadata['${key.replace(/'/g, "\\'")}']:'${value.replace(/'/g, "\\'")}'`;

export function PaymentsPage() {
  const { livemode } = useSession();
  const [params, setParams] = useSearchParams();
  const value = (field: Field) => params.get(field) ?? '';
  const [form, setForm] = useState<Record<Field, string>>(
    () => Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? ''])) as Record<Field, string>,
  );
  const query = params.toString();
  const payments = useLoad(() => {
    const filters = {
      livemode,
      status: value('status'),
      provider: value('provider'),
      'amount[gte]': value('amount_min'),
      'amount[lte]': value('amount_max'),
      'created[gte]': secondsOfLocalInput(value('from')),
      'created[lte]': secondsOfLocalInput(value('to')),
      customer: value('customer'),
      last4: value('last4'),
      limit: 50,
    };
    const key = value('metadata_key');
    if (key) {
      return api.get<List<OperatorPayment>>('/payment_intents/search', {
        ...filters,
        query: metadataQuery(key, value('metadata_value')),
      });
    }
    return api.get<List<OperatorPayment>>('/payment_intents', filters);
  }, [query, livemode]);

  function submit(event: FormEvent) {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const field of FIELDS) if (form[field].trim()) next.set(field, form[field].trim());
    setParams(next);
  }
  function clear() {
    setForm(Object.fromEntries(FIELDS.map((f) => [f, ''])) as Record<Field, string>);
    setParams(new URLSearchParams());
  }
  const input = (field: Field) => ({
    name: field,
    value: form[field],
    onChange: (event: { target: { value: string } }) => setForm({ ...form, [field]: event.target.value }),
  });

  return (
    <section aria-labelledby="payments-title">
      <h1 id="payments-title">Payments</h1>
      <form className="filters" onSubmit={submit} aria-label="Payment filters">
        <label>
          Status
          <select {...input('status')}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Provider
          <select {...input('provider')}>
            <option value="">Any</option>
            {PROVIDERS.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Card last 4
          <input {...input('last4')} inputMode="numeric" pattern="[0-9]{4}" maxLength={4} />
        </label>
        <label>
          Customer
          <input {...input('customer')} placeholder="cus_…" />
        </label>
        <label>
          Amount at least (minor units)
          <input {...input('amount_min')} inputMode="numeric" pattern="[0-9]*" />
        </label>
        <label>
          Amount at most (minor units)
          <input {...input('amount_max')} inputMode="numeric" pattern="[0-9]*" />
        </label>
        <label>
          Created from (UTC)
          <input {...input('from')} type="datetime-local" />
        </label>
        <label>
          Created to (UTC)
          <input {...input('to')} type="datetime-local" />
        </label>
        <label>
          Metadata key
          <input {...input('metadata_key')} />
        </label>
        <label>
          Metadata value
          <input {...input('metadata_value')} />
        </label>
        <div className="buttons">
          <button type="submit" className="primary">
            Search
          </button>
          <button type="button" onClick={clear}>
            Clear
          </button>
        </div>
      </form>
      <ErrorMessage error={payments.error} />
      <Loading loading={payments.loading} />
      <DataTable
        caption={`Payments (${livemode ? 'live' : 'test'} mode)`}
        rows={payments.data?.data}
        rowKey={(p) => p.id}
        empty="No payments match."
        columns={[
          { label: 'Payment', render: (p) => <Link to={`/payments/${p.id}`}>{p.id}</Link> },
          { label: 'Amount', render: (p) => money(p.amount, p.currency) },
          { label: 'Status', render: (p) => <span className={`status status-${p.status}`}>{p.status}</span> },
          { label: 'Provider', render: (p) => p.provider ?? '—' },
          { label: 'Customer', render: (p) => p.customer ?? '—' },
          { label: 'Merchant', render: (p) => p.merchant },
          { label: 'Created', render: (p) => time(p.created) },
        ]}
      />
      <OpenReviews />
    </section>
  );
}
