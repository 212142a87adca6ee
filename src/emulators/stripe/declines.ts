// Owns what the "card network" answers for each declining sandbox card: Stripe's error codes,
// decline codes, messages and charge outcomes.
import type { CardScenario } from './records.js';

/** The outcome a declining scenario produces at the processor: Stripe's codes and messages. */
export interface Decline {
  code: string;
  decline_code?: string;
  message: string;
  outcome: { network_status: string; reason: string | null; type: string; seller_message: string };
}

const issuerDeclined = (reason: string, seller: string) => ({
  network_status: 'declined_by_network',
  reason,
  type: 'issuer_declined',
  seller_message: seller,
});
const GENERIC_SELLER = 'The bank did not return any further details with this decline.';

export const DECLINES: Partial<Record<CardScenario, Decline>> = {
  decline: {
    code: 'card_declined',
    decline_code: 'generic_decline',
    message: 'Your card was declined.',
    outcome: issuerDeclined('generic_decline', GENERIC_SELLER),
  },
  insufficient_funds: {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
    outcome: issuerDeclined('insufficient_funds', GENERIC_SELLER),
  },
  processing_error: {
    code: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
    outcome: issuerDeclined('processing_error', GENERIC_SELLER),
  },
  expired_card: {
    code: 'expired_card',
    decline_code: 'expired_card',
    message: 'Your card has expired.',
    outcome: issuerDeclined('expired_card', 'The bank returned the decline code `expired_card`.'),
  },
  incorrect_cvc: {
    code: 'incorrect_cvc',
    decline_code: 'incorrect_cvc',
    message: "Your card's security code is incorrect.",
    outcome: issuerDeclined('incorrect_cvc', 'The bank returned the decline code `incorrect_cvc`.'),
  },
  lost_card: {
    code: 'card_declined',
    decline_code: 'lost_card',
    message: 'Your card was declined.',
    outcome: issuerDeclined('lost_card', 'The bank returned the decline code `lost_card`.'),
  },
  stolen_card: {
    code: 'card_declined',
    decline_code: 'stolen_card',
    message: 'Your card was declined.',
    outcome: issuerDeclined('stolen_card', 'The bank returned the decline code `stolen_card`.'),
  },
  fraudulent: {
    code: 'card_declined',
    decline_code: 'fraudulent',
    message: 'Your card was declined.',
    outcome: {
      network_status: 'not_sent_to_network',
      reason: 'highest_risk_level',
      type: 'blocked',
      seller_message: 'Stripe blocked this payment as too risky.',
    },
  },
  live_card: {
    code: 'card_declined',
    decline_code: 'test_mode_live_card',
    message: 'Your card was declined. Your request was in test mode, but used a non test (live) card.',
    outcome: {
      network_status: 'not_sent_to_network',
      reason: 'test_mode_live_card',
      type: 'invalid',
      seller_message: 'This charge request was in test mode, but did not use a Stripe test card number.',
    },
  },
};
