// GDPR for one customer (runbook 003's PrivacyController): export everything held about them, and erase
// their personal data while the financial records stay. Operators only; both are audited with the
// customer's id (never their email) as the resource.
//
// Erasure, in one transaction under the customer's row lock (then its payment intents', so a settlement
// running meanwhile either finishes first and is scrubbed too, or waits and reads scrubbed rows):
// - the customer: contact fields, address, shipping, description and metadata cleared; deleted (reads
//   as Stripe's deleted stub) with `erased_at` recorded; `customer.deleted` when it was not deleted yet;
// - payment methods attached to it or used by its payments: the vault entry deleted (the card cannot be
//   charged again), detached, billing details, metadata and PayPal payer cleared; brand, last 4, expiry,
//   funding, country and fingerprint stay, as they stay on the charges (what a card statement shows);
// - payment intents, charges, refunds, disputes, wallets, attempts: amounts, ids and states untouched;
//   receipt_email, shipping, billing details and descriptions cleared, personal dispute evidence
//   dropped, and any other text holding one of the customer's identifiers replaced (privacy.ts);
// - events about those objects, stored idempotent answers that are one of them, and the receivers'
//   answers to their webhook deliveries: scrubbed the same way.
// Refused (409) while one of its payments is `processing`: recovery may still need the card.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import { unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError, resourceMissing, stateConflict } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { toCustomerObject } from '../customers/customers.js';
import type { CustomerRow } from '../customers/customers.table.js';
import type { EventsService } from '../events/events.service.js';
import type { VaultService } from '../vault/vault.service.js';
import type { WalletsService } from '../wallets/wallets.service.js';
import { buildExport } from './privacy.export.js';
import {
  changed,
  DEFAULT_EXPORT_LIMIT,
  ERASED,
  type ErasureReport,
  type ExportInput,
  Identifiers,
  scrub,
  scrubEventData,
} from './privacy.js';
import { eraseRecords } from './privacy.records.js';
import {
  attemptsQuery,
  chargesQuery,
  deliveryAttemptsAbout,
  disputesQuery,
  eventsQuery,
  findCustomerById,
  idempotencyRowsAbout,
  intentsQuery,
  lockCustomerById,
  paymentMethodsQuery,
  refundsQuery,
  updateAttemptExcerpt,
  updateCustomerById,
  updateEventData,
  updateIdempotencyResponse,
  walletsQuery,
} from './privacy.repository.js';

export interface PrivacyDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  vault: VaultService;
  events: EventsService;
  wallets: WalletsService;
}

export interface Caller {
  actor: AuditActor;
  origin?: AuditOrigin | undefined;
}

const json = (value: unknown) => JSON.stringify(value);
const scopeOf = (row: CustomerRow): Scope => ({ merchantId: row.merchant_id, livemode: row.livemode });

export class PrivacyService {
  constructor(private readonly deps: PrivacyDeps) {}

  private async customer(customerId: string, caller: Caller, action: string): Promise<CustomerRow> {
    const row = await findCustomerById(this.deps.db, customerId);
    if (row) return row;
    await this.audit(caller, action, customerId, 'failure', { error: 'resource_missing' });
    throw resourceMissing('customer', customerId, 'customerId');
  }

  private audit(
    caller: Caller,
    action: string,
    customerId: string,
    outcome: 'success' | 'failure',
    newValue: unknown,
    executor?: Transaction<Database>,
  ) {
    return this.deps.audit.record(
      {
        actor: caller.actor,
        action,
        resourceType: 'customer',
        resourceId: customerId,
        outcome,
        origin: caller.origin,
        newValue,
      },
      executor,
    );
  }

  /** Everything held about the customer, each collection capped at `limit` (newest first). */
  async export(customerId: string, input: ExportInput, caller: Caller) {
    const customer = await this.customer(customerId, caller, 'privacy.export');
    const limit = input.limit ?? DEFAULT_EXPORT_LIMIT;
    const result = await buildExport(this.deps, customer, limit);
    await this.audit(caller, 'privacy.export', customerId, 'success', {
      merchant: customer.merchant_id,
      livemode: customer.livemode,
      limit,
      counts: result.counts,
      truncated: result.truncated,
    });
    return result;
  }

  /** Erases the customer's personal data; a second call changes nothing and reports `erased_now: false`. */
  async erase(customerId: string, caller: Caller): Promise<ErasureReport> {
    await this.customer(customerId, caller, 'privacy.erase');
    try {
      return await this.deps.db.transaction().execute((trx) => this.eraseIn(trx, customerId, caller));
    } catch (error) {
      if (error instanceof AppError) {
        await this.audit(caller, 'privacy.erase', customerId, 'failure', { error: error.code });
      }
      throw error;
    }
  }

  private async eraseIn(trx: Transaction<Database>, customerId: string, caller: Caller) {
    const customer = await lockCustomerById(trx, customerId);
    if (!customer) throw resourceMissing('customer', customerId, 'customerId');
    const scope = scopeOf(customer);
    const now = this.deps.clock.now();
    const report: ErasureReport = {
      object: 'privacy_erasure',
      customer: customer.id,
      merchant: customer.merchant_id,
      livemode: customer.livemode,
      erased_now: customer.erased_at === null,
      erased_at: unixSeconds(customer.erased_at ?? now),
      payment_methods: 0,
      vault_cards_deleted: 0,
      payment_intents: 0,
      charges: 0,
      refunds: 0,
      disputes: 0,
      wallets: 0,
      events_scrubbed: 0,
      idempotency_responses_scrubbed: 0,
      webhook_attempts_scrubbed: 0,
    };
    if (customer.erased_at) {
      await this.audit(caller, 'privacy.erase', customerId, 'success', report, trx);
      return report;
    }
    const intents = await intentsQuery(trx, scope, customerId).orderBy('id').forUpdate().execute();
    const inFlight = intents.find((intent) => intent.status === 'processing');
    if (inFlight) {
      throw stateConflict(
        `Customer ${customerId} has a payment still processing (${inFlight.id}); its card may be needed ` +
          'to finish it. Erase once it has settled.',
        'customer_payment_processing',
      );
    }
    const methods = await paymentMethodsQuery(trx, scope, customerId).orderBy('id').forUpdate().execute();
    const charges = await chargesQuery(trx, scope, customerId).orderBy('id').forUpdate().execute();
    const refunds = await refundsQuery(trx, scope, customerId).orderBy('id').forUpdate().execute();
    const disputes = await disputesQuery(trx, scope, customerId).orderBy('disputes.id').execute();
    const wallets = await walletsQuery(trx, scope, customerId).orderBy('id').execute();
    const attempts = await attemptsQuery(trx, scope, customerId).execute();
    const events = await eventsQuery(trx, scope, customerId).execute();

    // Every form the customer's identifiers were ever stored in, before anything is cleared.
    const ids = new Identifiers();
    ids.gather(toCustomerObject(customer));
    for (const method of methods) ids.gather({ billing: method.billing_details, paypal: method.paypal });
    for (const intent of intents) ids.gather(intent.extra);
    for (const charge of charges) ids.gather(charge.card);
    for (const dispute of disputes) ids.gather(dispute.evidence);
    for (const event of events) ids.gather(event.data);

    await updateCustomerById(trx, customerId, {
      email: null,
      name: null,
      phone: null,
      description: null,
      metadata: json({}),
      address: json(null),
      shipping: json(null),
      preferred_locales: json([]),
      deleted_at: customer.deleted_at ?? now,
      erased_at: now,
    });
    for (const method of methods) {
      if (await this.deps.vault.deleteCard(scope, method.id, trx)) report.vault_cards_deleted += 1;
    }
    const counts = await eraseRecords(trx, ids, now, {
      methods,
      intents,
      charges,
      refunds,
      disputes,
      wallets,
      attempts,
    });
    Object.assign(report, counts);

    for (const event of events) {
      const data = scrubEventData(event.data, ids);
      if (!changed(event.data, data)) continue;
      await updateEventData(trx, event.id, data);
      report.events_scrubbed += 1;
    }
    for (const row of await idempotencyRowsAbout(trx, scope, customerId)) {
      const body = scrub(row.response_body, ids);
      if (!changed(row.response_body, body)) continue;
      await updateIdempotencyResponse(trx, scope, row.key, body);
      report.idempotency_responses_scrubbed += 1;
    }
    for (const attempt of await deliveryAttemptsAbout(trx, scope, customerId)) {
      if (!ids.matches(attempt.response_excerpt)) continue;
      await updateAttemptExcerpt(trx, attempt.id, ERASED);
      report.webhook_attempts_scrubbed += 1;
    }
    if (!customer.deleted_at) {
      const erased = await findCustomerById(trx, customerId);
      await this.deps.events.record(trx, scope, {
        type: 'customer.deleted',
        object: toCustomerObject(erased as CustomerRow),
      });
    }
    await this.audit(caller, 'privacy.erase', customerId, 'success', report, trx);
    return report;
  }
}
