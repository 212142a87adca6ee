// The refund resource's parameters (zod, the single source for validation and OpenAPI). The object
// itself is rendered in refund-object.ts, which charges use too.
import { z } from 'zod';
import { listParams } from '../../http/pagination.js';
import { integer, metadata, text } from '../../http/params.js';

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

export const createFields = {
  payment_intent: text(255).optional(),
  charge: text(255).optional(),
  /** Defaults to what remains refundable on the charge. */
  amount: integer("a positive integer amount in the currency's minor unit").optional(),
  reason: z.enum(REFUND_REASONS).optional(),
  metadata: metadata().optional(),
};

export const updateFields = {
  metadata: metadata().optional(),
};

export const listFilters = {
  ...listParams,
  charge: text(255).optional(),
  payment_intent: text(255).optional(),
};

type Output<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;
export type CreateRefundInput = Output<typeof createFields>;
export type UpdateRefundInput = Output<typeof updateFields>;
export type RefundListFilters = Output<typeof listFilters>;
