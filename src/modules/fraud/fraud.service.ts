// Owns the fraud rules (runbook 003's threat rules): the operators' changes to rules and blocklists
// (each audited with old and new value), and the screening of each confirmation before any provider
// call. Rules are few and read through a cache of RULES_CACHE_TTL_MS, so every replica obeys a change
// within seconds; the history a confirmation is judged on is one indexed read, and what it adds to the
// history is one insert inside the attempt's own first transaction (fraud-screen.ts).
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import { unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError, invalidParam, resourceMissing } from '../../http/errors.js';
import { newId } from '../../ids.js';
import type { Logger } from '../../observability/logger.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { type FraudSignals, strongest, type TriggeredRule, triggeredRules } from './fraud.evaluate.js';
import {
  type ActiveRules,
  normalizeBlocklistValue,
  RULE_IDS,
  type RuleId,
  ruleIdSchema,
  THRESHOLD_SCHEMAS,
  toBlocklistObject,
  toRuleObject,
} from './fraud.js';
import type { FraudMetrics } from './fraud.metrics.js';
import {
  deleteBlocklistEntry,
  findRule,
  type HistoryQuery,
  insertBlocklistEntry,
  insertCheck,
  listBlocklist,
  listRules,
  lockRule,
  markCheckDeclined,
  readHistory,
  updateRule,
} from './fraud.repository.js';
import type { BlocklistKind, FraudAction, FraudChecksTable, FraudRuleRow } from './fraud.table.js';
import { locate } from './geo.js';

export const RULES_CACHE_TTL_MS = 2_000;

/** What screening decided about one confirmation; recorded with its attempt (or its refusal). */
export interface FraudDecision {
  verdict: 'allow' | FraudAction;
  triggered: TriggeredRule[];
  signals: FraudSignals;
  /** Whether the confirmation joins the history (a history rule is on and it has a card, IP or customer). */
  recorded: boolean;
  evaluatedAt: Date;
}

/** The decision as stored on the payment intent (`fraud_outcome`) and, where a charge exists, the charge. */
export interface FraudOutcome {
  action: 'allow' | FraudAction;
  rules: TriggeredRule[];
  evaluated: number;
  /** The rule review holding the payment, once its authorization opened one. */
  review?: string | undefined;
}

export function outcomeOf(decision: FraudDecision): FraudOutcome {
  return {
    action: decision.verdict,
    rules: decision.triggered,
    evaluated: unixSeconds(decision.evaluatedAt),
  };
}

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  metrics: FraudMetrics;
}

export class FraudService {
  private cached: ActiveRules = {};
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<ActiveRules> | undefined;
  private generation = 0;

  constructor(private readonly deps: Deps) {}

  /** The enabled rules with their checked thresholds; the last known ones if the database is unreadable. */
  async activeRules(): Promise<ActiveRules> {
    if (performance.now() - this.fetchedAt < RULES_CACHE_TTL_MS) return this.cached;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<ActiveRules> {
    const generation = this.generation;
    try {
      const active: Record<string, unknown> = {};
      for (const row of await listRules(this.deps.db)) {
        const id = ruleIdSchema.safeParse(row.id);
        if (!row.enabled || !id.success) continue;
        const thresholds = THRESHOLD_SCHEMAS[id.data].safeParse(row.thresholds);
        if (!thresholds.success) {
          this.deps.logger.error({ rule: row.id }, 'fraud rule thresholds unreadable; the rule is skipped');
          continue;
        }
        active[id.data] = { id: id.data, action: row.action, thresholds: thresholds.data };
      }
      this.cached = Object.freeze(active) as ActiveRules;
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'fraud rules unreadable; screening by the last known ones');
    }
    if (generation === this.generation) this.fetchedAt = performance.now();
    return this.cached;
  }

  private invalidate(): void {
    this.generation += 1;
    this.fetchedAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * Judges one confirmation before any provider call. Undefined when no rule is on. Reads only: the
   * caller records the decision with the attempt it starts, or with its refusal.
   */
  async screen(signals: Omit<FraudSignals, 'location'>): Promise<FraudDecision | undefined> {
    const rules = await this.activeRules();
    if (Object.keys(rules).length === 0) return undefined;
    const now = this.deps.clock.now();
    const since = (seconds: number) => new Date(now.getTime() - seconds * 1000);
    const { cardFingerprint: fingerprint, shopperIp: ip, customerId } = signals;
    const location = rules.geo_anomaly && ip && fingerprint ? await locate(ip) : null;
    const query: HistoryQuery = { merchantId: signals.scope.merchantId, livemode: signals.scope.livemode };
    if (rules.blocklist && (fingerprint || signals.email || ip)) {
      query.blocklist = { cardFingerprint: fingerprint, email: signals.email, ip };
    }
    const velocity = rules.card_velocity?.thresholds;
    if (velocity && fingerprint) {
      query.card = { fingerprint, since: since(velocity.window_seconds), cap: velocity.max_payments };
    }
    const geo = rules.geo_anomaly?.thresholds;
    if (geo && fingerprint && location) query.location = { fingerprint, since: since(geo.window_seconds) };
    const testing = rules.card_testing?.thresholds;
    if (testing && ip) {
      query.ipDeclines = { ip, since: since(testing.window_seconds), cap: testing.max_declines };
    }
    if (testing && customerId) {
      query.customerDeclines = {
        customerId,
        since: since(testing.window_seconds),
        cap: testing.max_declines,
      };
    }
    const full: FraudSignals = { ...signals, location };
    const history = await readHistory(this.deps.db, query);
    const triggered = triggeredRules(rules, full, history);
    const verdict = strongest(triggered);
    for (const rule of triggered) this.deps.metrics.detections.inc({ rule: rule.id, action: rule.action });
    if (triggered.length > 0) {
      this.deps.logger.info(
        {
          component: 'fraud',
          payment_intent: signals.paymentIntentId,
          merchant: signals.scope.merchantId,
          action: verdict,
          rules: triggered.map((rule) => rule.id),
        },
        'fraud rule triggered',
      );
    }
    const historyRuleOn = Boolean(rules.card_velocity || rules.geo_anomaly || rules.card_testing);
    return {
      verdict,
      triggered,
      signals: full,
      recorded: historyRuleOn && Boolean(fingerprint || ip || customerId),
      evaluatedAt: now,
    };
  }

  /**
   * Adds a screened confirmation to the history, in the caller's transaction: with the attempt it
   * started, or (`attemptId` null, declined) with its refusal, which the card-testing rule counts too.
   */
  async record(trx: Transaction<Database>, decision: FraudDecision, attemptId: string | null): Promise<void> {
    const row = this.checkRow(decision, attemptId);
    if (row) await insertCheck(trx, row);
  }

  /**
   * The history row `record` inserts (undefined: none), for a caller that inserts it within its own
   * statement in the same transaction (the payment attempt's insert), saving a round trip.
   */
  checkRow(decision: FraudDecision, attemptId: string | null): Insertable<FraudChecksTable> | undefined {
    if (!decision.recorded) return undefined;
    const { signals } = decision;
    return {
      id: newId('frc'),
      attempt_id: attemptId,
      payment_intent_id: signals.paymentIntentId,
      merchant_id: signals.scope.merchantId,
      livemode: signals.scope.livemode,
      created_at: decision.evaluatedAt,
      card_fingerprint: signals.cardFingerprint,
      shopper_ip: signals.shopperIp,
      customer_id: signals.customerId,
      latitude: signals.location?.latitude ?? null,
      longitude: signals.location?.longitude ?? null,
      action: decision.verdict,
      declined: decision.verdict === 'block',
    };
  }

  /** The provider declined an attempt: its check counts for the card-testing rule (settlement calls this). */
  async attemptDeclined(trx: Transaction<Database>, attemptId: string): Promise<void> {
    await markCheckDeclined(trx, attemptId);
  }

  async listRules() {
    return (await listRules(this.deps.db)).map(toRuleObject);
  }

  async retrieveRule(id: string) {
    const row = await findRule(this.deps.db, id);
    if (!row) throw resourceMissing('fraud_rule', id, 'id');
    return toRuleObject(row);
  }

  async updateRule(
    id: string,
    input: {
      enabled?: boolean | undefined;
      action?: FraudAction | undefined;
      thresholds?: Record<string, unknown> | undefined;
    },
    actor: AuditActor,
    origin: AuditOrigin,
  ) {
    const updated = await this.deps.db.transaction().execute(async (trx) => {
      const before = await lockRule(trx, id);
      if (!before) throw resourceMissing('fraud_rule', id, 'id');
      const thresholds = checkedThresholds(before, input.thresholds);
      const row = await updateRule(trx, id, {
        enabled: input.enabled ?? before.enabled,
        action: input.action ?? before.action,
        thresholds: JSON.stringify(thresholds),
        updated_at: this.deps.clock.now(),
        updated_by: actor.id ?? actor.type,
      });
      const rule = toRuleObject(row);
      await this.deps.audit.record(
        {
          actor,
          action: 'fraud_rule.update',
          resourceType: 'fraud_rule',
          resourceId: id,
          outcome: 'success',
          origin,
          oldValue: toRuleObject(before),
          newValue: rule,
        },
        trx,
      );
      return rule;
    });
    this.invalidate();
    return updated;
  }

  async listBlocklist(kind?: BlocklistKind) {
    const rows = await listBlocklist(this.deps.db, kind);
    return {
      object: 'list' as const,
      data: rows.map(toBlocklistObject),
      has_more: false,
      url: '/admin/fraud/blocklist',
    };
  }

  /**
   * Adds a blocklist entry. The audit row names the entry by id and kind only: an email or IP is
   * personal data, kept in the blocklist itself and referenced from the audit trail.
   */
  async addToBlocklist(
    input: { kind: BlocklistKind; value: string; reason?: string | undefined },
    actor: AuditActor,
    origin: AuditOrigin,
  ) {
    const value = normalizeBlocklistValue(input.kind, input.value);
    if (value === undefined) {
      throw invalidParam(
        'value',
        `value must be a valid ${input.kind.replace('_', ' ')} for kind ${input.kind}.`,
      );
    }
    return this.deps.db.transaction().execute(async (trx) => {
      const row = await insertBlocklistEntry(trx, {
        id: newId('fbl'),
        kind: input.kind,
        value,
        reason: input.reason ?? null,
        created_at: this.deps.clock.now(),
        created_by: actor.id ?? actor.type,
      });
      if (!row) {
        throw new AppError(
          400,
          'invalid_request_error',
          'resource_already_exists',
          `This ${input.kind} is already on the blocklist.`,
          {
            param: 'value',
            shouldRetry: false,
          },
        );
      }
      const entry = toBlocklistObject(row);
      await this.deps.audit.record(
        {
          actor,
          action: 'fraud_blocklist.add',
          resourceType: 'fraud_blocklist_entry',
          resourceId: entry.id,
          outcome: 'success',
          origin,
          oldValue: null,
          newValue: { id: entry.id, kind: entry.kind, reason: entry.reason },
        },
        trx,
      );
      return entry;
    });
  }

  async removeFromBlocklist(id: string, actor: AuditActor, origin: AuditOrigin) {
    return this.deps.db.transaction().execute(async (trx) => {
      const row = await deleteBlocklistEntry(trx, id);
      if (!row) throw resourceMissing('fraud_blocklist_entry', id, 'id');
      await this.deps.audit.record(
        {
          actor,
          action: 'fraud_blocklist.remove',
          resourceType: 'fraud_blocklist_entry',
          resourceId: id,
          outcome: 'success',
          origin,
          oldValue: { id, kind: row.kind, reason: row.reason },
          newValue: null,
        },
        trx,
      );
      return { id, object: 'fraud_blocklist_entry' as const, deleted: true };
    });
  }
}

/** The rule's thresholds after `change` (merged key by key), checked against the rule's schema. */
function checkedThresholds(rule: FraudRuleRow, change: Record<string, unknown> | undefined) {
  const id = rule.id as RuleId;
  if (!RULE_IDS.includes(id)) throw resourceMissing('fraud_rule', rule.id, 'id');
  const merged = { ...(rule.thresholds as Record<string, unknown>), ...(change ?? {}) };
  const parsed = THRESHOLD_SCHEMAS[id].safeParse(merged);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path =
    issue?.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : (issue?.path ?? []);
  const param = `thresholds${path.map((part) => `[${String(part)}]`).join('')}`;
  const message =
    issue?.code === 'unrecognized_keys'
      ? `${param} is not a threshold of the ${id} rule.`
      : `Invalid ${param}: ${issue?.message ?? 'invalid value'}`;
  throw invalidParam(param, message);
}
