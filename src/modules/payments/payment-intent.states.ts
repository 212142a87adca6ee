// The PaymentIntent state machine in one table (CONVENTIONS: transitions are data, not if chains).
// Operations a merchant asks for, and outcomes a provider reports, each list the states they may start
// from and the states they may lead to. Anything else is refused before any work is done.
import { AppError } from '../../http/errors.js';

export const STATUSES = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'succeeded',
  'canceled',
] as const;
export type PaymentIntentStatus = (typeof STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<PaymentIntentStatus> = new Set(['succeeded', 'canceled']);

interface Transition {
  from: readonly PaymentIntentStatus[];
  to: readonly PaymentIntentStatus[];
}

/** Merchant operations (API calls). */
export const OPERATIONS = {
  update: {
    from: ['requires_payment_method', 'requires_confirmation', 'requires_action'],
    to: ['requires_payment_method', 'requires_confirmation'],
  },
  confirm: {
    from: ['requires_payment_method', 'requires_confirmation', 'requires_action'],
    // Confirmation starts an attempt: the intent is processing until the provider's outcome is known.
    to: ['processing'],
  },
  capture: { from: ['requires_capture'], to: ['processing', 'succeeded'] },
  cancel: {
    from: ['requires_payment_method', 'requires_confirmation', 'requires_action', 'requires_capture'],
    to: ['canceled'],
  },
} as const satisfies Record<string, Transition>;
export type Operation = keyof typeof OPERATIONS;

/** Provider outcomes (attempt results, webhooks, reconciliation) and what each does to the intent. */
export const OUTCOMES = {
  authorized: { from: ['processing', 'requires_action'], to: ['requires_capture'] },
  succeeded: { from: ['processing', 'requires_action', 'requires_capture'], to: ['succeeded'] },
  action_required: { from: ['processing'], to: ['requires_action'] },
  declined: { from: ['processing', 'requires_action'], to: ['requires_payment_method'] },
  /** An unknown outcome keeps the intent processing until evidence settles it (invariant 3). */
  unknown: { from: ['processing'], to: ['processing'] },
  /** A provider voided an authorization (expiry, cancel at the provider). */
  voided: { from: ['requires_capture', 'processing', 'requires_action'], to: ['canceled'] },
} as const satisfies Record<string, Transition>;
export type Outcome = keyof typeof OUTCOMES;

export function canApply(operation: Operation, status: PaymentIntentStatus): boolean {
  return (OPERATIONS[operation].from as readonly PaymentIntentStatus[]).includes(status);
}

export function canSettle(outcome: Outcome, status: PaymentIntentStatus): boolean {
  return (OUTCOMES[outcome].from as readonly PaymentIntentStatus[]).includes(status);
}

const VERB: Record<Operation, string> = {
  update: 'update',
  confirm: 'confirm',
  capture: 'capture',
  cancel: 'cancel',
};

/** Stripe's error for an operation in the wrong state: 400 payment_intent_unexpected_state. */
export function assertCanApply(operation: Operation, status: PaymentIntentStatus, id: string): void {
  if (canApply(operation, status)) return;
  const allowed = OPERATIONS[operation].from.join(', ');
  throw new AppError(
    400,
    'invalid_request_error',
    'payment_intent_unexpected_state',
    `You cannot ${VERB[operation]} this PaymentIntent because it has a status of ${status}. ` +
      `It must be one of: ${allowed}.`,
    { payment_intent: { id, status }, shouldRetry: false },
  );
}

/** Every status any transition can reach, for property tests and documentation. */
export function reachable(from: PaymentIntentStatus): PaymentIntentStatus[] {
  const next = new Set<PaymentIntentStatus>();
  for (const table of [OPERATIONS, OUTCOMES] as const) {
    for (const transition of Object.values(table) as Transition[]) {
      if (transition.from.includes(from)) for (const to of transition.to) next.add(to);
    }
  }
  return [...next];
}
