// Merchants own every other object. At start the service makes sure a merchant exists to hold
// BOOTSTRAP_SECRET_KEY, or, on a first start without one, creates a merchant and prints its keys once.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import { unixSeconds } from '../../clock.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { Database } from '../../db/schema.js';
import { resourceMissing } from '../../http/errors.js';
import { newId } from '../../ids.js';
import { keyModeOf } from '../keys/keys.js';
import type { KeysService } from '../keys/keys.service.js';
import { countMerchants, findMerchant, insertMerchant } from './merchants.repository.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Advisory lock key for the start-up bootstrap (any constant no other code uses). */
const BOOTSTRAP_LOCK_ID = 7_202_501;

export interface BootstrapResult {
  merchantId: string;
  /** Keys created by this start, to be shown once; empty when nothing was created. */
  createdKeys: { kind: string; secret: string }[];
}

export class MerchantsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly keys: KeysService,
  ) {}

  async create(name: string, executor: Executor = this.db, timezone?: string) {
    return insertMerchant(executor, {
      id: newId('acct', 16),
      name,
      ...(timezone ? { timezone } : {}),
      created_at: this.clock.now(),
    });
  }

  async retrieve(id: string, param: string) {
    const row = await findMerchant(this.db, id);
    if (!row) throw resourceMissing('merchant', id, param);
    return {
      id: row.id,
      object: 'merchant' as const,
      name: row.name,
      timezone: row.timezone,
      created: unixSeconds(row.created_at),
    };
  }

  /** A new merchant with a test-mode secret and publishable key, all or nothing. */
  async createWithKeys(name: string, timezone?: string) {
    return this.db.transaction().execute((trx) => this.insertWithKeys(name, trx, timezone));
  }

  private async insertWithKeys(name: string, executor: Transaction<Database>, timezone?: string) {
    const merchant = await this.create(name, executor, timezone);
    const defaults = { livemode: false, name: 'default' };
    const secret = await this.keys.create(merchant.id, { kind: 'secret', ...defaults }, undefined, executor);
    const publishable = await this.keys.create(
      merchant.id,
      { kind: 'publishable', ...defaults },
      undefined,
      executor,
    );
    return { merchant, secret, publishable };
  }

  /**
   * Runs at every start. Replicas starting together serialize on an advisory lock, so exactly one of them
   * creates the default merchant (and prints its keys) and none trips over the other's insert.
   */
  async bootstrap(bootstrapSecretKey: string | undefined): Promise<BootstrapResult | undefined> {
    if (bootstrapSecretKey) {
      const mode = keyModeOf(bootstrapSecretKey);
      if (mode?.kind !== 'secret') throw new Error('BOOTSTRAP_SECRET_KEY must be a secret key (sk_...)');
    }
    try {
      return await this.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK_ID})`.execute(trx);
        return bootstrapSecretKey
          ? this.ensureKeyHolder(trx, bootstrapSecretKey)
          : this.ensureFirstMerchant(trx);
      });
    } catch (error) {
      // Only a writer that skipped the lock (an older release) could get here first; its row is as good.
      if (!isUniqueViolation(error) || !bootstrapSecretKey) throw error;
      const existing = await this.keys.findBySecret(bootstrapSecretKey);
      if (!existing) throw error;
      return { merchantId: existing.merchant_id, createdKeys: [] };
    }
  }

  private async ensureKeyHolder(trx: Transaction<Database>, secret: string): Promise<BootstrapResult> {
    const existing = await this.keys.findBySecret(secret, trx);
    if (existing) return { merchantId: existing.merchant_id, createdKeys: [] };
    const livemode = keyModeOf(secret)?.livemode ?? false;
    const merchant = await this.create('Default merchant', trx);
    await this.keys.create(merchant.id, { kind: 'secret', livemode, name: 'bootstrap' }, secret, trx);
    return { merchantId: merchant.id, createdKeys: [] };
  }

  private async ensureFirstMerchant(trx: Transaction<Database>): Promise<BootstrapResult | undefined> {
    if ((await countMerchants(trx)) > 0) return undefined;
    const { merchant, secret, publishable } = await this.insertWithKeys('Default merchant', trx);
    return {
      merchantId: merchant.id,
      createdKeys: [
        { kind: 'secret', secret: secret.secret },
        { kind: 'publishable', secret: publishable.secret },
      ],
    };
  }
}
