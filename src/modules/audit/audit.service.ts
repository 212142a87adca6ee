// Writes and reads the audit trail (DESIGN invariant 7). Callers pass their transaction so the audit row
// commits with the change it describes. Every row joins the hash chain (audit-chain.ts): the writer
// locks the chain head, links its row to the head's hash and moves the head, all in the caller's
// transaction, so writers on every replica form one chain. The lock is held until that transaction
// ends: record the audit row as the last step of a transaction, after its other locks.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import { unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { newId } from '../../ids.js';
import type { AuditEntry } from './audit.js';
import {
  type AuditFilters,
  insertAudit,
  listAudit,
  lockChainHead,
  moveChainHead,
  readChainHead,
} from './audit.repository.js';
import type { AuditRow } from './audit.table.js';
import { asStoredJson, type ChainedContent, chainHash } from './audit-chain.js';
import { type AuditChainReport, verifyAuditChain } from './audit-chain.verify.js';
import type { AuditHeadPublisher, PublishedHead } from './audit-head.js';
import { withoutPersonalData } from './personal-data.js';

export class AuditService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly heads?: AuditHeadPublisher,
  ) {}

  async record(entry: AuditEntry, executor: Kysely<Database> | Transaction<Database> = this.db) {
    if (executor.isTransaction) return this.append(executor as Transaction<Database>, entry);
    return executor.transaction().execute((trx) => this.append(trx, entry));
  }

  private async append(trx: Transaction<Database>, entry: AuditEntry): Promise<AuditRow> {
    const content: ChainedContent = {
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
      old_value: asStoredJson(withoutPersonalData(entry.oldValue)),
      new_value: asStoredJson(withoutPersonalData(entry.newValue)),
    };
    const head = await lockChainHead(trx);
    const hash = chainHash(head.hash, content);
    const row = await insertAudit(trx, {
      ...content,
      actor_type: entry.actor.type,
      outcome: entry.outcome,
      old_value: entry.oldValue === undefined ? null : JSON.stringify(content.old_value),
      new_value: entry.newValue === undefined ? null : JSON.stringify(content.new_value),
      prev_hash: head.hash,
      hash,
    });
    await moveChainHead(trx, { seq: row.seq, id: row.id, hash });
    return row;
  }

  async list(filters: AuditFilters) {
    return (await listAudit(this.db, filters)).map(toAuditObject);
  }

  /** The chain's tail as the database has it now. */
  async head() {
    return readChainHead(this.db);
  }

  /** Checks the whole chain and every published head; `publishedFile` overrides AUDIT_HEAD_DIR's file. */
  async verify(published?: { source: string; heads: PublishedHead[] }): Promise<AuditChainReport> {
    return verifyAuditChain(this.db, published ?? this.heads?.readPublished() ?? { source: null, heads: [] });
  }

  /** Publishes the head now (the hourly job does this on its own). */
  async publishHead(): Promise<PublishedHead> {
    if (!this.heads) throw new Error('no audit head publisher is configured');
    return this.heads.publish(this.clock.now());
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
    hash: row.hash,
  };
}
