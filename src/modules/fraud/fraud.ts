// Fraud rules as the admin API sees them: each rule's thresholds (one strict schema per rule, so a bad
// threshold is a 400 naming it), the inputs of the rule and blocklist routes, and the objects answered.
import { isIP } from 'node:net';
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { boolean, boundedInteger, text } from '../../http/params.js';
import type { BlocklistKind, FraudAction, FraudBlocklistRow, FraudRuleRow } from './fraud.table.js';

export const FRAUD_ACTIONS = ['block', 'review', 'request_three_d_secure'] as const;
export const BLOCKLIST_KINDS = ['card_fingerprint', 'email', 'ip_address'] as const;
export const RULE_IDS = [
  'blocklist',
  'amount_limit',
  'card_testing',
  'card_velocity',
  'geo_anomaly',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/** Windows are counted back from now over the check history; a day is the longest any rule looks. */
const windowSeconds = boundedInteger(60, 86_400);
const currencyLimits = z.record(
  z.string().regex(/^[a-z]{3}$/, { message: 'keys must be lowercase ISO 4217 currency codes' }),
  boundedInteger(1, 99_999_999_999),
);

export const THRESHOLD_SCHEMAS = {
  blocklist: z.strictObject({}),
  amount_limit: z.strictObject({
    default_limits: currencyLimits,
    merchant_limits: z.record(
      z.string().regex(/^acct_[A-Za-z0-9]+$/, { message: 'keys must be merchant ids (acct_...)' }),
      currencyLimits,
    ),
  }),
  card_testing: z.strictObject({ max_declines: boundedInteger(1, 100_000), window_seconds: windowSeconds }),
  card_velocity: z.strictObject({
    max_payments: boundedInteger(1, 1_000_000),
    window_seconds: windowSeconds,
  }),
  geo_anomaly: z.strictObject({ max_distance_km: boundedInteger(1, 20_050), window_seconds: windowSeconds }),
} as const;

export type Thresholds = { [K in RuleId]: z.output<(typeof THRESHOLD_SCHEMAS)[K]> };

/** A rule as the evaluation holds it (thresholds already checked against the rule's schema). */
export interface ActiveRules {
  blocklist?: RuleSetting<'blocklist'>;
  amount_limit?: RuleSetting<'amount_limit'>;
  card_testing?: RuleSetting<'card_testing'>;
  card_velocity?: RuleSetting<'card_velocity'>;
  geo_anomaly?: RuleSetting<'geo_anomaly'>;
}

export interface RuleSetting<K extends RuleId> {
  id: K;
  action: FraudAction;
  thresholds: Thresholds[K];
}

export const ruleIdSchema = z.enum(RULE_IDS);

/** POST /admin/fraud/rules/:id: fields left out keep their value; thresholds merge key by key. */
export const ruleUpdateFields = {
  enabled: boolean().optional(),
  action: z.enum(FRAUD_ACTIONS).optional(),
  thresholds: z.record(z.string(), z.unknown()).optional(),
};

export const blocklistFields = {
  kind: z.enum(BLOCKLIST_KINDS),
  value: text(512).min(1, { message: 'must not be empty' }),
  reason: text(500).optional(),
};

export const blocklistFilters = { kind: z.enum(BLOCKLIST_KINDS).optional() };

export function toRuleObject(row: FraudRuleRow) {
  return {
    id: row.id,
    object: 'fraud_rule' as const,
    description: row.description,
    enabled: row.enabled,
    action: row.action,
    thresholds: row.thresholds,
    updated: unixSeconds(row.updated_at),
    updated_by: row.updated_by,
  };
}

export function toBlocklistObject(row: FraudBlocklistRow) {
  return {
    id: row.id,
    object: 'fraud_blocklist_entry' as const,
    kind: row.kind,
    value: row.value,
    reason: row.reason,
    created: unixSeconds(row.created_at),
    created_by: row.created_by,
  };
}

/**
 * A blocklist value in the one form the evaluation compares: emails lowercased, IPs as Node prints
 * them (IPv6 lowercased), fingerprints as the payment method shows them. Undefined: not valid for kind.
 */
export function normalizeBlocklistValue(kind: BlocklistKind, value: string): string | undefined {
  const trimmed = value.trim();
  switch (kind) {
    case 'email':
      return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(trimmed) ? trimmed.toLowerCase() : undefined;
    case 'ip_address':
      return normalizeIp(trimmed);
    case 'card_fingerprint':
      return /^[A-Za-z0-9]{8,64}$/.test(trimmed) ? trimmed : undefined;
  }
}

/** An IPv4 or IPv6 address in canonical text, or undefined. IPv4-mapped IPv6 becomes the IPv4 form. */
export function normalizeIp(value: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(value);
  const address = mapped?.[1] ?? value;
  const version = isIP(address);
  if (version === 4) return address;
  if (version === 6) return address.toLowerCase();
  return undefined;
}
