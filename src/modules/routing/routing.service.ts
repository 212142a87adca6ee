// Owns the routing rules in PostgreSQL: create, change and delete them (each audited with old and new
// value) and serve them to the gateway through a cache of RULES_CACHE_TTL_MS, so every replica routes by
// a change within a few seconds. Rules are few; all of them are held and matched in memory.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import { newId } from '../../ids.js';
import type { Logger } from '../../observability/logger.js';
import type { RulesSource } from '../../providers/gateway.js';
import type { RoutingRule } from '../../providers/routing.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { type RuleInput, toRoutingRule, toRuleObject } from './routing.js';
import {
  deleteRoutingRule,
  findRoutingRule,
  insertRoutingRule,
  listRoutingRules,
  lockRoutingRule,
  merchantExists,
  updateRoutingRule,
} from './routing.repository.js';

export const RULES_CACHE_TTL_MS = 2_000;

type Executor = Kysely<Database> | Transaction<Database>;

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
}

export class RoutingService implements RulesSource {
  private cached: readonly RoutingRule[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<readonly RoutingRule[]> | undefined;
  /** Bumped by every change here, so a read that started before it is not cached as fresh. */
  private generation = 0;

  constructor(private readonly deps: Deps) {}

  async rules(): Promise<readonly RoutingRule[]> {
    if (performance.now() - this.fetchedAt < RULES_CACHE_TTL_MS) return this.cached;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<readonly RoutingRule[]> {
    const generation = this.generation;
    try {
      this.cached = Object.freeze((await listRoutingRules(this.deps.db)).map(toRoutingRule));
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'routing rules unreadable; routing by the last known ones');
    }
    if (generation === this.generation) this.fetchedAt = performance.now();
    return this.cached;
  }

  private invalidate(): void {
    this.generation += 1;
    this.fetchedAt = Number.NEGATIVE_INFINITY;
  }

  async list(merchantId?: string) {
    const rows = await listRoutingRules(this.deps.db);
    return rows
      .filter((row) => merchantId === undefined || row.merchant_id === merchantId)
      .map((row) => toRuleObject(toRoutingRule(row)));
  }

  async retrieve(id: string) {
    const row = await findRoutingRule(this.deps.db, id);
    if (!row) throw resourceMissing('routing_rule', id, 'id');
    return toRuleObject(toRoutingRule(row));
  }

  async create(input: RuleInput, actor: AuditActor, origin: AuditOrigin) {
    await this.validate(input);
    const now = this.deps.clock.now();
    const created = await this.deps.db.transaction().execute(async (trx) => {
      const row = await insertRoutingRule(trx, {
        id: newId('rr'),
        merchant_id: input.merchant_id ?? null,
        livemode: input.livemode ?? null,
        payment_method_type: input.payment_method_type ?? 'card',
        currency: input.currency?.toLowerCase() ?? null,
        min_amount: input.min_amount ?? null,
        max_amount: input.max_amount ?? null,
        providers: JSON.stringify(input.providers ?? []),
        priority: input.priority ?? 0,
        created_at: now,
        updated_at: now,
      });
      const rule = toRuleObject(toRoutingRule(row));
      await this.deps.audit.record(
        { actor, action: 'routing_rule.create', ...this.resource(rule.id), origin, newValue: rule },
        trx,
      );
      return rule;
    });
    this.invalidate();
    return created;
  }

  async update(id: string, input: RuleInput, actor: AuditActor, origin: AuditOrigin) {
    const updated = await this.deps.db.transaction().execute(async (trx) => {
      const before = await lockRoutingRule(trx, id);
      if (!before) throw resourceMissing('routing_rule', id, 'id');
      const old = toRuleObject(toRoutingRule(before));
      const merged: RuleInput = {
        merchant_id: input.merchant_id === undefined ? old.merchant_id : input.merchant_id,
        livemode: input.livemode === undefined ? old.livemode : input.livemode,
        payment_method_type: input.payment_method_type ?? old.payment_method_type,
        currency: input.currency === undefined ? old.currency : input.currency,
        min_amount: input.min_amount === undefined ? old.min_amount : input.min_amount,
        max_amount: input.max_amount === undefined ? old.max_amount : input.max_amount,
        providers: input.providers ?? old.providers,
        priority: input.priority ?? old.priority,
      };
      await this.validate(merged, trx);
      const row = await updateRoutingRule(trx, id, {
        merchant_id: merged.merchant_id ?? null,
        livemode: merged.livemode ?? null,
        payment_method_type: merged.payment_method_type,
        currency: merged.currency?.toLowerCase() ?? null,
        min_amount: merged.min_amount ?? null,
        max_amount: merged.max_amount ?? null,
        providers: JSON.stringify(merged.providers),
        priority: merged.priority,
        updated_at: this.deps.clock.now(),
      });
      const rule = toRuleObject(toRoutingRule(row));
      await this.deps.audit.record(
        { actor, action: 'routing_rule.update', ...this.resource(id), origin, oldValue: old, newValue: rule },
        trx,
      );
      return rule;
    });
    this.invalidate();
    return updated;
  }

  async delete(id: string, actor: AuditActor, origin: AuditOrigin) {
    await this.deps.db.transaction().execute(async (trx) => {
      const before = await lockRoutingRule(trx, id);
      if (!before) throw resourceMissing('routing_rule', id, 'id');
      await deleteRoutingRule(trx, id);
      await this.deps.audit.record(
        {
          actor,
          action: 'routing_rule.delete',
          ...this.resource(id),
          origin,
          oldValue: toRuleObject(toRoutingRule(before)),
          newValue: null,
        },
        trx,
      );
    });
    this.invalidate();
    return { id, object: 'routing_rule' as const, deleted: true };
  }

  private resource(id: string) {
    return { resourceType: 'routing_rule', resourceId: id, outcome: 'success' as const };
  }

  /** Checks across fields (each field is checked by its schema): amount range, merchant. */
  private async validate(input: RuleInput, db: Executor = this.deps.db): Promise<void> {
    const { min_amount: min, max_amount: max } = input;
    if (min !== null && min !== undefined && max !== null && max !== undefined && min > max) {
      throw invalidParam('min_amount', `Invalid min_amount: must not exceed max_amount (${min} > ${max})`);
    }
    if (input.merchant_id && !(await merchantExists(db, input.merchant_id))) {
      throw invalidParam('merchant_id', `Invalid merchant_id: no merchant ${input.merchant_id}`);
    }
  }
}
