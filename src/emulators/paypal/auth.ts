// Owns PayPal's OAuth 2.0 client-credentials flow. Any client id and secret pair is an account (the
// pair names it, as a Stripe test key names one), except live client ids, refused as a sandbox
// refuses them. Access tokens are self-contained and HMAC-signed with the emulator's token key, so they
// expire on the emulator clock and stay valid across a restart with the same data folder.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../../ids.js';
import { randomToken } from '../shared/random-id.js';

export const TOKEN_LIFETIME_SECONDS = 32_400;

export interface Caller {
  /** The merchant (payee) id of the account, 13 upper-case characters as PayPal's are. */
  account: string;
  clientId: string;
  /** Advanced card processing ("ACDC") enabled: off when the client id contains `noacdc`. */
  acdc: boolean;
}

interface TokenPayload {
  a: string;
  c: string;
  e: number;
}

export function accountOf(clientId: string, secret: string): string {
  return sha256Hex(`${clientId}:${secret}`).slice(0, 13).toUpperCase();
}

function mac(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export type TokenAnswer = { status: number; body: Record<string, unknown> };

const INVALID_CLIENT: TokenAnswer = {
  status: 401,
  body: { error: 'invalid_client', error_description: 'Client Authentication failed' },
};

/** POST /v1/oauth2/token: HTTP Basic client id and secret, `grant_type=client_credentials`. */
export function issueToken(
  authorization: string | undefined,
  grantType: unknown,
  key: Buffer,
  now: Date,
): TokenAnswer {
  const [scheme, value] = (authorization ?? '').split(' ', 2);
  if (scheme?.toLowerCase() !== 'basic' || !value) return INVALID_CLIENT;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const clientId = colon > 0 ? decoded.slice(0, colon) : '';
  const secret = colon > 0 ? decoded.slice(colon + 1) : '';
  if (!clientId || !secret || clientId.length > 200 || secret.length > 200) return INVALID_CLIENT;
  if (clientId.toLowerCase().startsWith('live')) return INVALID_CLIENT;
  if (grantType !== 'client_credentials') {
    return {
      status: 400,
      body: {
        error: 'unsupported_grant_type',
        error_description: grantType
          ? `Grant Type ${String(grantType)} is not supported`
          : 'Grant Type is NULL',
      },
    };
  }
  const payload = Buffer.from(
    JSON.stringify({
      a: accountOf(clientId, secret),
      c: clientId,
      e: Math.floor(now.getTime() / 1000) + TOKEN_LIFETIME_SECONDS,
    } satisfies TokenPayload),
  ).toString('base64url');
  return {
    status: 200,
    body: {
      scope:
        'https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund https://uri.paypal.com/services/reporting/search/read https://uri.paypal.com/services/disputes/read-seller https://uri.paypal.com/services/disputes/update-seller',
      access_token: `A21AA${payload}.${mac(key, payload)}`,
      token_type: 'Bearer',
      app_id: `APP-${accountOf(clientId, 'app').slice(0, 12)}`,
      expires_in: TOKEN_LIFETIME_SECONDS,
      nonce: `${now.toISOString().slice(0, 19)}Z${randomToken(43)}`,
    },
  };
}

/** The caller of a Bearer token, or null when it is missing, forged or expired on the emulator clock. */
export function authenticate(authorization: string | undefined, key: Buffer, now: Date): Caller | null {
  const [scheme, token] = (authorization ?? '').split(' ', 2);
  if (scheme?.toLowerCase() !== 'bearer' || !token?.startsWith('A21AA')) return null;
  const [payload, signature] = token.slice(5).split('.', 2);
  if (!payload || !signature) return null;
  const expected = Buffer.from(mac(key, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  let parsed: TokenPayload;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenPayload;
  } catch {
    return null;
  }
  if (parsed.e * 1000 <= now.getTime()) return null;
  return { account: parsed.a, clientId: parsed.c, acdc: !parsed.c.toLowerCase().includes('noacdc') };
}
