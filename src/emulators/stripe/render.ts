// Owns turning records into Stripe's JSON: one renderer per type and `expand[]`, which replaces an id
// at a dotted path (`latest_charge.balance_transaction`, `data.payment_method` on lists) with the
// object, within the caller's account only.
import type { FileRecord, StoredRecord } from './records.js';
import { typeOfId } from './records.js';
import { renderBalanceTransaction, renderDispute, renderEvent, renderRefund } from './render-money.js';
import { renderCharge, renderPaymentIntent, renderPaymentMethod } from './render-payments.js';
import type { StripeStore } from './store.js';

export interface RenderContext {
  store: StripeStore;
  now: number;
  baseUrl: string;
  /** Shown on events: 1 while a webhook target is set, as Stripe counts endpoints still to deliver to. */
  pendingWebhooks: number;
}

export type Wire = Record<string, unknown>;

export function renderRecord(record: StoredRecord, context: RenderContext): Wire {
  switch (record.object) {
    case 'payment_method':
      return renderPaymentMethod(record);
    case 'payment_intent':
      return renderPaymentIntent(record);
    case 'charge':
      return renderCharge(record, context);
    case 'refund':
      return renderRefund(record, context);
    case 'dispute':
      return renderDispute(record, context);
    case 'balance_transaction':
      return renderBalanceTransaction(record, context);
    case 'file':
      return renderFile(record);
    case 'event':
      return renderEvent(record, context);
  }
}

function renderFile(file: FileRecord): Wire {
  return {
    id: file.id,
    object: 'file',
    created: file.created,
    expires_at: null,
    filename: file.filename,
    links: { object: 'list', data: [], has_more: false, url: `/v1/file_links?file=${file.id}` },
    purpose: file.purpose,
    size: file.size,
    title: null,
    type: file.type,
    url: null,
  };
}

/** Applies each `expand[]` path to a rendered object (for lists, paths start with `data.`). */
export function expand(wire: Wire, paths: readonly string[], account: string, context: RenderContext): Wire {
  for (const path of paths) expandPath(wire, path.split('.'), account, context, 0);
  return wire;
}

const MAX_EXPAND_DEPTH = 4;

function expandPath(
  target: unknown,
  parts: string[],
  account: string,
  context: RenderContext,
  depth: number,
): void {
  if (depth >= MAX_EXPAND_DEPTH || parts.length === 0 || target === null || typeof target !== 'object')
    return;
  if (Array.isArray(target)) {
    for (const item of target) expandPath(item, parts, account, context, depth);
    return;
  }
  const [head, ...rest] = parts as [string, ...string[]];
  const object = target as Wire;
  let value = object[head];
  if (typeof value === 'string') {
    const type = typeOfId(value);
    const record = type ? context.store.get(type, value) : undefined;
    if (!record || record.account !== account) return;
    value = renderRecord(record, context);
    object[head] = value;
  }
  expandPath(value, rest, account, context, depth + 1);
}
