// The incident report as a post-mortem draft in Markdown: runbook 001's declaration fields and
// post-incident checklist, runbook 003's severities, and the timeline to start from.
import type { IncidentReport, TimelineEntry } from './incident.js';

const cell = (text: string | null): string => (text ?? '-').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function timelineRows(timeline: TimelineEntry[]): string[] {
  if (timeline.length === 0) return ['_Nothing recorded in this window._'];
  return [
    '| Time (UTC) | Source | What | Subject | Actor | Detail |',
    '|---|---|---|---|---|---|',
    ...timeline.map(
      (item) =>
        `| ${item.time} | ${item.source} | ${cell(item.what)} | ${cell(item.subject)} | ${cell(item.actor)} | ${cell(item.detail)} |`,
    ),
  ];
}

export function incidentMarkdown(report: IncidentReport): string {
  const since = new Date(report.since * 1000).toISOString();
  const until = new Date(report.until * 1000).toISOString();
  const s = report.summary;
  const lines = [
    `# Post-mortem (draft): payment service, ${since} to ${until}`,
    '',
    '## Incident',
    '',
    '- **Severity**: P1 / P2 / P3 / P4 (runbook 003: critical / high / medium / low)',
    '- **Impact**: _brief description_',
    '- **Incident Commander**: @username',
    '- **Status Page**: updated / updating',
    '',
    '## Summary from the service',
    '',
    `- Payments failed: ${s.payments_failed}; succeeded: ${s.payments_succeeded}; disputes opened: ${s.disputes_opened}`,
    `- Alerts: ${s.alerts}; audit entries: ${s.audit_entries}`,
    ...(report.truncated ? ['- **The timeline is truncated**: narrow the window with --since.'] : []),
    '',
    '| Event type | Count |',
    '|---|---|',
    ...Object.entries(s.events).map(([type, count]) => `| ${type} | ${count} |`),
    '',
    '## Timeline',
    '',
    ...timelineRows(report.timeline),
    '',
    ...report.notes.map((note) => `> ${note}`),
    '',
    '## Root cause',
    '',
    '_What happened and why._',
    '',
    '## Post-incident actions (runbook 001)',
    '',
    '### Immediate (within 2 hours)',
    '- [ ] Service fully restored',
    '- [ ] Incident channel archived',
    '- [ ] Status page updated to "resolved"',
    '- [ ] Initial incident summary shared',
    '',
    '### Within 24 hours',
    '- [ ] Root cause analysis completed',
    '- [ ] Action items identified and assigned',
    '- [ ] Reconciliation report (runbook 004): failed transactions, amount affected, users impacted, refund status',
    '- [ ] Stakeholder communication sent',
    '',
    '### Within 1 week',
    '- [ ] Postmortem document published',
    '- [ ] Preventive measures implemented',
    '- [ ] Monitoring/alerting improvements deployed',
    '- [ ] Runbook updated with lessons learned',
    '',
  ];
  return `${lines.join('\n')}\n`;
}
