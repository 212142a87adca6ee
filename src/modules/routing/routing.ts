// Routing rules: which providers, in which order, a payment of a given method type, currency, amount,
// merchant and mode is sent to. Input schemas and the shape the admin API returns.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { boolean, boundedInteger, text } from '../../http/params.js';
import { findCurrency, type ProviderName } from '../../money/currencies.js';
import { PAYMENT_METHOD_TYPES, PROVIDER_NAMES, type RoutingRule } from '../../providers/routing.js';
import type { RoutingRuleRow } from './routing.table.js';

const MAX_AMOUNT = 99_999_999;

/** null, or "" from a form, clears a field. */
const clearable = <T extends z.ZodType>(schema: T) =>
  z.union([z.literal('').transform(() => null), z.null(), schema]);

export const currencySchema = text(3).refine((code) => findCurrency(code) !== undefined, {
  message: 'must be a supported ISO 4217 currency code such as usd',
});

export const providersSchema = z
  .array(z.enum(PROVIDER_NAMES as ['stripe', 'paypal', 'wallet']))
  .min(1, { message: 'must list at least one provider' })
  .max(PROVIDER_NAMES.length)
  .refine((list) => new Set(list).size === list.length, { message: 'must not list a provider twice' });

export const paymentMethodTypeSchema = z.enum(PAYMENT_METHOD_TYPES);

export const ruleFields = {
  merchant_id: clearable(text(64).min(1)).optional(),
  livemode: clearable(boolean()).optional(),
  payment_method_type: paymentMethodTypeSchema,
  currency: clearable(currencySchema).optional(),
  min_amount: clearable(boundedInteger(0, MAX_AMOUNT)).optional(),
  max_amount: clearable(boundedInteger(0, MAX_AMOUNT)).optional(),
  providers: providersSchema,
  priority: boundedInteger(-1000, 1000).optional(),
};

export const ruleUpdateFields = {
  ...ruleFields,
  payment_method_type: paymentMethodTypeSchema.optional(),
  providers: providersSchema.optional(),
};

export interface RuleInput {
  merchant_id?: string | null | undefined;
  livemode?: boolean | null | undefined;
  payment_method_type?: RoutingRule['paymentMethodType'] | undefined;
  currency?: string | null | undefined;
  min_amount?: number | null | undefined;
  max_amount?: number | null | undefined;
  providers?: ProviderName[] | undefined;
  priority?: number | undefined;
}

export function toRoutingRule(row: RoutingRuleRow): RoutingRule {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    paymentMethodType: row.payment_method_type,
    currency: row.currency,
    minAmount: row.min_amount === null ? null : Number(row.min_amount),
    maxAmount: row.max_amount === null ? null : Number(row.max_amount),
    providers: row.providers as ProviderName[],
    priority: row.priority,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toRuleObject(rule: RoutingRule) {
  return {
    id: rule.id,
    object: 'routing_rule' as const,
    merchant_id: rule.merchantId,
    livemode: rule.livemode,
    payment_method_type: rule.paymentMethodType,
    currency: rule.currency,
    min_amount: rule.minAmount,
    max_amount: rule.maxAmount,
    providers: rule.providers,
    priority: rule.priority,
    created: unixSeconds(rule.createdAt),
    updated: unixSeconds(rule.updatedAt),
  };
}
