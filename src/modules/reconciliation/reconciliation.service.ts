// Owns reconciliation runs and the operators' decisions on their findings. A window run compares the
// providers' listings with our attempts (reconciler.ts) and is stored with its counts and findings; the
// pending pass (every 15 minutes) asks the provider about each payment still waiting for its outcome 10
// minutes after it started, through the payments module's recovery. An operator decides an unknown or
// duplicate charge: a refund at the provider (one idempotency key per provider charge, so a repeat only
// replays) or, for an unknown one, adoption as a payment of a merchant, settled as a webhook would be.
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError, invalidParam, resourceMissing, stateConflict } from '../../http/errors.js';
import { newId } from '../../ids.js';
import type { Logger } from '../../observability/logger.js';
import { listsRecords, type PaymentProvider, type ProviderName } from '../../providers/provider.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import type { EventsService } from '../events/events.service.js';
import type { CreateInput } from '../payments/payment-intents.js';
import { toPaymentIntentObject } from '../payments/payment-intents.js';
import { insertAttempt, insertIntent, updateIntent } from '../payments/payments.repository.js';
import type { PaymentsService } from '../payments/payments.service.js';
import { isUnsettled, type PaymentRecovery } from '../payments/recovery.js';
import { emptyCounts, Reconciler, type ReconcilerSource } from './reconciler.js';
import {
  DEFAULT_SINCE_SECONDS,
  type FindingObject,
  type RunObject,
  type RunReport,
  type Since,
  toFindingObject,
  toRunObject,
} from './reconciliation.js';
import {
  findFinding,
  findRun,
  finishRun,
  insertFindings,
  insertRun,
  latestRun,
  listFindings,
  listRuns,
  moveFinding,
  pendingAttempts,
} from './reconciliation.repository.js';
import type { FindingRow, RunCounts, RunRow, RunTrigger } from './reconciliation.table.js';

/** Runbook 004: the scheduled pass looks at payments pending for more than 10 minutes. */
export const PENDING_AFTER_MS = 10 * 60_000;
const PAGE = 500;
/** How often a running run's counts are written back, so a watcher sees progress. */
const PROGRESS_EVERY_MS = 1_000;

export interface ReconciliationDeps {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  providers: { get(name: ProviderName): PaymentProvider | undefined };
  recovery: PaymentRecovery;
  payments: PaymentsService;
  events: EventsService;
  livemode: boolean;
  /** How far PayPal's transaction search lags (up to 3 h): our side of a window stops before it. */
  paypalDelayMs: number;
}

export interface Requester {
  actor: AuditActor;
  trigger: RunTrigger;
  origin?: AuditOrigin | undefined;
}

export class ReconciliationService {
  private readonly reconciler: Reconciler;
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly deps: ReconciliationDeps) {
    this.reconciler = new Reconciler(deps);
  }

  private sources(only?: ProviderName): ReconcilerSource[] {
    const names: ProviderName[] = only ? [only] : ['stripe', 'paypal'];
    const sources: ReconcilerSource[] = [];
    for (const name of names) {
      const provider = this.deps.providers.get(name);
      if (!provider || !listsRecords(provider)) {
        if (only) throw invalidParam('provider', `The ${name} provider is not configured.`);
        continue;
      }
      sources.push({
        name,
        source: provider,
        livemode: this.deps.livemode,
        delayMs: name === 'paypal' ? this.deps.paypalDelayMs : 0,
      });
    }
    return sources;
  }

  /**
   * Starts a window run and answers with it at once (status `running`); `done` settles when it ends.
   * Counts are written back as it goes, so GET /admin/reconciliation/runs/:id shows progress.
   */
  async start(
    input: { since?: Since | undefined; provider?: ProviderName | undefined },
    by: Requester,
    progress?: (counts: RunCounts) => void,
  ): Promise<{ run: RunObject; done: Promise<RunObject> }> {
    const now = this.deps.clock.now();
    const since = input.since ?? { seconds: DEFAULT_SINCE_SECONDS };
    const start = 'at' in since ? since.at : new Date(now.getTime() - since.seconds * 1000);
    if (start.getTime() >= now.getTime()) throw invalidParam('since', 'since must be in the past.');
    const sources = this.sources(input.provider);
    const run = await insertRun(this.deps.db, {
      id: newId('rcn'),
      kind: 'window',
      trigger: by.trigger,
      actor_id: by.actor.id,
      status: 'running',
      window_start: start,
      window_end: now,
      providers: JSON.stringify(sources.map((source) => source.name)),
      counts: JSON.stringify(emptyCounts()),
      error: null,
      created_at: now,
      finished_at: null,
    });
    await this.deps.audit.record({
      actor: by.actor,
      action: 'reconciliation.run',
      resourceType: 'reconciliation_run',
      resourceId: run.id,
      outcome: 'success',
      origin: by.origin,
      newValue: {
        window_start: start.toISOString(),
        window_end: now.toISOString(),
        providers: run.providers,
      },
    });
    const done = this.track(this.execute(run, sources, { since: start, until: now }, progress));
    return { run: toRunObject(run), done };
  }

  private async execute(
    run: RunRow,
    sources: ReconcilerSource[],
    window: { since: Date; until: Date },
    progress?: (counts: RunCounts) => void,
  ): Promise<RunObject> {
    const counts = emptyCounts();
    let writtenAt = performance.now();
    const onPage = (current: RunCounts) => {
      progress?.(current);
      if (performance.now() - writtenAt < PROGRESS_EVERY_MS) return;
      writtenAt = performance.now();
      void this.deps.db
        .updateTable('reconciliation_runs')
        .set({ counts: JSON.stringify(current) })
        .where('id', '=', run.id)
        .where('status', '=', 'running')
        .execute()
        .catch(() => {});
    };
    try {
      await this.reconciler.run(run.id, sources, window, counts, onPage);
      return toRunObject(await this.finish(run.id, 'completed', counts, null));
    } catch (error) {
      this.deps.logger.error({ err: error, run: run.id }, 'reconciliation run failed');
      return toRunObject(await this.finish(run.id, 'failed', counts, (error as Error).message));
    }
  }

  private finish(id: string, status: 'completed' | 'failed', counts: RunCounts, error: string | null) {
    return finishRun(this.deps.db, id, { status, counts, error, finished_at: this.deps.clock.now() });
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    void work.finally(() => this.running.delete(work)).catch(() => {});
    return work;
  }

  /** Waits for runs still going in this process (the service's close). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /**
   * The scheduled pass: every attempt still waiting for its outcome 10 minutes after it started is read
   * back from its provider and settled by the payments module's recovery; one run records what it found.
   */
  async runPending(by: Requester): Promise<RunObject> {
    const now = this.deps.clock.now();
    const cutoff = new Date(now.getTime() - PENDING_AFTER_MS);
    const run = await insertRun(this.deps.db, {
      id: newId('rcn'),
      kind: 'pending',
      trigger: by.trigger,
      actor_id: by.actor.id,
      status: 'running',
      window_start: new Date(0),
      window_end: cutoff,
      providers: JSON.stringify(['stripe', 'paypal', 'wallet']),
      counts: JSON.stringify(emptyCounts()),
      error: null,
      created_at: now,
      finished_at: null,
    });
    if (by.trigger !== 'schedule') {
      await this.deps.audit.record({
        actor: by.actor,
        action: 'reconciliation.run',
        resourceType: 'reconciliation_run',
        resourceId: run.id,
        outcome: 'success',
        origin: by.origin,
        newValue: { kind: 'pending', pending_before: cutoff.toISOString() },
      });
    }
    const counts: RunCounts = { ...emptyCounts(), checked: 0 };
    try {
      let after: string | undefined;
      for (;;) {
        const page = await pendingAttempts(this.deps.db, cutoff, PAGE, after);
        for (const attempt of page) {
          counts.checked = (counts.checked ?? 0) + 1;
          let settledStatus: string | undefined;
          let failure: string | undefined;
          try {
            const settled = await this.deps.recovery.settleFromProvider(attempt);
            if (!isUnsettled(settled.attempt)) settledStatus = settled.attempt.status;
          } catch (error) {
            failure = (error as Error).message;
          }
          const kind = settledStatus ? 'status_mismatch' : 'unresolved';
          counts[kind]++;
          if (settledStatus) counts.settled++;
          const finding = this.reconciler.attemptFinding(run.id, attempt, kind, null, {
            reason: settledStatus
              ? `pending here; the provider's final state (${settledStatus}) was applied`
              : `pending here; the provider gave no final outcome${failure ? `: ${failure}` : ''}`,
          });
          await insertFindings(this.deps.db, [
            {
              ...finding,
              provider_status: settledStatus ?? null,
              ...(settledStatus
                ? { resolution: 'settled', resolved_at: this.deps.clock.now(), resolved_by: 'reconciliation' }
                : {}),
            },
          ]);
        }
        after = page.at(-1)?.id;
        if (page.length < PAGE) break;
      }
      return toRunObject(await this.finish(run.id, 'completed', counts, null));
    } catch (error) {
      this.deps.logger.error({ err: error, run: run.id }, 'reconciliation pending pass failed');
      return toRunObject(await this.finish(run.id, 'failed', counts, (error as Error).message));
    }
  }

  async listRuns(limit = 20, startingAfter?: string): Promise<{ data: RunObject[]; has_more: boolean }> {
    const cursor = startingAfter ? await findRun(this.deps.db, startingAfter) : undefined;
    if (startingAfter && !cursor)
      throw resourceMissing('reconciliation_run', startingAfter, 'starting_after');
    const rows = await listRuns(this.deps.db, limit + 1, cursor);
    return { data: rows.slice(0, limit).map(toRunObject), has_more: rows.length > limit };
  }

  /** A run (the latest when no id is given) with one page of its findings. */
  async report(id: string | undefined, limit = 100, startingAfter?: string): Promise<RunReport> {
    const run = id ? await findRun(this.deps.db, id) : await latestRun(this.deps.db);
    if (!run)
      throw id
        ? resourceMissing('reconciliation_run', id, 'id')
        : resourceMissing('reconciliation_run', 'latest');
    const rows = await listFindings(this.deps.db, run.id, limit + 1, startingAfter);
    return {
      run: toRunObject(run),
      findings: rows.slice(0, limit).map(toFindingObject),
      has_more: rows.length > limit,
    };
  }

  private async finding(id: string): Promise<FindingRow> {
    const row = await findFinding(this.deps.db, id);
    if (!row) throw resourceMissing('reconciliation_finding', id, 'id');
    return row;
  }

  private provider(name: string): PaymentProvider {
    const provider = this.deps.providers.get(name as ProviderName);
    if (!provider) throw stateConflict(`The ${name} provider is not configured.`, 'provider_not_configured');
    return provider;
  }

  /**
   * Refunds at the provider the money of an unknown or duplicate charge (or of one we recorded as
   * failed). The finding is claimed first (`refunding`), so two operators cannot both send it; the
   * provider's idempotency key is per provider charge, so a retry after an unknown outcome replays.
   */
  async refund(id: string, actor: AuditActor, origin?: AuditOrigin): Promise<FindingObject> {
    const finding = await this.finding(id);
    const refundable =
      finding.kind === 'unknown_at_our_side' ||
      finding.kind === 'duplicate' ||
      (finding.kind === 'status_mismatch' && ['failed', 'canceled'].includes(finding.our_status ?? ''));
    if (!refundable || !finding.provider_payment_id || !finding.provider_charge_id || !finding.amount) {
      throw stateConflict(
        `Finding ${id} (${finding.kind}) is not a provider charge we can refund.`,
        'finding_not_refundable',
      );
    }
    const provider = this.provider(finding.provider);
    const claimed = await moveFinding(this.deps.db, id, ['open', 'refunding'], 'refunding');
    if (!claimed) throw stateConflict(`Finding ${id} is already ${finding.resolution}.`, 'finding_resolved');
    const chargeKey = `rcn_${finding.provider_charge_id}`;
    const outcome = await provider.refund(
      {
        attemptId: chargeKey,
        refundId: chargeKey,
        livemode: finding.livemode ?? this.deps.livemode,
        merchantId: finding.merchant_id ?? 'none',
        paymentIntentId: finding.payment_intent_id ?? finding.provider_payment_id,
      },
      finding.provider_payment_id,
      Number(finding.amount),
    );
    const refunded = outcome.status === 'succeeded' || outcome.status === 'pending';
    const audit = (outcomeName: 'success' | 'failure', value: unknown) =>
      this.deps.audit.record({
        actor,
        action: 'reconciliation.finding.refund',
        resourceType: 'reconciliation_finding',
        resourceId: id,
        outcome: outcomeName,
        origin,
        oldValue: { resolution: finding.resolution },
        newValue: value,
      });
    if (!refunded) {
      // Proven not refunded: free the finding for another decision. Unknown: keep it claimed for a retry.
      if (outcome.status !== 'unknown') await moveFinding(this.deps.db, id, ['refunding'], 'open');
      await audit('failure', {
        provider_outcome: outcome.status,
        message: 'message' in outcome ? outcome.message : null,
      });
      throw new AppError(
        502,
        'api_error',
        'provider_refund_failed',
        `The provider did not refund ${finding.provider_charge_id}: ${'message' in outcome ? outcome.message : outcome.status}`,
        { shouldRetry: outcome.status === 'unknown' },
      );
    }
    const row = await moveFinding(this.deps.db, id, ['refunding'], 'refunded', {
      resolved_at: this.deps.clock.now(),
      resolved_by: actor.id ?? actor.type,
    });
    await audit('success', {
      resolution: 'refunded',
      provider: finding.provider,
      provider_charge_id: finding.provider_charge_id,
      amount: Number(finding.amount),
      currency: finding.currency,
      provider_refund_id: outcome.providerRefundId,
    });
    return toFindingObject(row ?? (await this.finding(id)));
  }

  /**
   * Makes an unknown provider charge a payment of `merchant` (or of the merchant its metadata names):
   * a payment intent with an attempt holding the provider's object, then settled from the provider's own
   * record by the payments module, so the charge, its events and its ledger posting are the ones a
   * webhook would have made.
   */
  async adopt(
    id: string,
    merchant: string | undefined,
    actor: AuditActor,
    origin?: AuditOrigin,
  ): Promise<FindingObject> {
    const finding = await this.finding(id);
    if (
      finding.kind !== 'unknown_at_our_side' ||
      !finding.provider_payment_id ||
      !finding.amount ||
      !finding.currency
    ) {
      throw stateConflict(
        `Finding ${id} (${finding.kind}) is not an unknown provider charge.`,
        'finding_not_adoptable',
      );
    }
    const merchantId = merchant ?? finding.merchant_id;
    if (!merchantId)
      throw invalidParam('merchant', 'Name the merchant the payment belongs to (merchant=acct_...).');
    const exists = await this.deps.db
      .selectFrom('merchants')
      .select('id')
      .where('id', '=', merchantId)
      .executeTakeFirst();
    if (!exists) throw resourceMissing('merchant', merchantId, 'merchant');
    this.provider(finding.provider);
    const claimed = await moveFinding(this.deps.db, id, ['open', 'adopting'], 'adopting');
    if (!claimed) throw stateConflict(`Finding ${id} is already ${finding.resolution}.`, 'finding_resolved');
    const scope = { merchantId, livemode: finding.livemode ?? this.deps.livemode };
    const attempt = await this.recordAdopted(scope, finding);
    const settled = await this.deps.recovery.settleFromProvider(attempt);
    const done = !isUnsettled(settled.attempt);
    const row = done
      ? await moveFinding(this.deps.db, id, ['adopting'], 'adopted', {
          resolved_at: this.deps.clock.now(),
          resolved_by: actor.id ?? actor.type,
          payment_intent_id: settled.intent.id,
          attempt_id: settled.attempt.id,
        })
      : undefined;
    await this.deps.audit.record({
      actor,
      action: 'reconciliation.finding.adopt',
      resourceType: 'reconciliation_finding',
      resourceId: id,
      outcome: 'success',
      origin,
      oldValue: { resolution: finding.resolution },
      newValue: {
        resolution: done ? 'adopted' : 'adopting',
        merchant: merchantId,
        payment_intent: settled.intent.id,
        status: settled.intent.status,
        provider_charge_id: finding.provider_charge_id,
      },
    });
    return toFindingObject(row ?? (await this.finding(id)));
  }

  /** The adopted payment's intent and attempt, in one transaction with its creation event. */
  private async recordAdopted(scope: { merchantId: string; livemode: boolean }, finding: FindingRow) {
    const row = await this.deps.payments.prepareCreate(scope, {
      amount: Number(finding.amount),
      currency: finding.currency as string,
      description: `Adopted by reconciliation (${finding.provider_charge_id})`,
      metadata: { reconciliation_finding: finding.id },
    } as CreateInput);
    const now = this.deps.clock.now();
    const attemptId = newId('pa');
    return this.deps.db.transaction().execute(async (trx) => {
      await insertIntent(trx, { ...row, status: 'processing', capture_method: 'automatic' });
      const attempt = await insertAttempt(trx, {
        id: attemptId,
        payment_intent_id: row.id,
        merchant_id: scope.merchantId,
        livemode: scope.livemode,
        provider: finding.provider,
        payment_method_id: null,
        amount: Number(finding.amount),
        currency: finding.currency as string,
        capture_method: 'automatic',
        created_at: now,
        phase: 'unknown',
        pending_operation: null,
        capture_amount: null,
        status: 'pending',
        provider_payment_id: finding.provider_payment_id,
        charge_id: null,
        return_url: null,
        error: JSON.stringify(null),
        latency_ms: null,
        settled_at: null,
        next_check_at: now,
      });
      const intent = await updateIntent(trx, row.id, { current_attempt_id: attemptId });
      await this.deps.events.record(trx, scope, {
        type: 'payment_intent.created',
        object: toPaymentIntentObject(intent),
      });
      return attempt;
    });
  }
}
