// payctl payments list|search|show: payments across merchants for on-call (runbooks 002 and 004: "which
// payments are stuck", "which customers are affected", "what happened to this one"). "Pending for more
// than 30 minutes" is `payments list --status processing --older-than 30m`. Through the operator
// payments service in process, or GET /admin/payment_intents* over --url; no SQL here.
import type { Command } from 'commander';
import qs from 'qs';
import type { z } from 'zod';
import { listParams } from '../http/pagination.js';
import { integer } from '../http/params.js';
import {
  type OperatorListInput,
  type OperatorPayment,
  operatorPaymentFilters,
  operatorSearchFields,
} from '../modules/payments/operator-payments.js';
import type { OperatorPaymentsService } from '../modules/payments/operator-payments.service.js';
import { instant } from '../modules/webhooks-out/webhooks-admin.js';
import { type Globals, inProcess, parseOption, remoteClient, UsageError } from './context.js';
import { printJson, printTable } from './output.js';

interface FilterOptions {
  status?: string;
  provider?: string;
  olderThan?: string;
  customer?: string;
  merchant?: string;
  currency?: string;
  amount?: string;
  minAmount?: string;
  maxAmount?: string;
  from?: string;
  to?: string;
  live?: boolean;
  test?: boolean;
  limit?: string;
}

function filterOptions(command: Command): Command {
  return command
    .option(
      '--status <status>',
      'requires_payment_method, requires_action, processing, requires_capture, succeeded, canceled, ...',
    )
    .option('--provider <provider>', 'stripe, paypal or wallet: any attempt of the payment went there')
    .option('--older-than <duration>', 'created more than this long ago: 30m, 2h, 7d')
    .option('--customer <id>', 'the customer (cus_...)')
    .option('--merchant <id>', 'the merchant (acct_...)')
    .option('--currency <code>', 'usd, eur, ...')
    .option('--amount <minor>', 'exactly this amount, in minor units')
    .option('--min-amount <minor>', 'at least this amount, in minor units')
    .option('--max-amount <minor>', 'at most this amount, in minor units')
    .option('--from <time>', 'created at or after: ISO 8601 or Unix seconds')
    .option('--to <time>', 'created at or before: ISO 8601 or Unix seconds')
    .option('--live', 'live mode only')
    .option('--test', 'test mode only')
    .option('--limit <n>', 'how many (1 to 100, default 20)');
}

const optional = <S extends z.ZodType>(schema: S, value: string | undefined, flag: string) =>
  value === undefined ? undefined : (parseOption(schema, value, flag) as z.output<S>);

/** The flags as the API's filters, each validated with the API's own schema and named by its flag. */
function filtersOf(o: FilterOptions) {
  if (o.live && o.test) throw new UsageError('--live and --test exclude each other');
  if (o.amount !== undefined && (o.minAmount !== undefined || o.maxAmount !== undefined)) {
    throw new UsageError('--amount excludes --min-amount and --max-amount');
  }
  const bound = (value: string | undefined, flag: string) =>
    optional(
      integer('an amount in minor units').refine((n) => n >= 0, 'must not be negative'),
      value,
      flag,
    );
  const min = bound(o.minAmount, '--min-amount');
  const max = bound(o.maxAmount, '--max-amount');
  const from = optional(instant(), o.from, '--from');
  const to = optional(instant(), o.to, '--to');
  if (from && to && from > to) throw new UsageError('--from must not be after --to');
  const seconds = (date: Date | undefined) => (date ? Math.floor(date.getTime() / 1000) : undefined);
  return {
    status: optional(operatorPaymentFilters.status, o.status, '--status'),
    provider: optional(operatorPaymentFilters.provider, o.provider, '--provider'),
    older_than: optional(operatorPaymentFilters.older_than, o.olderThan, '--older-than'),
    customer: o.customer,
    merchant: o.merchant,
    currency: optional(operatorPaymentFilters.currency, o.currency, '--currency'),
    livemode: o.live ? true : o.test ? false : undefined,
    amount:
      o.amount !== undefined
        ? bound(o.amount, '--amount')
        : min !== undefined || max !== undefined
          ? { gte: min, lte: max }
          : undefined,
    created: from || to ? { gte: seconds(from), lte: seconds(to) } : undefined,
    limit: optional(listParams.limit, o.limit, '--limit'),
  } satisfies OperatorListInput;
}

const query = (input: object) => qs.stringify(input, { skipNulls: true, encodeValuesOnly: true });

interface PaymentList {
  data: OperatorPayment[];
  has_more: boolean;
  next_page?: string | null;
}

function printPayments(g: Globals, list: PaymentList, more: (list: PaymentList) => string): void {
  if (g.json) {
    printJson(list);
    return;
  }
  printTable(
    list.data.map((p) => ({ ...p, mode: p.livemode ? 'live' : 'test', created: isoTime(p.created) })),
    [
      'id',
      'merchant',
      'mode',
      'status',
      'amount',
      'currency',
      'provider',
      'customer',
      'last_error',
      'created',
    ],
  );
  if (list.has_more) console.log(`More: ${more(list)}`);
}

const isoTime = (unix: number | null | undefined) =>
  unix === null || unix === undefined ? null : new Date(unix * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

async function operatorPayments<R>(
  g: Globals,
  path: string,
  local: (payments: OperatorPaymentsService) => Promise<R>,
): Promise<R> {
  if (g.url) return remoteClient(g).request<R>('GET', path);
  return inProcess(g.config, ({ services }) => local(services.operatorPayments));
}

type Detail = Awaited<ReturnType<OperatorPaymentsService['show']>>;

function printDetail(g: Globals, detail: Detail): void {
  if (g.json) {
    printJson(detail);
    return;
  }
  const p = detail.payment_intent;
  console.log(
    `${p.id}  ${p.status}  ${p.amount} ${p.currency}  merchant ${detail.merchant} (${p.livemode ? 'live' : 'test'})` +
      `  customer ${p.customer ?? '-'}  created ${isoTime(p.created)}`,
  );
  if (p.last_payment_error)
    console.log(`last error: ${p.last_payment_error.code}: ${p.last_payment_error.message}`);
  const section = (title: string, rows: Record<string, unknown>[], columns: string[]) => {
    console.log(`\n${title}`);
    if (rows.length === 0) console.log('(none)');
    else printTable(rows, columns);
  };
  section(
    'Attempts',
    detail.attempts.map((a) => ({ ...a, error: a.error?.code ?? null, created: isoTime(a.created) })),
    [
      'id',
      'provider',
      'status',
      'phase',
      'amount',
      'latency_ms',
      'error',
      'charge',
      'provider_payment_id',
      'created',
    ],
  );
  section(
    'Charges',
    detail.charges.map((c) => ({ ...c, created: isoTime(c.created) })),
    ['id', 'status', 'amount', 'amount_captured', 'amount_refunded', 'disputed', 'failure_code', 'created'],
  );
  section(
    'Refunds',
    detail.refunds.map((r) => ({ ...r, created: isoTime(r.created) })),
    ['id', 'status', 'amount', 'reason', 'charge', 'failure_reason', 'created'],
  );
  section(
    'Events',
    detail.events.map((e) => ({
      ...e,
      object_id: (e.data.object as { id?: string } | undefined)?.id ?? null,
      created: isoTime(e.created),
    })),
    ['id', 'type', 'object_id', 'created'],
  );
}

export function registerPaymentCommands(program: Command, globals: () => Globals): void {
  const payments = program
    .command('payments')
    .description('Payments across merchants: list and search with on-call filters, show one in full');

  filterOptions(
    payments
      .command('list')
      .description('Payments newest first; e.g. stuck ones: --status processing --older-than 30m'),
  )
    .option('--starting-after <id>', 'the last id of the previous page')
    .action(async (options: FilterOptions & { startingAfter?: string }) => {
      const g = globals();
      const input = { ...filtersOf(options), starting_after: options.startingAfter };
      const list = await operatorPayments(g, `/admin/payment_intents?${query(input)}`, (service) =>
        service.list(input),
      );
      printPayments(g, list, (l) => `--starting-after ${l.data.at(-1)?.id}`);
    });

  filterOptions(
    payments
      .command('search <query>')
      .description(
        "Stripe's search language across merchants, e.g. \"metadata['order_id']:'6735'\" or \"status:'succeeded' AND currency:'eur'\", plus the list filters",
      ),
  )
    .option('--page <page>', 'the next page a previous search printed')
    .action(async (text: string, options: FilterOptions & { page?: string }) => {
      const g = globals();
      const input = {
        ...filtersOf(options),
        query: parseOption(operatorSearchFields.query.min(1, 'must not be empty'), text, '<query>'),
        page: optional(operatorSearchFields.page.unwrap(), options.page, '--page'),
      };
      const list = await operatorPayments(g, `/admin/payment_intents/search?${query(input)}`, (service) =>
        service.search(input),
      );
      printPayments(g, list, (l) => `--page ${l.next_page}`);
    });

  payments
    .command('show <payment_intent>')
    .description('One payment with its merchant, attempts, charges, refunds and events')
    .action(async (id: string) => {
      const g = globals();
      if (!/^pi_\w+$/.test(id))
        throw new UsageError(`<payment_intent>: must be a payment intent id (pi_...), got ${id}`);
      const detail = await operatorPayments(
        g,
        `/admin/payment_intents/${encodeURIComponent(id)}`,
        (service) => service.show(id),
      );
      printDetail(g, detail);
    });
}
