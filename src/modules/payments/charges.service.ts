// Reads of charges (one per provider attempt that reached a processor), each with its refunds.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { type ChargeObject, toChargeObject } from './charges.js';
import { chargesQuery, findCharge, refundsOfCharges } from './payments.repository.js';

export class ChargesService {
  constructor(private readonly db: Kysely<Database>) {}

  async find(scope: Scope, id: string): Promise<ChargeObject | null> {
    const row = await findCharge(this.db, scope, id);
    if (!row) return null;
    const refunds = await refundsOfCharges(this.db, [row.id]);
    return toChargeObject(row, refunds.get(row.id));
  }

  async retrieve(scope: Scope, id: string): Promise<ChargeObject> {
    const charge = await this.find(scope, id);
    if (!charge) throw resourceMissing('charge', id, 'id');
    return charge;
  }

  async list(
    scope: Scope,
    params: ListParams & { customer?: string | undefined; payment_intent?: string | undefined },
  ) {
    const page = await paginate(
      chargesQuery(this.db, scope, params),
      params,
      async (id) => (await findCharge(this.db, scope, id))?.created_at,
    );
    const refunds = await refundsOfCharges(
      this.db,
      page.rows.map((row) => row.id),
    );
    return listObject(
      '/v1/charges',
      page.rows.map((row) => toChargeObject(row, refunds.get(row.id))),
      page.hasMore,
    );
  }
}
