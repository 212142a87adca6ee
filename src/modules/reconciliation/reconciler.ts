// Owns comparing a window of provider records with ours, page by page: each page of the provider's
// listing is matched to our attempts in one read, classified, its findings written, and its mismatches
// settled before the next page is asked for; what the provider lacks and second charges of one payment
// are then found in the database against the run's seen records. Settling goes through the payments
// module's own recovery (a GET of the provider object, then the one settlement), so a mismatch gets
// exactly the events and postings a webhook would have made, and a webhook at the same moment finds the
// attempt already settled (the settlement locks the attempt row and posts under the attempt's key).
import type { Insertable, Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { newId } from '../../ids.js';
import type { Logger } from '../../observability/logger.js';
import type { ProviderName, ProviderRecord, ReconciliationSource } from '../../providers/provider.js';
import type { PaymentAttemptRow } from '../payments/payments.table.js';
import { isUnsettled, type PaymentRecovery } from '../payments/recovery.js';
import {
  analyzeSeen,
  attemptsByProviderIds,
  deleteSeen,
  duplicateAttempts,
  insertFindings,
  insertSeen,
  intentsByIds,
  type MatchedAttempt,
  missingAtProvider,
  moveFinding,
} from './reconciliation.repository.js';
import type { FindingKind, ReconciliationFindingsTable, RunCounts } from './reconciliation.table.js';

/** Provider records up to this long before the window are read too: a charge lands after its attempt. */
export const WINDOW_MARGIN_MS = 10 * 60_000;
const PAGE = 1_000;

export interface ReconcilerSource {
  name: ProviderName;
  source: ReconciliationSource;
  livemode: boolean;
  /** How long the provider's listing lags behind (PayPal's search: up to 3 h); our side stops before it. */
  delayMs: number;
}

export interface ReconcilerDeps {
  db: Kysely<Database>;
  clock: Clock;
  recovery: Pick<PaymentRecovery, 'settleFromProvider'>;
  logger: Logger;
}

export function emptyCounts(): RunCounts {
  return {
    provider_records: 0,
    matched: 0,
    status_mismatch: 0,
    unknown_at_our_side: 0,
    missing_at_provider: 0,
    duplicate: 0,
    unresolved: 0,
    settled: 0,
  };
}

type NewFinding = Insertable<ReconciliationFindingsTable>;

interface Classified {
  finding?: { kind: FindingKind; detail: Record<string, unknown> };
  /** The provider's state is final and ours is not: the settlement path can apply it. */
  settle?: boolean;
}

const PAID = new Set(['succeeded', 'authorized']);

/** How one provider record compares with our attempt for it (or with its absence). */
export function classify(record: ProviderRecord, attempt: MatchedAttempt): Classified {
  const paid = PAID.has(record.status);
  if (isUnsettled(attempt) || attempt.status === 'pending' || attempt.status === 'requires_action') {
    if (record.status === 'pending') return {};
    return {
      finding: {
        kind: 'status_mismatch',
        detail: { reason: 'the provider has a final outcome we never applied' },
      },
      settle: true,
    };
  }
  const mismatch = (reason: string, settle = false): Classified => ({
    finding: { kind: 'status_mismatch', detail: { reason } },
    settle,
  });
  switch (attempt.status) {
    case 'succeeded':
      if (record.status === 'authorized') return mismatch('captured here, only authorized at the provider');
      if (!paid) return mismatch(`succeeded here, ${record.status} at the provider`);
      if (record.amountRefunded !== null && (attempt.amount_refunded ?? 0) !== record.amountRefunded) {
        return mismatch(
          `refunded ${attempt.amount_refunded ?? 0} here, ${record.amountRefunded} at the provider`,
        );
      }
      if (record.disputed !== null && (attempt.disputed ?? false) !== record.disputed) {
        return mismatch(record.disputed ? 'disputed at the provider only' : 'disputed here only');
      }
      return {};
    case 'requires_capture':
      if (record.status === 'succeeded') return mismatch('captured at the provider, not here', true);
      if (record.status === 'authorized') return {};
      return mismatch(`authorized here, ${record.status} at the provider`);
    default:
      // failed or canceled here
      if (paid) return mismatch(`${attempt.status} here, but the provider took the money`);
      return {};
  }
}

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  /**
   * Reconciles [since, until) for each source, adding to `counts`; `progress` is told the provider
   * records read so far after every page.
   */
  async run(
    runId: string,
    sources: ReconcilerSource[],
    window: { since: Date; until: Date },
    counts: RunCounts,
    progress?: (counts: RunCounts) => void,
  ): Promise<void> {
    try {
      for (const source of sources) {
        await this.reconcileSource(runId, source, window, counts, progress);
      }
    } finally {
      await deleteSeen(this.deps.db, runId);
    }
  }

  private async reconcileSource(
    runId: string,
    source: ReconcilerSource,
    window: { since: Date; until: Date },
    counts: RunCounts,
    progress?: (counts: RunCounts) => void,
  ): Promise<void> {
    const from = new Date(window.since.getTime() - WINDOW_MARGIN_MS);
    // Provider pages (Stripe's are 100 records) are gathered up to PAGE records per round of reads and
    // writes here: fewer statements, and still one bounded batch in memory.
    let batch: ProviderRecord[] = [];
    for await (const page of source.source.records(from, window.until)) {
      batch = batch.concat(page);
      if (batch.length < PAGE) continue;
      await this.reconcilePage(runId, source, batch, window, counts);
      batch = [];
      progress?.(counts);
    }
    if (batch.length > 0) await this.reconcilePage(runId, source, batch, window, counts);
    progress?.(counts);
    await analyzeSeen(this.deps.db);
    await this.duplicatesAcrossAttempts(runId, source, counts);
    // Our side ends where the provider's listing may still lag.
    const ourUntil = new Date(
      Math.min(window.until.getTime(), this.deps.clock.now().getTime() - source.delayMs),
    );
    let after: string | undefined;
    for (;;) {
      const missing = await missingAtProvider(
        this.deps.db,
        runId,
        source.name,
        window.since,
        ourUntil,
        PAGE,
        after,
      );
      if (missing.length === 0) break;
      await insertFindings(
        this.deps.db,
        missing.map((attempt) =>
          this.attemptFinding(runId, attempt, 'missing_at_provider', null, {
            reason: 'we recorded money taken; the provider lists no charge for it',
          }),
        ),
      );
      counts.missing_at_provider += missing.length;
      after = missing.at(-1)?.id;
      if (missing.length < PAGE) break;
    }
  }

  private async reconcilePage(
    runId: string,
    source: ReconcilerSource,
    page: ProviderRecord[],
    window: { since: Date; until: Date },
    counts: RunCounts,
  ): Promise<void> {
    const { db } = this.deps;
    counts.provider_records += page.length;
    const attempts = await attemptsByProviderIds(
      db,
      source.name,
      page.map((record) => record.providerPaymentId),
    );
    const unknown = page.filter(
      (record) =>
        !attempts.has(record.providerPaymentId) &&
        PAID.has(record.status) &&
        record.createdAt >= window.since &&
        // Refunded in full (an earlier decision, or by hand at the provider): nothing left to decide.
        (record.amountRefunded === null || record.amountRefunded < record.amount),
    );
    const claimed = await intentsByIds(
      db,
      unknown.map((record) => record.claimedPaymentIntentId).filter((id): id is string => id !== null),
    );
    const findings: NewFinding[] = [];
    const toSettle: { finding: string; attempt: MatchedAttempt }[] = [];
    const seen = [];
    for (const record of page) {
      const attempt = attempts.get(record.providerPaymentId);
      if (!attempt) continue;
      const paid = PAID.has(record.status);
      seen.push({
        run_id: runId,
        provider: source.name,
        provider_payment_id: record.providerPaymentId,
        payment_intent_id: attempt.payment_intent_id,
        attempt_id: attempt.id,
        paid,
      });
      const { finding, settle } = classify(record, attempt);
      if (!finding) {
        counts.matched++;
        continue;
      }
      const row = this.attemptFinding(runId, attempt, finding.kind, record, finding.detail);
      findings.push(row);
      counts[finding.kind]++;
      if (settle) toSettle.push({ finding: row.id, attempt });
    }
    for (const record of unknown) {
      const intent = record.claimedPaymentIntentId ? claimed.get(record.claimedPaymentIntentId) : undefined;
      // Made for one of our payments that already has its money: a second charge (runbook 002).
      const duplicate = intent !== undefined && ['succeeded', 'requires_capture'].includes(intent.status);
      const kind: FindingKind = duplicate ? 'duplicate' : 'unknown_at_our_side';
      counts[kind]++;
      findings.push({
        ...this.recordFinding(runId, source, record, kind),
        merchant_id: intent?.merchant_id ?? record.claimedMerchantId,
        payment_intent_id: intent?.id ?? null,
        our_status: intent?.status ?? null,
        detail: JSON.stringify({
          reason: duplicate
            ? 'a second provider charge for a payment that has its own'
            : 'paid at the provider, unknown to us: refund or adopt',
          claimed_payment_intent: record.claimedPaymentIntentId,
        }),
      });
    }
    await insertSeen(db, seen);
    await insertFindings(db, findings);
    for (const { finding, attempt } of toSettle) await this.settle(finding, attempt, counts);
  }

  /** Applies the provider's record through the payments module's recovery; never a second copy of it. */
  private async settle(findingId: string, attempt: PaymentAttemptRow, counts: RunCounts): Promise<void> {
    try {
      const settled = await this.deps.recovery.settleFromProvider(attempt);
      if (isUnsettled(settled.attempt) || settled.attempt.status === attempt.status) return;
      await moveFinding(this.deps.db, findingId, ['open'], 'settled', {
        resolved_at: this.deps.clock.now(),
        resolved_by: 'reconciliation',
      });
      counts.settled++;
    } catch (error) {
      this.deps.logger.warn(
        { err: error, attempt: attempt.id },
        'reconciliation could not settle an attempt',
      );
    }
  }

  private async duplicatesAcrossAttempts(runId: string, source: ReconcilerSource, counts: RunCounts) {
    const extra = await duplicateAttempts(this.deps.db, runId, source.name);
    await insertFindings(
      this.deps.db,
      extra.map((attempt) =>
        this.attemptFinding(runId, attempt, 'duplicate', null, {
          reason: `another attempt of this payment also charged at the provider (current attempt ${attempt.current_attempt_id})`,
        }),
      ),
    );
    counts.duplicate += extra.length;
  }

  attemptFinding(
    runId: string,
    attempt: PaymentAttemptRow,
    kind: FindingKind,
    record: ProviderRecord | null,
    detail: Record<string, unknown>,
  ): NewFinding {
    return {
      id: newId('rcf'),
      run_id: runId,
      created_at: this.deps.clock.now(),
      kind,
      provider: attempt.provider,
      provider_payment_id: attempt.provider_payment_id,
      provider_charge_id: record?.providerChargeId ?? null,
      merchant_id: attempt.merchant_id,
      livemode: attempt.livemode,
      payment_intent_id: attempt.payment_intent_id,
      attempt_id: attempt.id,
      amount: record?.amount ?? attempt.amount,
      currency: record?.currency ?? attempt.currency,
      our_status: isUnsettled(attempt) ? 'processing' : attempt.status,
      provider_status: record?.status ?? null,
      resolution: 'open',
      detail: JSON.stringify(detail),
    };
  }

  private recordFinding(
    runId: string,
    source: ReconcilerSource,
    record: ProviderRecord,
    kind: FindingKind,
  ): NewFinding {
    return {
      id: newId('rcf'),
      run_id: runId,
      created_at: this.deps.clock.now(),
      kind,
      provider: source.name,
      provider_payment_id: record.providerPaymentId,
      provider_charge_id: record.providerChargeId,
      merchant_id: record.claimedMerchantId,
      livemode: source.livemode,
      payment_intent_id: null,
      attempt_id: null,
      amount: record.amount - (record.amountRefunded ?? 0),
      currency: record.currency,
      our_status: null,
      provider_status: record.status,
      resolution: 'open',
      detail: JSON.stringify({}),
    };
  }
}
