// Owns reading PayPal's transaction search (`GET /v1/reporting/transactions`) for reconciliation, within
// its real limits: a window of at most 31 days (longer ones are cut into 31-day pieces), at most 10,000
// rows per query (RESULTSET_TOO_LARGE: the piece is halved and asked again), at most 500 rows a page.
// Captures (event code T0006) become ProviderRecords; a page is handed on before the next is asked for.
// Rows appear up to 3 h after the fact: the caller keeps our side of the window behind that delay.
import type { ProviderRecord } from '../provider.js';
import { type PayPalClient, PayPalHttpError } from './paypal.client.js';
import { minorUnits } from './paypal.transformers.js';
import type { PayPalMoney } from './paypal.types.js';

const MAX_WINDOW_MS = 31 * 86_400_000;
const PAGE_SIZE = 500;
/** A piece this short that still has too many rows cannot be cut further usefully. */
const MIN_PIECE_MS = 1_000;

interface TransactionInfo {
  transaction_id: string;
  paypal_reference_id?: string;
  transaction_event_code?: string;
  transaction_initiation_date?: string;
  transaction_amount?: PayPalMoney;
  transaction_status?: string;
  custom_field?: string;
  invoice_id?: string;
}

interface SearchPage {
  transaction_details?: { transaction_info?: TransactionInfo }[];
  total_pages?: number;
}

const CAPTURE = 'T0006';

function toRecord(info: TransactionInfo): ProviderRecord | undefined {
  if (info.transaction_event_code !== CAPTURE || !info.paypal_reference_id) return undefined;
  const amount = minorUnits(info.transaction_amount);
  if (amount === undefined) return undefined;
  const status = info.transaction_status;
  return {
    providerPaymentId: info.paypal_reference_id,
    providerChargeId: info.transaction_id,
    status: status === 'S' ? 'succeeded' : status === 'D' || status === 'V' ? 'failed' : 'pending',
    amount,
    // Refunds are rows of their own and disputes are not in the search: not compared for PayPal.
    amountRefunded: null,
    disputed: null,
    currency: (info.transaction_amount?.currency_code ?? '').toLowerCase(),
    createdAt: new Date(info.transaction_initiation_date ?? 0),
    claimedPaymentIntentId: info.invoice_id ?? null,
    claimedMerchantId: null,
  };
}

function tooLarge(error: unknown): boolean {
  return (
    error instanceof PayPalHttpError &&
    error.status === 400 &&
    (error.body?.name === 'RESULTSET_TOO_LARGE' || /RESULTSET_TOO_LARGE/.test(error.message))
  );
}

async function searchPage(client: PayPalClient, from: Date, to: Date, page: number): Promise<SearchPage> {
  const query = new URLSearchParams({
    start_date: from.toISOString(),
    end_date: to.toISOString(),
    fields: 'transaction_info',
    page_size: String(PAGE_SIZE),
    page: String(page),
  });
  const { body } = await client.request<SearchPage>({
    method: 'GET',
    path: `/v1/reporting/transactions?${query}`,
    operation: 'search transactions',
  });
  return body ?? {};
}

/** One piece of at most 31 days, halved while PayPal says it holds more than 10,000 rows. */
async function* piece(client: PayPalClient, from: Date, to: Date): AsyncIterable<ProviderRecord[]> {
  let first: SearchPage;
  try {
    first = await searchPage(client, from, to, 1);
  } catch (error) {
    if (!tooLarge(error) || to.getTime() - from.getTime() <= MIN_PIECE_MS) throw error;
    const middle = new Date(Math.floor((from.getTime() + to.getTime()) / 2));
    yield* piece(client, from, middle);
    // PayPal's end_date is inclusive: the second half starts a millisecond later.
    yield* piece(client, new Date(middle.getTime() + 1), to);
    return;
  }
  const pages = Math.max(1, first.total_pages ?? 1);
  for (let page = 1; page <= pages; page++) {
    const body = page === 1 ? first : await searchPage(client, from, to, page);
    const records = (body.transaction_details ?? [])
      .map((row) => (row.transaction_info ? toRecord(row.transaction_info) : undefined))
      .filter((record): record is ProviderRecord => record !== undefined);
    if (records.length > 0) yield records;
  }
}

/** Captures initiated in [from, to), cut into pieces PayPal accepts. */
export async function* paypalCaptureRecords(
  client: PayPalClient,
  from: Date,
  to: Date,
): AsyncIterable<ProviderRecord[]> {
  for (let start = from.getTime(); start < to.getTime(); start += MAX_WINDOW_MS) {
    const end = Math.min(start + MAX_WINDOW_MS, to.getTime()) - 1;
    yield* piece(client, new Date(start), new Date(end));
  }
}
