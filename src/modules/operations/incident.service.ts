// `payctl incident report` and GET /admin/incidents/report (runbooks 001, 003, 004: "start incident log",
// "document timeline", post-mortem): one timeline from the audit log, the notable events and the alerts we
// can know (forced circuits, switches and kill switch from the audit; dead deliveries and disabled
// endpoints from the events; circuit transitions this process saw), oldest first.
import type { Kysely } from 'kysely';
import { type Clock, unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam } from '../../http/errors.js';
import {
  ALERT_ACTIONS,
  ALERT_EVENTS,
  type IncidentReport,
  NOTABLE_EVENTS,
  sinceParam,
  type TimelineEntry,
} from './incident.js';
import { auditBetween, eventCountsBetween, eventsBetween } from './incident.repository.js';

type CircuitStates = Record<string, { last_transition: { to: string; at: string } | null }>;

export interface IncidentDeps {
  db: Kysely<Database>;
  clock: Clock;
  /** The providers' circuits as this process sees them (the gateway's); transitions are held in memory. */
  circuits?: () => CircuitStates;
}

export const MAX_TIMELINE_LIMIT = 5000;

const entry = (at: Date, rest: Omit<TimelineEntry, 'at' | 'time'>): TimelineEntry => ({
  at: unixSeconds(at),
  time: at.toISOString(),
  ...rest,
});

const brief = (value: unknown): string =>
  value === null || value === undefined ? '-' : JSON.stringify(value);

export class IncidentService {
  constructor(private readonly deps: IncidentDeps) {}

  /** `since` as given (a duration or a date); a 400 naming `since` when it is neither. */
  async reportSince(since: string, limit: number): Promise<IncidentReport> {
    const parsed = sinceParam(this.deps.clock.now()).safeParse(since);
    if (!parsed.success) throw invalidParam('since', `since ${parsed.error.issues[0]?.message}`);
    return this.report(parsed.data, limit);
  }

  async report(since: Date, limit: number): Promise<IncidentReport> {
    const { db, clock } = this.deps;
    const until = clock.now();
    const [audit, events, counts] = await Promise.all([
      auditBetween(db, since, until, limit + 1),
      eventsBetween(db, since, until, NOTABLE_EVENTS, limit + 1),
      eventCountsBetween(db, since, until),
    ]);
    const timeline: TimelineEntry[] = [];
    for (const row of audit.slice(0, limit)) {
      const alert = ALERT_ACTIONS[row.action];
      timeline.push(
        entry(row.occurred_at, {
          source: alert ? 'alert' : 'audit',
          what: row.action,
          subject: row.resource_id,
          actor: `${row.actor_type}${row.actor_id ? `:${row.actor_id}` : ''}`,
          detail: `${alert ? `${alert}: ` : ''}${row.outcome}, ${brief(row.old_value)} -> ${brief(row.new_value)}`,
        }),
      );
    }
    for (const row of events.slice(0, limit)) {
      timeline.push(
        entry(row.created_at, {
          source: ALERT_EVENTS.has(row.type) ? 'alert' : 'event',
          what: row.type,
          subject: row.object_id,
          actor: null,
          detail: `${row.id}, merchant ${row.merchant_id} (${row.livemode ? 'live' : 'test'})`,
        }),
      );
    }
    for (const [gateway, state] of Object.entries(this.deps.circuits?.() ?? {})) {
      const transition = state.last_transition;
      const at = transition ? new Date(transition.at) : undefined;
      if (!transition || !at || at < since || at > until) continue;
      timeline.push(
        entry(at, {
          source: 'alert',
          what: 'provider.circuit.transition',
          subject: gateway,
          actor: null,
          detail: `circuit now ${transition.to} (seen by the answering process; metric payment_provider_circuit_transitions_total)`,
        }),
      );
    }
    // Stable order: time, then alerts before the audit rows and events of the same second.
    const rank = { alert: 0, audit: 1, event: 2 } as const;
    timeline.sort((a, b) => a.time.localeCompare(b.time) || rank[a.source] - rank[b.source]);
    const eventCounts = Object.fromEntries(counts.map((row) => [row.type, row.count]));
    return {
      object: 'incident_report',
      since: unixSeconds(since),
      until: unixSeconds(until),
      summary: {
        events: eventCounts,
        payments_failed: eventCounts['payment_intent.payment_failed'] ?? 0,
        payments_succeeded: eventCounts['payment_intent.succeeded'] ?? 0,
        disputes_opened: eventCounts['charge.dispute.created'] ?? 0,
        audit_entries: Math.min(audit.length, limit),
        alerts: timeline.filter((item) => item.source === 'alert').length,
      },
      truncated: audit.length > limit || events.length > limit,
      timeline,
      notes: [
        'Prometheus alerts (deploy/prometheus) live in Alertmanager, not here: add their firing and resolved times from it.',
        'Automatic circuit transitions are held in memory: only the last per provider seen by the answering process appears.',
      ],
    };
  }
}
