// The audit log: newest first, filtered by actor, action, resource and start time; and the chain check
// (every row's hash against its predecessor and the published heads).
import { type FormEvent, useState } from 'react';
import { api, type List } from '../api';
import { useAction } from '../components/action';
import { ErrorMessage, Loading } from '../components/feedback';
import { DataTable } from '../components/table';
import { secondsOfLocalInput, time } from '../format';
import type { AuditRow } from '../types';
import { useLoad } from '../use-load';

interface Filters {
  actor: string;
  action: string;
  resource: string;
  since: string;
}

interface ChainReport {
  ok: boolean;
  rows: number;
  problem_count: number;
  problems: { seq?: number; kind?: string; detail?: string }[];
}

const EMPTY: Filters = { actor: '', action: '', resource: '', since: '' };

export function AuditPage() {
  const [form, setForm] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const rows = useLoad(
    () =>
      api.get<List<AuditRow>>('/audit', {
        limit: 100,
        actor: filters.actor,
        action: filters.action,
        resource: filters.resource,
        since: secondsOfLocalInput(filters.since),
      }),
    [filters],
  );
  const verify = useAction();
  const [report, setReport] = useState<ChainReport>();
  function submit(event: FormEvent) {
    event.preventDefault();
    setFilters({ ...form });
  }
  const field = (name: keyof Filters) => ({
    name,
    value: form[name],
    onChange: (event: { target: { value: string } }) => setForm({ ...form, [name]: event.target.value }),
  });
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <div className="card">
        <button
          type="button"
          disabled={verify.busy}
          onClick={() => verify.run(async () => setReport(await api.get<ChainReport>('/audit/verify')))}
        >
          Verify the chain
        </button>
        {report ? (
          <p
            className={report.ok ? 'banner ok-banner' : 'banner danger'}
            role="status"
            data-testid="chain-report"
          >
            {report.ok
              ? `Chain intact: ${report.rows} rows checked.`
              : `Chain broken: ${report.problem_count} problems in ${report.rows} rows.`}
          </p>
        ) : null}
        {report && !report.ok ? <pre>{JSON.stringify(report.problems, null, 2)}</pre> : null}
        <ErrorMessage error={verify.error} />
      </div>
      <form className="filters" onSubmit={submit} aria-label="Audit filters">
        <label>
          Actor id
          <input {...field('actor')} />
        </label>
        <label>
          Action
          <input {...field('action')} placeholder="e.g. refund.create" />
        </label>
        <label>
          Resource id
          <input {...field('resource')} />
        </label>
        <label>
          Since (UTC)
          <input {...field('since')} type="datetime-local" />
        </label>
        <div className="buttons">
          <button type="submit" className="primary">
            Filter
          </button>
        </div>
      </form>
      <ErrorMessage error={rows.error} />
      <Loading loading={rows.loading} />
      <DataTable
        caption="Audit entries, newest first"
        rows={rows.data?.data}
        rowKey={(r) => r.id}
        empty="No entries match."
        columns={[
          { label: 'Seq', render: (r) => String(r.seq) },
          { label: 'When', render: (r) => time(r.occurred_at) },
          { label: 'Actor', render: (r) => `${r.actor.type} ${r.actor.id ?? ''}` },
          { label: 'Action', render: (r) => r.action },
          {
            label: 'Resource',
            render: (r) => (r.resource ? `${r.resource.type} ${r.resource.id ?? ''}` : '—'),
          },
          { label: 'Outcome', render: (r) => r.outcome },
          { label: 'Origin', render: (r) => r.origin ?? '—' },
        ]}
      />
    </section>
  );
}
