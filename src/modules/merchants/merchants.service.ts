// Merchants own every other object. At start the service makes sure a merchant exists to hold
// BOOTSTRAP_SECRET_KEY, or, on a first start without one, creates a merchant and prints its keys once.
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import { unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { resourceMissing } from '../../http/errors.js';
import { newId } from '../../ids.js';
import { keyModeOf } from '../keys/keys.js';
import type { KeysService } from '../keys/keys.service.js';
import { countMerchants, findMerchant, insertMerchant } from './merchants.repository.js';

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

  async create(name: string) {
    return insertMerchant(this.db, { id: newId('acct', 16), name, created_at: this.clock.now() });
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

  /** A new merchant with a test-mode secret and publishable key. */
  async createWithKeys(name: string) {
    const merchant = await this.create(name);
    const secret = await this.keys.create(merchant.id, { kind: 'secret', livemode: false, name: 'default' });
    const publishable = await this.keys.create(merchant.id, {
      kind: 'publishable',
      livemode: false,
      name: 'default',
    });
    return { merchant, secret, publishable };
  }

  async bootstrap(bootstrapSecretKey: string | undefined): Promise<BootstrapResult | undefined> {
    if (bootstrapSecretKey) {
      const existing = await this.keys.findBySecret(bootstrapSecretKey);
      if (existing) return { merchantId: existing.merchant_id, createdKeys: [] };
      const mode = keyModeOf(bootstrapSecretKey);
      if (mode?.kind !== 'secret') throw new Error('BOOTSTRAP_SECRET_KEY must be a secret key (sk_...)');
      const merchant = await this.create('Default merchant');
      await this.keys.create(
        merchant.id,
        { kind: 'secret', livemode: mode.livemode, name: 'bootstrap' },
        bootstrapSecretKey,
      );
      return { merchantId: merchant.id, createdKeys: [] };
    }
    if ((await countMerchants(this.db)) > 0) return undefined;
    const { merchant, secret, publishable } = await this.createWithKeys('Default merchant');
    return {
      merchantId: merchant.id,
      createdKeys: [
        { kind: 'secret', secret: secret.secret },
        { kind: 'publishable', secret: publishable.secret },
      ],
    };
  }
}
