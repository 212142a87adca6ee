// Owns the feature flags in PostgreSQL (runbook 002's `payments_live_v1`: a kill switch and a rollout
// percentage per environment), every change audited with old and new value, and the cache every replica
// reads them through. The cache lives FLAGS_CACHE_TTL_MS (age measured with performance.now(), not
// business time), so a change on one replica is obeyed by every replica within about a second; a change
// made here is obeyed here at once. If the database cannot be read, the last known flags stay in force.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import { RefreshingSnapshot } from '../../db/refreshing-snapshot.js';
import type { Database } from '../../db/schema.js';
import { AppError } from '../../http/errors.js';
import type { CheckResult } from '../../observability/health.js';
import type { Logger } from '../../observability/logger.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import {
  auditValueOf,
  type Environment,
  FLAG_NAMES,
  type FlagName,
  type FlagObject,
  type FlagState,
  flagStateOf,
  PAYMENTS_FLAG,
  rolloutBucket,
  toFlagObject,
} from './flags.js';
import { listFlags, listRollouts, lockFlag, updateFlag, upsertRollouts } from './flags.repository.js';
import type { FeatureFlagRow } from './flags.table.js';

export const FLAGS_CACHE_TTL_MS = 1_000;

export interface FlagsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  /** APP_ENV: whose rollout this service obeys. */
  environment: Environment;
}

/** Who is asking to pay: the rollout admits by customer when there is one, else by merchant. */
export interface PaymentSubject {
  merchantId: string;
  customerId: string | null | undefined;
}

type Snapshot = ReadonlyMap<FlagName, FlagState>;

const defaults = (): Snapshot => new Map(FLAG_NAMES.map((name) => [name, flagStateOf(name, undefined, [])]));

/**
 * 503 for a confirmation the flag does not admit: nothing was done, so the idempotency key stays free
 * (DESIGN section 5), and retrying cannot help until an operator changes the flag.
 */
function paymentsDisabled(message: string): AppError {
  return new AppError(503, 'api_error', 'payments_disabled', message, {
    shouldRetry: false,
    releasesIdempotencyKey: true,
  });
}

export class FlagsService {
  private readonly stored: RefreshingSnapshot<Snapshot>;

  constructor(private readonly deps: FlagsDeps) {
    this.stored = new RefreshingSnapshot<Snapshot>({
      initial: defaults(),
      ttlMs: FLAGS_CACHE_TTL_MS,
      read: () => this.read(),
      onReadError: (error) =>
        deps.logger.warn({ err: error }, 'feature flags unreadable; keeping the last known ones'),
    });
  }

  get environment(): Environment {
    return this.deps.environment;
  }

  /** The flag as this replica obeys it (at most FLAGS_CACHE_TTL_MS old). */
  async state(name: FlagName): Promise<FlagState> {
    const snapshot = await this.stored.get();
    return snapshot.get(name) ?? flagStateOf(name, undefined, []);
  }

  /**
   * Invariant 10's gate, called before a new confirmation does anything: refused (503
   * payments_disabled) when `payments_live_v1` is killed or the subject falls outside this
   * environment's rollout. The subject is the customer when the payment names one, else the merchant,
   * so a merchant's or customer's payments are all admitted or all refused, retries included.
   */
  async admitPayment(subject: PaymentSubject): Promise<void> {
    const state = await this.state(PAYMENTS_FLAG);
    if (state.killed) {
      throw paymentsDisabled(
        `Payments are switched off (${PAYMENTS_FLAG} is killed); nothing was charged. Captures and refunds of existing payments still work.`,
      );
    }
    const percentage = state.rollouts[this.deps.environment];
    if (percentage >= 100) return;
    const key = subject.customerId ? `${subject.merchantId}:${subject.customerId}` : subject.merchantId;
    if (rolloutBucket(PAYMENTS_FLAG, key) < percentage) return;
    throw paymentsDisabled(
      `New payments are not enabled for this ${subject.customerId ? 'customer' : 'merchant'} yet (${PAYMENTS_FLAG} is being rolled out); nothing was charged.`,
    );
  }

  private async read(): Promise<Snapshot> {
    const [flags, rollouts] = await Promise.all([listFlags(this.deps.db), listRollouts(this.deps.db)]);
    const rows = new Map(flags.map((row) => [row.name, row]));
    return new Map(FLAG_NAMES.map((name) => [name, flagStateOf(name, rows.get(name), rollouts)] as const));
  }

  /** The flag as stored now (a fresh read, so a change made on another replica shows at once). */
  async status(name: FlagName): Promise<FlagObject> {
    const snapshot = await this.stored.reload();
    return toFlagObject(snapshot.get(name) ?? flagStateOf(name, undefined, []), this.deps.environment);
  }

  async list(): Promise<FlagObject[]> {
    const snapshot = await this.stored.reload();
    return FLAG_NAMES.map((name) =>
      toFlagObject(snapshot.get(name) ?? flagStateOf(name, undefined, []), this.deps.environment),
    );
  }

  /** Sets the rollout percentage of one or more environments; audited with old and new value. */
  async setRollouts(
    name: FlagName,
    percentages: Partial<Record<Environment, number>>,
    actor: AuditActor,
    origin?: AuditOrigin,
  ): Promise<FlagObject> {
    return this.change(name, 'feature_flag.rollout.set', actor, origin, undefined, async (trx, stamp) => {
      await upsertRollouts(
        trx,
        Object.entries(percentages).map(([environment, percentage]) => ({
          flag: name,
          environment,
          percentage: percentage as number,
          updated_at: stamp.at,
          updated_by: stamp.by,
        })),
      );
      return updateFlag(trx, name, { updated_at: stamp.at, updated_by: stamp.by });
    });
  }

  /** The kill switch: no new confirmation anywhere until `enable`; audited. */
  async kill(name: FlagName, actor: AuditActor, origin?: AuditOrigin, reason?: string): Promise<FlagObject> {
    return this.change(name, 'feature_flag.kill', actor, origin, reason, (trx, stamp, before) =>
      updateFlag(trx, name, {
        killed: true,
        // Killing a killed flag again keeps when it was first killed.
        killed_at: before.killed ? before.killed_at : stamp.at,
        killed_by: before.killed ? before.killed_by : stamp.by,
        updated_at: stamp.at,
        updated_by: stamp.by,
      }),
    );
  }

  /** Lifts the kill switch: the rollouts apply again; audited. */
  async enable(
    name: FlagName,
    actor: AuditActor,
    origin?: AuditOrigin,
    reason?: string,
  ): Promise<FlagObject> {
    return this.change(name, 'feature_flag.enable', actor, origin, reason, (trx, stamp) =>
      updateFlag(trx, name, {
        killed: false,
        killed_at: null,
        killed_by: null,
        updated_at: stamp.at,
        updated_by: stamp.by,
      }),
    );
  }

  /** One change under the flag's lock, with its audit row in the same transaction. */
  private async change(
    name: FlagName,
    action: string,
    actor: AuditActor,
    origin: AuditOrigin | undefined,
    reason: string | undefined,
    apply: (
      trx: Transaction<Database>,
      stamp: { at: Date; by: string },
      before: FeatureFlagRow,
    ) => Promise<FeatureFlagRow>,
  ): Promise<FlagObject> {
    const { db, clock, audit } = this.deps;
    const stamp = { at: clock.now(), by: actor.id ?? actor.type };
    const after = await db.transaction().execute(async (trx) => {
      const before = await lockFlag(trx, name, stamp.at, stamp.by);
      const oldState = flagStateOf(name, before, await listRollouts(trx, name));
      const row = await apply(trx, stamp, before);
      const newState = flagStateOf(name, row, await listRollouts(trx, name));
      await audit.record(
        {
          actor,
          action,
          resourceType: 'feature_flag',
          resourceId: name,
          outcome: 'success',
          origin,
          oldValue: auditValueOf(oldState),
          newValue: { ...auditValueOf(newState), ...(reason ? { reason } : {}) },
        },
        trx,
      );
      return newState;
    });
    await this.stored.reload();
    return toFlagObject(after, this.deps.environment);
  }

  /** /health/payments' `feature_flag`: enabled, or killed (payments switched off on purpose). */
  async healthCheck(): Promise<CheckResult> {
    const state = await this.state(PAYMENTS_FLAG);
    const rollout = state.rollouts[this.deps.environment];
    return state.killed
      ? { status: 'disabled', state: 'killed', detail: { flag: PAYMENTS_FLAG, rollout } }
      : { status: 'up', state: 'enabled', detail: { flag: PAYMENTS_FLAG, rollout } };
  }
}
