// The outbox and the sender. An event listener, inside the transaction that records the event, adds
// one delivery per matching enabled endpoint and its first job, so deliveries commit with the event
// (the transactional outbox). Each job makes one attempt: one read (delivery, endpoint and event
// joined), the signed POST outside any transaction, one statement recording the outcome, and on a
// failure the next rung of the retry ladder as a new job at the clock time it is due. The read and a
// success's record are shared with the other jobs doing the same at that moment (one statement each
// for a claimed batch), so a busy worker pays far less than two round trips per delivery.
import type { Kysely, Transaction } from 'kysely';
import { type Clock, unixSeconds } from '../../clock.js';
import { Batcher } from '../../db/batcher.js';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import { randomBase62 } from '../../ids.js';
import type { JobRunner } from '../../jobs/runner.js';
import type { Logger } from '../../observability/logger.js';
import type { EventObject } from '../events/events.js';
import { toEventObject } from '../events/events.js';
import type { EventsService } from '../events/events.service.js';
import {
  type AttemptRecord,
  insertDeliveries,
  loadManyForSend,
  recordAttempt,
  recordSuccesses,
  type SendRow,
  stopDelivery,
} from './deliveries.repository.js';
import type { EndpointSecrets } from './endpoint-secrets.js';
import { nextDelayMs, parseRetryAfter } from './retry-ladder.js';
import { signDelivery } from './signing.js';
import { sendWebhook, WebhookTransportError } from './transport.js';
import { matchesEnabledEvents, toEndpointObject } from './webhook-endpoints.js';
import {
  type EnabledEndpoint,
  enabledEndpoints,
  enabledEndpointsAlongside,
  updateEndpoint,
} from './webhook-endpoints.repository.js';
import type { WebhookMetrics } from './webhooks-out.metrics.js';
import type { AttemptErrorKind } from './webhooks-out.table.js';

export const DELIVER_JOB = 'webhooks.deliver';
/** An endpoint none of whose deliveries succeeded for this long is disabled. */
export const FAILING_ENDPOINT_DISABLE_MS = 5 * 86_400_000;
const EXCERPT_BYTES = 1024;
const USER_AGENT = 'payment-service-webhooks/1.0 (+https://standardwebhooks.com)';
/**
 * The read before a send and the record of a success are shared by the jobs doing them at the same
 * moment (a claim starts many at once): at most this many statements of each in flight, each for at
 * most DELIVERY_BATCH deliveries.
 */
const DELIVERY_STATEMENTS = 4;
const DELIVERY_BATCH = 100;

export interface DeliveriesDeps {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  runner: JobRunner;
  events: EventsService;
  secrets: EndpointSecrets;
  metrics: WebhookMetrics;
  timeoutMs: number;
  allowPrivateUrls: boolean;
}

/** The endpoint an event about webhooks concerns: it never receives that event (no feedback loop). */
function concernedEndpoint(event: EventObject): string | undefined {
  if (!event.type.startsWith('webhook_')) return undefined;
  const object = (event.data as { object?: { id?: string; endpoint?: string } }).object;
  return event.type.startsWith('webhook_endpoint.') ? object?.id : object?.endpoint;
}

export const newDeliveryId = () => `msg_${randomBase62(27)}`;

/**
 * The event's time as deliveries store it: whole seconds. It is part of the one-delivery-per-event-and-
 * endpoint key (and the partition key), and the event listener knows only the API object's `created`
 * seconds while a replay reads the event row's milliseconds: both must give the same value.
 */
const eventSecond = (at: Date) => new Date(Math.floor(at.getTime() / 1000) * 1000);

/** A delivery of one event to one endpoint, due now. */
export function newDeliveryRow(
  eventId: string,
  eventCreatedAt: Date,
  endpointId: string,
  scope: Scope,
  now: Date,
) {
  return {
    id: newDeliveryId(),
    event_id: eventId,
    endpoint_id: endpointId,
    merchant_id: scope.merchantId,
    livemode: scope.livemode,
    status: 'pending' as const,
    next_attempt_at: now,
    last_status_code: null,
    last_error: null,
    event_created_at: eventSecond(eventCreatedAt),
    created_at: now,
    updated_at: now,
    delivered_at: null,
  };
}

export class WebhookDeliveries {
  /** Transactions whose events go to one endpoint only (a triggered sample event). */
  private readonly targets = new WeakMap<Transaction<Database>, string>();
  private readonly loads: Batcher<{ id: string; step: number }, SendRow | undefined>;
  private readonly successes: Batcher<AttemptRecord, void>;

  constructor(private readonly deps: DeliveriesDeps) {
    const batching = { maxBatch: DELIVERY_BATCH, concurrency: DELIVERY_STATEMENTS };
    this.loads = new Batcher((keys) => loadManyForSend(deps.db, keys), batching);
    this.successes = new Batcher(async (records) => {
      await recordSuccesses(deps.db, records);
      return records.map(() => undefined);
    }, batching);
  }

  /** Runs `record` so that the events it records in `trx` go to `endpointId` alone (when given). */
  async onlyTo<T>(
    trx: Transaction<Database>,
    endpointId: string | undefined,
    record: () => Promise<T>,
  ): Promise<T> {
    if (endpointId === undefined) return record();
    this.targets.set(trx, endpointId);
    try {
      return await record();
    } finally {
      this.targets.delete(trx);
    }
  }

  /**
   * The scope's enabled endpoints, read once per transaction: a settlement records several events
   * together, and the endpoints they fan out to are the same for all of them.
   */
  private endpointsIn(trx: Transaction<Database>, scope: Scope) {
    const key = `${scope.merchantId}:${scope.livemode}`;
    let byScope = this.endpointsByTransaction.get(trx);
    if (!byScope) {
      byScope = new Map();
      this.endpointsByTransaction.set(trx, byScope);
    }
    let endpoints = byScope.get(key);
    if (!endpoints) {
      endpoints = enabledEndpoints(trx, scope);
      byScope.set(key, endpoints);
    }
    return endpoints;
  }

  private seedEndpoints(trx: Transaction<Database>, scope: Scope, endpoints: EnabledEndpoint[]) {
    const key = `${scope.merchantId}:${scope.livemode}`;
    let byScope = this.endpointsByTransaction.get(trx);
    if (!byScope) {
      byScope = new Map();
      this.endpointsByTransaction.set(trx, byScope);
    }
    if (!byScope.has(key)) byScope.set(key, Promise.resolve(endpoints));
  }

  /** What onEvent wants read with each event's insert: the scope's enabled endpoints. */
  readonly onEventAlongside = enabledEndpointsAlongside;

  private readonly endpointsByTransaction = new WeakMap<
    Transaction<Database>,
    Map<string, ReturnType<typeof enabledEndpoints>>
  >();

  /** The EventsService listener: runs inside the event's transaction. */
  readonly onEvent = async (
    trx: Transaction<Database>,
    event: EventObject,
    scope: Scope,
    alongside?: unknown,
  ) => {
    // The endpoints read with the event's insert (onEventAlongside), when the events service did.
    if (Array.isArray(alongside)) this.seedEndpoints(trx, scope, alongside as EnabledEndpoint[]);
    const excluded = concernedEndpoint(event);
    const target = this.targets.get(trx);
    const endpoints = (await this.endpointsIn(trx, scope)).filter(
      (endpoint) =>
        endpoint.id !== excluded &&
        // A sample sent to one endpoint goes there whatever its filter; otherwise the filter decides.
        (target !== undefined
          ? endpoint.id === target
          : matchesEnabledEvents(endpoint.enabled_events, event.type)),
    );
    if (endpoints.length === 0) return;
    const now = this.deps.clock.now();
    const created = new Date(event.created * 1000);
    const rows = await insertDeliveries(
      trx,
      endpoints.map((endpoint) => newDeliveryRow(event.id, created, endpoint.id, scope, now)),
    );
    await this.enqueue(trx, rows, now);
  };

  /** One job per delivery at its step, due at `at`. */
  async enqueue(
    executor: Kysely<Database> | Transaction<Database>,
    rows: { id: string; step: number }[],
    at: Date,
  ) {
    for (const row of rows) {
      await this.deps.runner.enqueue(
        executor,
        DELIVER_JOB,
        { delivery: row.id, step: row.step },
        { runAt: at, uniqueKey: `webhook:${row.id}:${row.step}` },
      );
    }
  }

  /** The delivery job: one attempt. */
  async attempt(deliveryId: string, step: number): Promise<void> {
    const { db, clock } = this.deps;
    const row = await this.loads.submit({ id: deliveryId, step });
    if (!row) return;
    if (row.endpoint_status !== 'enabled' || row.endpoint_deleted_at) {
      const reason = row.endpoint_deleted_at ? 'endpoint_deleted' : 'endpoint_disabled';
      await stopDelivery(db, row.id, row.step, clock.now(), reason);
      this.deps.metrics.deliveries.inc({ status: 'skipped' });
      return;
    }
    const at = clock.now();
    const body = JSON.stringify(
      toEventObject({
        id: row.event_id,
        merchant_id: row.merchant_id,
        livemode: row.livemode,
        type: row.event_type,
        created_at: row.event_at,
        object_id: '',
        data: row.event_data,
        request_id: row.event_request_id,
        idempotency_key: row.event_idempotency_key,
      }),
    );
    const headers = {
      ...signDelivery(row.id, unixSeconds(at), body, this.secretsOf(row, at)),
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
    };
    let statusCode: number | null = null;
    let errorKind: AttemptErrorKind | null = null;
    let retryAfter: string | undefined;
    let excerpt = '';
    let latencyMs: number;
    try {
      const response = await sendWebhook({
        url: row.url,
        headers,
        body,
        timeoutMs: this.deps.timeoutMs,
        livemode: row.livemode,
        allowPrivate: this.deps.allowPrivateUrls,
      });
      statusCode = response.status;
      retryAfter = response.retryAfter;
      excerpt = response.excerpt;
      latencyMs = response.latencyMs;
    } catch (error) {
      if (!(error instanceof WebhookTransportError)) throw error;
      errorKind = error.kind;
      latencyMs = error.latencyMs;
      excerpt = error.message;
    }
    this.deps.metrics.duration.observe(
      { outcome: statusCode === null ? (errorKind ?? 'error') : `${Math.floor(statusCode / 100)}xx` },
      latencyMs / 1000,
    );
    await this.record(row, {
      at: clock.now(),
      statusCode,
      errorKind,
      retryAfter,
      excerpt: excerpt.slice(0, EXCERPT_BYTES),
      latencyMs: Math.round(latencyMs),
    });
  }

  /** The current secret, and the previous one while its overlap lasts: both sign every delivery. */
  private secretsOf(row: SendRow, at: Date): string[] {
    const secrets = [this.deps.secrets.open(row.endpoint_id, row.secret_ciphertext).reveal()];
    if (
      row.previous_secret_ciphertext &&
      row.previous_secret_expires_at &&
      row.previous_secret_expires_at > at
    ) {
      secrets.push(this.deps.secrets.open(row.endpoint_id, row.previous_secret_ciphertext).reveal());
    }
    return secrets;
  }

  private async record(
    row: SendRow,
    outcome: {
      at: Date;
      statusCode: number | null;
      errorKind: AttemptErrorKind | null;
      retryAfter: string | undefined;
      excerpt: string;
      latencyMs: number;
    },
  ): Promise<void> {
    const { db, metrics, logger } = this.deps;
    const attempt = {
      deliveryId: row.id,
      endpointId: row.endpoint_id,
      step: row.step,
      at: outcome.at,
      statusCode: outcome.statusCode,
      errorKind: outcome.errorKind,
      latencyMs: outcome.latencyMs,
      excerpt: outcome.excerpt,
      nextStep: row.step + 1,
      nextRung: row.rung + 1,
    };
    const code = outcome.statusCode;
    if (code !== null && code >= 200 && code < 300) {
      await this.successes.submit({ ...attempt, status: 'succeeded', nextAttemptAt: null, lastError: null });
      metrics.deliveries.inc({ status: 'succeeded' });
      metrics.lag.observe(Math.max(0, (outcome.at.getTime() - row.event_at.getTime()) / 1000));
      return;
    }
    const lastError = code !== null ? `http_${code}` : (outcome.errorKind as string);
    const scope = { merchantId: row.merchant_id, livemode: row.livemode };
    const dead = (trx: Transaction<Database>) =>
      recordAttempt(trx, {
        ...attempt,
        status: 'dead',
        nextAttemptAt: null,
        lastError,
      });
    const failingFor = row.failing_since ? outcome.at.getTime() - row.failing_since.getTime() : 0;
    // 410 Gone, or no success for 5 days: the endpoint is disabled and this delivery stops.
    const disable = code === 410 ? 'gone' : failingFor >= FAILING_ENDPOINT_DISABLE_MS ? 'failing' : undefined;
    if (disable) {
      await db.transaction().execute(async (trx) => {
        await dead(trx);
        await this.disableEndpoint(trx, scope, row.endpoint_id, disable, outcome.at);
      });
      logger.warn(
        { endpoint: row.endpoint_id, delivery: row.id, failing_since: row.failing_since, reason: disable },
        disable === 'gone'
          ? 'webhook endpoint answered 410 Gone; disabled it'
          : 'webhook endpoint failed every delivery for 5 days; disabled it',
      );
      metrics.deliveries.inc({ status: 'disabled' });
      return;
    }
    const retryAfterMs = code === 429 ? parseRetryAfter(outcome.retryAfter, outcome.at) : undefined;
    const delay = nextDelayMs(row.rung + 1, { retryAfterMs });
    if (delay === undefined) {
      await db.transaction().execute(async (trx) => {
        await dead(trx);
        // A delivery of an event about webhooks dying records nothing more: no chain of such events.
        if (!row.event_type.startsWith('webhook_')) {
          await this.deps.events.record(trx, scope, {
            type: 'webhook_delivery.dead',
            object: {
              id: row.id,
              object: 'webhook_delivery',
              endpoint: row.endpoint_id,
              event: row.event_id,
              attempts: row.attempts + 1,
              last_status_code: code,
              last_error: lastError,
            },
          });
        }
      });
      metrics.deliveries.inc({ status: 'dead' });
      logger.warn(
        { endpoint: row.endpoint_id, delivery: row.id, event: row.event_id },
        'webhook delivery is dead',
      );
      return;
    }
    const nextAt = new Date(outcome.at.getTime() + delay);
    await db.transaction().execute(async (trx) => {
      const moved = await recordAttempt(trx, {
        ...attempt,
        status: 'failed',
        nextAttemptAt: nextAt,
        lastError,
      });
      if (moved) await this.enqueue(trx, [{ id: row.id, step: row.step + 1 }], nextAt);
    });
    metrics.deliveries.inc({ status: 'failed' });
  }

  private async disableEndpoint(
    trx: Transaction<Database>,
    scope: Scope,
    endpointId: string,
    reason: 'gone' | 'failing',
    at: Date,
  ): Promise<void> {
    const row = await updateEndpoint(trx, endpointId, {
      status: 'disabled',
      disabled_reason: reason,
      updated_at: at,
    });
    await this.deps.events.record(trx, scope, {
      type: 'webhook_endpoint.disabled',
      object: { ...toEndpointObject(row), disabled_reason: reason },
    });
  }
}
