// Flags and the kill switch (runbook 002's payments_live_v1): kill or enable with a confirmation step and
// a reason for the audit log, and the rollout percentage per environment.
import { type FormEvent, useState } from 'react';
import { api, type List } from '../api';
import { ConfirmAction, useAction } from '../components/action';
import { ActionOutcome, ErrorMessage, Loading } from '../components/feedback';
import { time } from '../format';
import { useSession } from '../session';
import type { FeatureFlag } from '../types';
import { useLoad } from '../use-load';

export function FlagsPage() {
  const flags = useLoad(() => api.get<List<FeatureFlag>>('/flags'), []);
  return (
    <section aria-labelledby="flags-title">
      <h1 id="flags-title">Flags and kill switch</h1>
      <ErrorMessage error={flags.error} />
      <Loading loading={flags.loading && !flags.data} />
      {flags.data?.data.map((flag) => (
        <FlagCard key={flag.name} flag={flag} onChange={flags.reload} />
      ))}
    </section>
  );
}

function FlagCard({ flag, onChange }: { flag: FeatureFlag; onChange(): void }) {
  const { can } = useSession();
  const [reason, setReason] = useState('');
  const mayOperate = can('provider:operate');
  return (
    <section className="card" aria-labelledby={`flag-${flag.name}`}>
      <h2 id={`flag-${flag.name}`}>{flag.name}</h2>
      <p>{flag.description}</p>
      <p
        data-testid={`flag-state-${flag.name}`}
        className={flag.killed ? 'banner danger' : 'banner ok-banner'}
      >
        {flag.killed
          ? `Killed ${time(flag.killed_at)} by ${flag.killed_by ?? 'unknown'}: new payment confirmations are refused.`
          : `Enabled: rollout ${flag.rollout.value}% in ${flag.environment}.`}
      </p>
      {mayOperate ? (
        <div className="inline-form">
          <label>
            Reason (kept in the audit log)
            <input value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          {flag.killed ? (
            <ConfirmAction
              label="Turn kill switch off"
              question="Accept new payment confirmations again?"
              confirmLabel="Yes, enable payments"
              action={() => api.post(`/flags/${flag.name}/enable`, reason ? { reason } : {})}
              onDone={onChange}
            />
          ) : (
            <ConfirmAction
              label="Turn kill switch on"
              danger
              question="Refuse every new payment confirmation on every replica?"
              confirmLabel="Yes, kill payments"
              action={() => api.post(`/flags/${flag.name}/kill`, reason ? { reason } : {})}
              onDone={onChange}
            />
          )}
        </div>
      ) : null}
      <h3>Rollout per environment</h3>
      <ul className="plain">
        {Object.entries(flag.environments).map(([env, value]) => (
          <li key={env}>
            {mayOperate ? (
              <RolloutForm
                flag={flag.name}
                env={env}
                current={env === flag.environment}
                value={value.rollout.value}
                onDone={onChange}
              />
            ) : (
              `${env}: ${value.rollout.value}% (${value.source})`
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function RolloutForm(props: { flag: string; env: string; current: boolean; value: number; onDone(): void }) {
  const [value, setValue] = useState(String(props.value));
  const [confirming, setConfirming] = useState(false);
  const { busy, error, done, run } = useAction();
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!confirming) {
      setConfirming(true);
      return;
    }
    const ok = await run(
      () =>
        api.patch(`/flags/${props.flag}`, {
          environments: { [props.env]: { rollout: { value: Number(value) } } },
        }),
      'Saved.',
    );
    setConfirming(false);
    if (ok) props.onDone();
  }
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Rollout in ${props.env}`}>
      <label>
        {props.env} rollout %{props.current ? ' (this service)' : ''}
        <input
          type="number"
          min={0}
          max={100}
          step={1}
          required
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setConfirming(false);
          }}
        />
      </label>
      <button type="submit" className={confirming ? 'danger' : undefined} disabled={busy}>
        {confirming ? `Confirm ${value}% in ${props.env}` : 'Set'}
      </button>
      {confirming ? (
        <button type="button" onClick={() => setConfirming(false)}>
          Cancel
        </button>
      ) : null}
      <ActionOutcome done={done} error={error} />
    </form>
  );
}
