// Merchants' API keys: list (redacted), create, rotate (the old key keeps working for the overlap) and
// revoke. A new secret is shown once, here, and never again: the service keeps only its hash.
import { type FormEvent, useState } from 'react';
import { api, type List } from '../api';
import { ConfirmAction, useAction } from '../components/action';
import { ErrorMessage, Loading } from '../components/feedback';
import { DataTable } from '../components/table';
import { time } from '../format';
import { useLoad } from '../use-load';

interface ApiKey {
  id: string;
  kind: string;
  livemode: boolean;
  name: string | null;
  redacted: string;
  created: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  age_days: number;
  merchant?: string;
}

export function KeysPage() {
  const [input, setInput] = useState('');
  const [merchant, setMerchant] = useState('');
  const keys = useLoad(() => api.get<List<ApiKey>>('/keys', { merchant }), [merchant]);
  const [secret, setSecret] = useState<{ id: string; secret: string }>();
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      {secret ? (
        <div className="banner warning" role="alert">
          <p>Secret of {secret.id}: copy it now, it will not be shown again.</p>
          <code className="secret" data-testid="new-secret">
            {secret.secret}
          </code>
          <button type="button" onClick={() => setSecret(undefined)}>
            I have copied it
          </button>
        </div>
      ) : null}
      <div className="filters">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            setMerchant(input.trim());
          }}
          aria-label="Choose a merchant"
        >
          <label>
            Merchant id (empty: every merchant)
            <input value={input} onChange={(e) => setInput(e.target.value)} placeholder="acct_…" />
          </label>
          <button type="submit">Show keys</button>
        </form>
      </div>
      {merchant ? (
        <CreateKey
          merchant={merchant}
          onCreated={(k) => {
            setSecret(k);
            keys.reload();
          }}
        />
      ) : null}
      <ErrorMessage error={keys.error} />
      <Loading loading={keys.loading && !keys.data} />
      <DataTable
        caption="API keys"
        rows={keys.data?.data}
        rowKey={(k) => k.id}
        empty="No keys."
        columns={[
          { label: 'Key', render: (k) => `${k.name ?? k.id}` },
          { label: 'Kind', render: (k) => `${k.kind} (${k.livemode ? 'live' : 'test'})` },
          { label: 'Redacted', render: (k) => <code>{k.redacted}</code> },
          { label: 'Age', render: (k) => `${k.age_days} d` },
          { label: 'Last used', render: (k) => time(k.last_used_at) },
          {
            label: 'State',
            render: (k) =>
              k.revoked_at
                ? `revoked ${time(k.revoked_at)}`
                : k.expires_at
                  ? `expires ${time(k.expires_at)}`
                  : 'active',
          },
          {
            label: 'Actions',
            render: (k) =>
              k.revoked_at ? (
                '—'
              ) : (
                <span className="button-row">
                  <ConfirmAction
                    label={`Rotate ${k.id}`}
                    text="Rotate"
                    question="Issue a replacement? The old key keeps working for 24 hours."
                    action={async () => {
                      const rotated = await api.post<{ id: string; secret: string }>(`/keys/${k.id}/rotate`);
                      setSecret({ id: rotated.id, secret: rotated.secret });
                    }}
                    onDone={keys.reload}
                  />
                  <ConfirmAction
                    label={`Revoke ${k.id}`}
                    text="Revoke"
                    danger
                    question="Revoke this key now? Requests with it fail at once."
                    action={() => api.post(`/keys/${k.id}/revoke`)}
                    onDone={keys.reload}
                  />
                </span>
              ),
          },
        ]}
      />
    </section>
  );
}

function CreateKey(props: { merchant: string; onCreated(key: { id: string; secret: string }): void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState('secret');
  const [livemode, setLivemode] = useState(false);
  const { busy, error, run } = useAction();
  async function submit(event: FormEvent) {
    event.preventDefault();
    await run(async () => {
      const created = await api.post<{ id: string; secret: string }>('/keys', {
        merchant: props.merchant,
        kind,
        livemode,
        ...(name ? { name } : {}),
      });
      props.onCreated({ id: created.id, secret: created.secret });
    });
  }
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create a key">
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Kind
        <select value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="secret">secret</option>
          <option value="restricted">restricted</option>
          <option value="publishable">publishable</option>
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={livemode} onChange={(e) => setLivemode(e.target.checked)} />
        Live mode
      </label>
      <button type="submit" className="primary" disabled={busy}>
        Create key
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}
