// Owns API key checks. Any test-mode key is accepted and names its own account (the same secret part
// gives the same account, so sk_test_X and pk_test_X share one); live keys are refused because this is
// a sandbox, the way a live key is refused by a test-only Stripe account.
import { sha256Hex } from '../../ids.js';
import { authenticationError, type StripeApiError } from './errors.js';

export interface Caller {
  account: string;
  publishable: boolean;
}

const accounts = new Map<string, string>();

function keyFrom(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(' ', 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === 'bearer') return value.trim();
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.split(':', 1)[0] ?? null;
  }
  return null;
}

function redact(key: string): string {
  return key.length > 12
    ? `${key.slice(0, 8)}${'*'.repeat(Math.min(key.length - 12, 20))}${key.slice(-4)}`
    : '****';
}

export function authenticate(header: string | undefined): Caller | StripeApiError {
  const key = keyFrom(header);
  if (!key) {
    return authenticationError(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    );
  }
  const match = /^(sk|rk|pk)_(test|live)_([A-Za-z0-9_]{1,240})$/.exec(key);
  if (!match) return authenticationError(`Invalid API Key provided: ${redact(key)}`);
  if (match[2] === 'live') {
    return authenticationError(
      `Invalid API Key provided: ${redact(key)}. This Stripe emulator is a sandbox: use a test-mode key (sk_test_...).`,
    );
  }
  const secret = match[3]!;
  let account = accounts.get(secret);
  if (!account) {
    account = `acct_${sha256Hex(secret).slice(0, 16)}`;
    if (accounts.size < 10_000) accounts.set(secret, account);
  }
  return { account, publishable: match[1] === 'pk' };
}
