// The PaymentIntent transition table: random walks never reach a forbidden state, final states are final,
// and a refused operation carries Stripe's payment_intent_unexpected_state error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/http/errors.js';
import {
  assertCanApply,
  canApply,
  canSettle,
  FINAL_STATUSES,
  OPERATIONS,
  type Operation,
  OUTCOMES,
  type Outcome,
  type PaymentIntentStatus,
  reachable,
  STATUSES,
} from '../src/modules/payments/payment-intent.states.js';

const steps = fc.array(
  fc.oneof(
    fc.record({
      kind: fc.constant('operation' as const),
      name: fc.constantFrom(...(Object.keys(OPERATIONS) as Operation[])),
    }),
    fc.record({
      kind: fc.constant('outcome' as const),
      name: fc.constantFrom(...(Object.keys(OUTCOMES) as Outcome[])),
    }),
  ),
  { maxLength: 40 },
);

describe('PaymentIntent states', () => {
  it('final states have no way out', () => {
    for (const status of FINAL_STATUSES) expect(reachable(status)).toEqual([]);
  });

  it('random sequences of operations and outcomes only ever follow the table', () => {
    fc.assert(
      fc.property(
        steps,
        fc.constantFrom<PaymentIntentStatus>('requires_payment_method', 'requires_confirmation'),
        (walk, start) => {
          let status: PaymentIntentStatus = start;
          let captured = false;
          for (const step of walk) {
            const allowed =
              step.kind === 'operation' ? canApply(step.name, status) : canSettle(step.name, status);
            if (!allowed) continue;
            const to = (
              step.kind === 'operation' ? OPERATIONS[step.name].to : OUTCOMES[step.name].to
            ) as readonly PaymentIntentStatus[];
            const next = to[to.length - 1] as PaymentIntentStatus;
            expect(FINAL_STATUSES.has(status)).toBe(false);
            expect(reachable(status)).toContain(next);
            if (status === 'succeeded') captured = true;
            status = next;
          }
          // Once money is captured the intent can never be canceled or go back to collecting a method.
          if (captured) expect(status).toBe('succeeded');
          expect(STATUSES).toContain(status);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never cancels a succeeded payment nor captures an uncaptured one twice', () => {
    expect(canApply('cancel', 'succeeded')).toBe(false);
    expect(canApply('capture', 'succeeded')).toBe(false);
    expect(canApply('confirm', 'canceled')).toBe(false);
    expect(canApply('capture', 'requires_capture')).toBe(true);
    expect(canSettle('declined', 'succeeded')).toBe(false);
    expect(canSettle('unknown', 'processing')).toBe(true);
  });

  it('refuses with payment_intent_unexpected_state, naming the state', () => {
    let error: unknown;
    try {
      assertCanApply('confirm', 'canceled', 'pi_123');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).toBody().error).toMatchObject({
      code: 'payment_intent_unexpected_state',
      payment_intent: { id: 'pi_123', status: 'canceled' },
    });
    expect((error as AppError).status).toBe(400);
  });
});
