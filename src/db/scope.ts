// The merchant-and-mode clause every merchant object is read and written under.
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Scope } from '../http/expand.js';
import type { Database } from './schema.js';

/** The tables whose rows belong to one merchant in one mode. */
export type ScopedTable = {
  [T in keyof Database]: Database[T] extends { merchant_id: unknown; livemode: unknown } ? T : never;
}[keyof Database];

/**
 * `.where(inScope(scope))`: invariant 8, every merchant object is read and written scoped by
 * merchant_id and livemode, so another merchant's or the other mode's id is simply not found (404).
 * One helper, so no query can carry half of the clause; a table without both columns does not compile.
 */
export function inScope(scope: Scope) {
  return (eb: ExpressionBuilder<Database, ScopedTable>): Expression<SqlBool> =>
    eb.and([eb('merchant_id', '=', scope.merchantId), eb('livemode', '=', scope.livemode)]);
}
