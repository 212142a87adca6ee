// Providers: each one's health (circuit state, in flight, queue, back-off), forcing its circuit open or
// closed or back to automatic, and the run-time switches (fallback provider, circuit breaking).
import { api, type List } from '../api';
import { ConfirmAction } from '../components/action';
import { ErrorMessage, Loading } from '../components/feedback';
import { DataTable } from '../components/table';
import { time } from '../format';
import { useSession } from '../session';
import type { ProviderStatus, RuntimeSwitch } from '../types';
import { useLoad } from '../use-load';

export function ProvidersPage() {
  const { can } = useSession();
  const providers = useLoad(() => api.get<List<ProviderStatus>>('/providers'), []);
  const switches = useLoad(() => api.get<List<RuntimeSwitch>>('/switches'), []);
  const mayOperate = can('provider:operate');
  return (
    <section aria-labelledby="providers-title">
      <h1 id="providers-title">Providers</h1>
      <ErrorMessage error={providers.error} />
      <Loading loading={providers.loading && !providers.data} />
      <DataTable
        caption="Provider health"
        rows={providers.data?.data}
        rowKey={(p) => p.provider}
        columns={[
          { label: 'Provider', render: (p) => p.provider },
          { label: 'Configured', render: (p) => (p.configured ? 'yes' : 'no') },
          {
            label: 'Circuit',
            render: (p) => (
              <span
                className={`status status-circuit-${p.state ?? 'none'}`}
                data-testid={`circuit-${p.provider}`}
              >
                {p.state ?? '—'}
                {p.forced ? ` (forced ${p.forced})` : ''}
              </span>
            ),
          },
          { label: 'In flight', render: (p) => p.in_flight ?? '—' },
          { label: 'Queue', render: (p) => p.queue_depth ?? '—' },
          { label: 'Back-off until', render: (p) => (p.backoff_until ? time(p.backoff_until) : '—') },
          {
            label: 'Force circuit',
            render: (p) =>
              mayOperate && p.configured ? (
                <span className="button-row">
                  {(['open', 'closed', 'auto'] as const)
                    .filter((state) => (p.forced ?? 'auto') !== state)
                    .map((state) => (
                      <ConfirmAction
                        key={state}
                        label={state === 'auto' ? `Automatic ${p.provider}` : `Force ${state} ${p.provider}`}
                        danger={state === 'open'}
                        question={
                          state === 'open'
                            ? `Stop sending payments to ${p.provider} on every replica?`
                            : state === 'closed'
                              ? `Send payments to ${p.provider} whatever its errors?`
                              : `Let ${p.provider}'s circuit follow its errors again?`
                        }
                        action={() => api.post(`/providers/${p.provider}/circuit`, { state })}
                        onDone={providers.reload}
                      />
                    ))}
                </span>
              ) : (
                '—'
              ),
          },
        ]}
      />
      <h2>Run-time switches</h2>
      <ErrorMessage error={switches.error} />
      <DataTable
        caption="Run-time switches"
        rows={switches.data?.data}
        rowKey={(s) => s.name}
        columns={[
          { label: 'Switch', render: (s) => s.name },
          {
            label: 'State',
            render: (s) => <span data-testid={`switch-${s.name}`}>{s.enabled ? 'on' : 'off'}</span>,
          },
          { label: 'Source', render: (s) => `${s.source} (default ${s.default ? 'on' : 'off'})` },
          {
            label: 'Changed',
            render: (s) => (s.updated_at ? `${time(s.updated_at)} by ${s.updated_by}` : '—'),
          },
          {
            label: 'Change',
            render: (s) =>
              mayOperate ? (
                <ConfirmAction
                  label={`Turn ${s.enabled ? 'off' : 'on'} ${s.name}`}
                  question={`Turn ${s.name} ${s.enabled ? 'off' : 'on'} on every replica?`}
                  danger={s.enabled}
                  action={() => api.post(`/switches/${s.name}`, { enabled: !s.enabled })}
                  onDone={switches.reload}
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
