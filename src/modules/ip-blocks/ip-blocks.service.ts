// Runbook 003's brute-force rule and manual blocks, one mechanism for merchant keys and operator logins:
// more than AUTH_FAILURES_ALLOWED failed authentications within AUTH_FAILURE_WINDOW_SECONDS from one
// client address block it for IP_BLOCK_SECONDS. Blocks live in PostgreSQL (a Redis flush lifts none) and
// every replica checks them per request from memory, re-read every few seconds (RefreshingSnapshot).
// Each block and unblock is an audit row (a security event) and a metric.
import type { Kysely } from 'kysely';
import client from 'prom-client';
import type { Clock } from '../../clock.js';
import { RefreshingSnapshot } from '../../db/refreshing-snapshot.js';
import type { Database } from '../../db/schema.js';
import { resourceMissing } from '../../http/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { type IpBlockObject, toIpBlockObject } from './ip-blocks.js';
import {
  countAuthFailuresSince,
  deleteAuthFailuresBefore,
  deleteBlock,
  insertAuthFailure,
  insertAutomaticBlock,
  listActiveBlocks,
  upsertManualBlock,
} from './ip-blocks.repository.js';
import type { IpBlockRow } from './ip-blocks.table.js';

export interface BruteForceSettings {
  failuresAllowed: number;
  windowMs: number;
  blockMs: number;
  /** How stale a replica's copy of the block list may be. */
  refreshMs: number;
}

export interface IpBlocksDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  registry: client.Registry;
  settings: BruteForceSettings;
}

/** Blocked address -> end of the block in epoch ms (null: until unblocked). */
type BlockList = ReadonlyMap<string, number | null>;

export class IpBlocksService {
  private readonly snapshot: RefreshingSnapshot<BlockList>;
  private readonly blocks: client.Counter<'reason'>;
  private readonly unblocks: client.Counter;
  private readonly refused: client.Counter;

  constructor(private readonly deps: IpBlocksDeps) {
    this.snapshot = new RefreshingSnapshot<BlockList>({
      initial: new Map(),
      ttlMs: deps.settings.refreshMs,
      read: async () => {
        const rows = await listActiveBlocks(deps.db, deps.clock.now());
        return new Map(rows.map((row) => [row.ip, row.blocked_until?.getTime() ?? null]));
      },
      onReadError: (error) =>
        deps.logger.warn({ err: error }, 'ip block list unreadable; keeping the last one'),
    });
    this.blocks = new client.Counter({
      name: 'security_ip_blocks_total',
      help: 'Client addresses blocked, by reason (brute_force, manual)',
      labelNames: ['reason'],
      registers: [deps.registry],
    });
    this.unblocks = new client.Counter({
      name: 'security_ip_unblocks_total',
      help: 'Client addresses unblocked by an operator',
      registers: [deps.registry],
    });
    this.refused = new client.Counter({
      name: 'security_blocked_requests_total',
      help: 'Requests refused because their client address is blocked',
      registers: [deps.registry],
    });
  }

  /** Reads the block list once, so a replica obeys existing blocks from its first request. */
  async load(): Promise<void> {
    await this.snapshot.get();
  }

  /**
   * When `ip` is blocked now: seconds until the block ends (undefined: until unblocked). Answers from
   * memory; a list older than refreshMs is re-read in the background.
   */
  blocked(ip: string): { retryAfterSeconds: number | undefined } | undefined {
    const blocks = this.snapshot.peek();
    if (!blocks.has(ip)) return undefined;
    const until = blocks.get(ip) ?? null;
    const now = this.deps.clock.now().getTime();
    if (until !== null && until <= now) return undefined;
    this.refused.inc();
    return { retryAfterSeconds: until === null ? undefined : Math.ceil((until - now) / 1000) };
  }

  /** Counts one failed authentication from `ip`; the one past the allowance blocks the address. */
  async recordFailure(ip: string, reason: string): Promise<void> {
    const { db, clock, settings } = this.deps;
    const now = clock.now();
    const windowStart = new Date(now.getTime() - settings.windowMs);
    await insertAuthFailure(db, ip, now, reason);
    await deleteAuthFailuresBefore(db, windowStart);
    const failures = await countAuthFailuresSince(db, ip, windowStart);
    if (failures <= settings.failuresAllowed) return;
    const row = await insertAutomaticBlock(db, ip, now, new Date(now.getTime() + settings.blockMs));
    if (!row) return;
    this.deps.logger.warn({ ip, failures, blocked_until: row.blocked_until }, 'client address blocked');
    await this.securityEvent('ip.block', row, { type: 'system', id: null }, undefined);
    await this.snapshot.reload();
  }

  async block(
    ip: string,
    options: { durationSeconds?: number | undefined; note?: string | undefined },
    actor: AuditActor,
    origin?: AuditOrigin,
  ): Promise<IpBlockObject> {
    const now = this.deps.clock.now();
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const blocked = await upsertManualBlock(trx, {
        ip,
        reason: 'manual',
        note: options.note ?? null,
        blocked_at: now,
        blocked_until:
          options.durationSeconds === undefined
            ? null
            : new Date(now.getTime() + options.durationSeconds * 1000),
        blocked_by: actor.id,
      });
      await this.securityEvent('ip.block', blocked, actor, origin, trx);
      return blocked;
    });
    await this.snapshot.reload();
    return toIpBlockObject(row);
  }

  async unblock(ip: string, actor: AuditActor, origin?: AuditOrigin): Promise<IpBlockObject> {
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const removed = await deleteBlock(trx, ip);
      if (!removed) throw resourceMissing('ip_block', ip, 'ip');
      await this.securityEvent('ip.unblock', removed, actor, origin, trx);
      return removed;
    });
    await this.snapshot.reload();
    return toIpBlockObject(row);
  }

  async list(): Promise<IpBlockObject[]> {
    return (await listActiveBlocks(this.deps.db, this.deps.clock.now())).map(toIpBlockObject);
  }

  private async securityEvent(
    action: 'ip.block' | 'ip.unblock',
    row: IpBlockRow,
    actor: AuditActor,
    origin: AuditOrigin | undefined,
    executor: Kysely<Database> = this.deps.db,
  ): Promise<void> {
    const state = {
      reason: row.reason,
      blocked_until: row.blocked_until?.toISOString() ?? null,
      note: row.note,
    };
    await this.deps.audit.record(
      {
        actor,
        action,
        resourceType: 'ip_address',
        resourceId: row.ip,
        outcome: 'success',
        origin,
        ...(action === 'ip.block' ? { newValue: state } : { oldValue: state }),
      },
      executor,
    );
    if (action === 'ip.block') this.blocks.inc({ reason: row.reason });
    else this.unblocks.inc();
  }
}
