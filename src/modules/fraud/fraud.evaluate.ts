// The rules' verdicts on one confirmation, from what it carries (its signals) and what the check history
// says about its card, IP and customer. Pure: the service reads the history in one statement and
// stores the outcome; this decides. Several rules may fire; the payment gets the strongest action
// (block, then review, then 3-D Secure), and every rule that fired is recorded and counted.
import type { Scope } from '../../http/expand.js';
import type { ActiveRules, RuleId } from './fraud.js';
import type { BlocklistKind, FraudAction } from './fraud.table.js';
import { distanceKm, type Location } from './geo.js';

export interface FraudSignals {
  scope: Scope;
  paymentIntentId: string;
  amount: number;
  currency: string;
  customerId: string | null;
  cardFingerprint: string | null;
  email: string | null;
  shopperIp: string | null;
  location: Location | null;
}

/** What the history holds about this confirmation's card, IP and customer (counts are capped). */
export interface FraudHistory {
  blocklisted: BlocklistKind | null;
  cardPayments: number;
  previousLocation: { latitude: number; longitude: number } | null;
  ipDeclines: number;
  customerDeclines: number;
}

export interface TriggeredRule {
  id: RuleId;
  action: FraudAction;
  /** Why, in words an operator reads (no personal data: counts, distances, kinds). */
  reason: string;
}

export type FraudVerdict = 'allow' | FraudAction;

const STRENGTH: Record<FraudVerdict, number> = { allow: 0, request_three_d_secure: 1, review: 2, block: 3 };

export function strongest(triggered: readonly TriggeredRule[]): FraudVerdict {
  let verdict: FraudVerdict = 'allow';
  for (const rule of triggered) if (STRENGTH[rule.action] > STRENGTH[verdict]) verdict = rule.action;
  return verdict;
}

export function triggeredRules(
  rules: ActiveRules,
  signals: FraudSignals,
  history: FraudHistory,
): TriggeredRule[] {
  const fired: TriggeredRule[] = [];
  const fire = (id: RuleId, action: FraudAction, reason: string) => fired.push({ id, action, reason });
  if (rules.blocklist && history.blocklisted) {
    fire('blocklist', rules.blocklist.action, `The ${history.blocklisted} is on the blocklist.`);
  }
  const limits = rules.amount_limit?.thresholds;
  if (rules.amount_limit && limits) {
    const limit =
      limits.merchant_limits[signals.scope.merchantId]?.[signals.currency] ??
      limits.default_limits[signals.currency];
    if (limit !== undefined && signals.amount > limit) {
      fire(
        'amount_limit',
        rules.amount_limit.action,
        `The amount ${signals.amount} ${signals.currency} is above the limit of ${limit}.`,
      );
    }
  }
  const testing = rules.card_testing?.thresholds;
  if (rules.card_testing && testing) {
    const declines = Math.max(history.ipDeclines, history.customerDeclines);
    if (declines >= testing.max_declines) {
      const from = history.ipDeclines >= history.customerDeclines ? 'shopper IP' : 'customer';
      fire(
        'card_testing',
        rules.card_testing.action,
        `${declines} declined payments from this ${from} within ${testing.window_seconds} s.`,
      );
    }
  }
  const velocity = rules.card_velocity?.thresholds;
  if (rules.card_velocity && velocity && history.cardPayments >= velocity.max_payments) {
    fire(
      'card_velocity',
      rules.card_velocity.action,
      `More than ${velocity.max_payments} payments with this card within ${velocity.window_seconds} s.`,
    );
  }
  const geo = rules.geo_anomaly?.thresholds;
  if (rules.geo_anomaly && geo && signals.location && history.previousLocation) {
    const km = distanceKm(history.previousLocation, signals.location);
    if (km > geo.max_distance_km) {
      fire(
        'geo_anomaly',
        rules.geo_anomaly.action,
        `The shopper is ${Math.round(km)} km from this card's previous payment within ${geo.window_seconds} s.`,
      );
    }
  }
  return fired;
}
