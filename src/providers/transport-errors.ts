// What every HTTP connector needs to tell "never sent" from "maybe executed" (DESIGN section 6): the
// socket error codes that prove no request bytes reached the provider, found wherever Node or the SDK
// nested them, and the provider's Retry-After as milliseconds.
import type { NoChargeReason } from './provider.js';

/** Socket errors that prove no request bytes reached the server. */
const BEFORE_SEND: Readonly<Record<string, NoChargeReason>> = {
  ECONNREFUSED: 'connection_refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  // TLS verification fails during the handshake, before the HTTP request is written.
  CERT_HAS_EXPIRED: 'tls',
  CERT_NOT_YET_VALID: 'tls',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tls',
};

/** The socket error codes under an error (Node and undici nest them: cause, exception, AggregateError). */
export function socketCodesOf(error: unknown, depth = 0): string[] {
  if (!error || typeof error !== 'object' || depth > 4) return [];
  const node = error as { code?: unknown; cause?: unknown; exception?: unknown; errors?: unknown };
  const own = typeof node.code === 'string' ? [node.code] : [];
  const nested = [node.cause, node.exception, ...(Array.isArray(node.errors) ? node.errors : [])];
  return [...own, ...nested.flatMap((inner) => socketCodesOf(inner, depth + 1))];
}

/** A no-charge reason only when every code found says the request was never sent. */
export function neverSentReason(error: unknown): NoChargeReason | null {
  const codes = socketCodesOf(error);
  if (codes.length === 0) return null;
  const reasons = new Set(codes.map((code) => BEFORE_SEND[code]));
  if (reasons.has(undefined) || reasons.size !== 1) return null;
  return [...reasons][0] ?? null;
}

/** Retry-After is seconds or an HTTP date; milliseconds from `nowMs`, or undefined when absent. */
export function retryAfterFrom(value: string | null | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
