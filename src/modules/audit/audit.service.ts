// Writes and reads the audit trail (DESIGN invariant 7). Callers pass their transaction so the audit row
// commits with the change it describes.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import { unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { newId } from '../../ids.js';
import type { AuditEntry } from './audit.js';
import { type AuditFilters, insertAudit, listAudit } from './audit.repository.js';
import type { AuditRow } from './audit.table.js';

export class AuditService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry, executor: Kysely<Database> | Transaction<Database> = this.db) {
    return insertAudit(executor, {
      id: newId('aud'),
      occurred_at: this.clock.now(),
      actor_type: entry.actor.type,
      actor_id: entry.actor.id,
      action: entry.action,
      resource_type: entry.resourceType ?? null,
      resource_id: entry.resourceId ?? null,
      outcome: entry.outcome,
      origin: entry.origin?.ip ?? null,
      user_agent: entry.origin?.userAgent ?? null,
      request_id: entry.origin?.requestId ?? null,
      old_value: entry.oldValue === undefined ? null : JSON.stringify(entry.oldValue),
      new_value: entry.newValue === undefined ? null : JSON.stringify(entry.newValue),
    });
  }

  async list(filters: AuditFilters) {
    return (await listAudit(this.db, filters)).map(toAuditObject);
  }
}

export function toAuditObject(row: AuditRow) {
  return {
    id: row.id,
    object: 'audit_entry' as const,
    seq: row.seq,
    occurred_at: unixSeconds(row.occurred_at),
    actor: { type: row.actor_type, id: row.actor_id },
    action: row.action,
    resource: row.resource_type ? { type: row.resource_type, id: row.resource_id } : null,
    outcome: row.outcome,
    origin: row.origin,
    user_agent: row.user_agent,
    request_id: row.request_id,
    old_value: row.old_value,
    new_value: row.new_value,
  };
}
