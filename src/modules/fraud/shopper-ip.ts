// The shopper's IP address of a payment: the one place payments and the fraud rules read it from, so
// the parameter's final home (an explicit payment intent column, issue 9) changes only this function.
// Never the merchant server's address: the request's own client IP is the merchant's backend.
import { normalizeIp } from './fraud.js';

interface IntentLike {
  shopper_ip?: string | null | undefined;
  extra?: unknown;
}

interface ConfirmLike {
  shopper_ip?: string | null | undefined;
}

/**
 * In order: `shopper_ip` sent with this confirmation, the intent's `shopper_ip` (a column once there is
 * one; stored in `extra` by create and update until then), then Stripe's
 * `mandate_data[customer_acceptance][online][ip_address]` if an intent carries it.
 */
export function shopperIpOf(intent: IntentLike, input: ConfirmLike = {}): string | undefined {
  const extra = (intent.extra ?? {}) as {
    shopper_ip?: unknown;
    mandate_data?: { customer_acceptance?: { online?: { ip_address?: unknown } } };
  };
  const candidates = [
    input.shopper_ip,
    intent.shopper_ip,
    extra.shopper_ip,
    extra.mandate_data?.customer_acceptance?.online?.ip_address,
  ];
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && candidate !== '') return normalizeIp(candidate);
  }
  return undefined;
}
