// payctl refund <payment_intent> [--amount N] [--reason R]: an operator refunds a payment on its
// merchant's behalf (runbook 002's "issue refunds for duplicates"), through the refunds service, so every
// amount rule holds; audited as the operator's action (in process: the CLI user; over --url: the token's
// operator, via POST /admin/refunds).
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { operatorRefundFields } from '../modules/refunds/operator-refunds.service.js';
import type { RefundObject } from '../modules/refunds/refund-object.js';
import { type Globals, inProcess, parseOption, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';
import { RemoteError } from './remote.js';

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });

/**
 * POST /admin/refunds under an Idempotency-Key. When the answer is lost (the service unreachable or
 * failing), the key is printed: the same command with --idempotency-key then refunds at most once.
 */
async function remoteRefund(g: Globals, input: Record<string, unknown>, key: string): Promise<RefundObject> {
  try {
    return await remoteClient(g).request<RefundObject>('POST', '/admin/refunds', input, {
      'idempotency-key': key,
    });
  } catch (error) {
    if (!(error instanceof RemoteError) || error.status >= 500) {
      process.stderr.write(`payctl: to retry without refunding twice, add --idempotency-key ${key}\n`);
    }
    throw error;
  }
}

export function registerRefundCommands(program: Command, globals: () => Globals): void {
  program
    .command('refund <payment_intent>')
    .description("Refund a payment (any merchant's), fully or --amount of it; audited as your action")
    .option('--amount <minor>', 'in minor units (default: what remains refundable)')
    .option('--reason <reason>', 'duplicate, fraudulent or requested_by_customer')
    .option(
      '--idempotency-key <key>',
      'over --url: the same key again (after a timeout, say) never refunds twice (default: a new key, printed on failure)',
    )
    .action(
      async (
        paymentIntent: string,
        options: { amount?: string; reason?: string; idempotencyKey?: string },
      ) => {
        const g = globals();
        const input = {
          payment_intent: parseOption(
            operatorRefundFields.payment_intent.regex(/^pi_\w+$/, 'must be a payment intent id (pi_...)'),
            paymentIntent,
            '<payment_intent>',
          ),
          amount:
            options.amount === undefined
              ? undefined
              : parseOption(operatorRefundFields.amount.unwrap(), options.amount, '--amount'),
          reason:
            options.reason === undefined
              ? undefined
              : parseOption(operatorRefundFields.reason.unwrap(), options.reason, '--reason'),
        };
        const refund = g.url
          ? await remoteRefund(g, input, options.idempotencyKey ?? `payctl-refund-${randomUUID()}`)
          : await inProcess(g.config, ({ services }) => services.operatorRefunds.refund(input, cliActor()));
        if (g.json) printJson(refund);
        else {
          printTable(
            [refund as unknown as Record<string, unknown>],
            ['id', 'status', 'amount', 'currency', 'payment_intent', 'charge', 'reason', 'failure_reason'],
          );
        }
      },
    );
}
