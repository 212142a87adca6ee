// Owns talking HTTP to PayPal's REST API (or an emulator at PAYPAL_API_BASE) with plain fetch: the
// OAuth2 client-credentials token (cached until shortly before it expires, one refresh in flight that
// concurrent callers share, one retry with a fresh token on a 401), the headers every call carries
// (PayPal-Request-Id on POSTs, Prefer: return=representation) and one deadline over the whole call.
// It throws typed errors (PayPalHttpError, PayPalCallError) that paypal.errors.ts turns into outcomes;
// PayPalCallError records whether the API request itself had been sent, which is what separates
// "no charge" from "unknown".
import type { Clock } from '../../clock.js';
import { withDeadline } from '../resilience.js';

/** Token requests retried after a 5xx or a broken connection, and the pause before the first retry. */
const TOKEN_RETRIES = 2;
const TOKEN_RETRY_DELAY_MS = 50;

/** Refresh this long before PayPal's `expires_in` runs out, so a token never expires mid-call. */
const TOKEN_EARLY_REFRESH_MS = 60_000;
/** Responses larger than this are not PayPal's answer to anything we ask; refuse to buffer them. */
const MAX_RESPONSE_BYTES = 1_048_576;

export interface PayPalClientOptions {
  clientId: string;
  clientSecret: string;
  /** `scheme://host[:port]`, e.g. https://api-m.paypal.com or an emulator's URL. */
  apiBase: string;
  timeoutMs: number;
  clock: Clock;
}

/** PayPal's error body: `{ name, message, debug_id, details[] }`, or OAuth's `{ error, error_description }`. */
export interface PayPalErrorBody {
  name?: string;
  message?: string;
  debug_id?: string;
  details?: { issue?: string; description?: string; field?: string }[];
  error?: string;
  error_description?: string;
}

/** A non-2xx answer from PayPal: the request reached PayPal, which answered it. */
export class PayPalHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: PayPalErrorBody | undefined,
    readonly headers: Headers,
    /** Whether the answer came from the OAuth token endpoint (before the API call was made). */
    readonly duringToken: boolean,
  ) {
    super(describeError(status, body));
    this.name = 'PayPalHttpError';
  }

  /** PayPal's issue codes (`INSTRUMENT_DECLINED`, `DECIMAL_PRECISION`, ...), with the error name. */
  get issues(): string[] {
    return (this.body?.details ?? []).map((detail) => detail.issue ?? '').filter(Boolean);
  }
}

/** No answer: the socket failed, or the deadline passed. `sent` says whether the API request went out. */
export class PayPalCallError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly sent: boolean,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'PayPalCallError';
  }
}

function describeError(status: number, body: PayPalErrorBody | undefined): string {
  if (!body) return `PayPal answered ${status}`;
  const name = body.name ?? body.error ?? String(status);
  const text = body.message ?? body.error_description ?? '';
  const issues = (body.details ?? [])
    .map((detail) => [detail.issue, detail.description].filter(Boolean).join(': '))
    .filter(Boolean);
  return `${name} (${status})${text ? `: ${text}` : ''}${issues.length ? ` [${issues.join('; ')}]` : ''}`;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new Error(`PayPal answered ${text.length} bytes`);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface PayPalRequest {
  method: 'GET' | 'POST';
  path: string;
  /** JSON, or FormData for PayPal's multipart calls (evidence with files). */
  body?: unknown;
  /** PayPal-Request-Id: PayPal replays the first answer for a repeated id instead of acting twice. */
  requestId?: string;
  /** For error messages and the deadline: `capture order`, `create order`... */
  operation: string;
}

export interface PayPalResponse<T> {
  status: number;
  body: T;
}

interface CachedToken {
  value: string;
  expiresAtMs: number;
}

export class PayPalClient {
  private token: CachedToken | undefined;
  private refreshing: Promise<string> | undefined;
  private readonly base: string;

  constructor(private readonly options: PayPalClientOptions) {
    this.base = options.apiBase.replace(/\/$/, '');
  }

  /** One call with its deadline; throws PayPalHttpError or PayPalCallError. */
  async request<T>(request: PayPalRequest, timeoutMs = this.options.timeoutMs): Promise<PayPalResponse<T>> {
    const progress = { sent: false };
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await withDeadline(`PayPal ${request.operation}`, timeoutMs, () =>
        this.authorized<T>(request, progress, signal),
      );
    } catch (error) {
      if (error instanceof PayPalHttpError || error instanceof PayPalCallError) throw error;
      // A deadline or an abort: whether it may have charged depends on whether the call was sent.
      throw new PayPalCallError(error, progress.sent);
    }
  }

  private async authorized<T>(
    request: PayPalRequest,
    progress: { sent: boolean },
    signal: AbortSignal,
  ): Promise<PayPalResponse<T>> {
    const token = await this.accessToken();
    try {
      return await this.send<T>(request, token, progress, signal);
    } catch (error) {
      // PayPal checks the token before it does anything, so a 401 proves the call did not execute:
      // once, with a fresh token (the cached one may have been revoked or expired early).
      if (!(error instanceof PayPalHttpError) || error.status !== 401) throw error;
      if (this.token?.value === token) this.token = undefined;
      const fresh = await this.accessToken();
      return this.send<T>(request, fresh, progress, signal);
    }
  }

  private async send<T>(
    request: PayPalRequest,
    token: string,
    progress: { sent: boolean },
    signal: AbortSignal,
  ): Promise<PayPalResponse<T>> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
    };
    // A FormData body (dispute evidence with files) is sent as multipart; fetch writes its boundary.
    const form = request.body instanceof FormData ? request.body : undefined;
    if (request.method === 'POST') {
      if (!form) headers['content-type'] = 'application/json';
      headers.prefer = 'return=representation';
      if (request.requestId) headers['paypal-request-id'] = request.requestId;
    }
    let response: Response;
    try {
      progress.sent = true;
      response = await fetch(`${this.base}${request.path}`, {
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: form ?? JSON.stringify(request.body) }),
        signal,
      });
    } catch (error) {
      throw new PayPalCallError(error, true);
    }
    let body: unknown;
    try {
      body = await readBody(response);
    } catch (error) {
      // An answer that could not be read: the call was made, its outcome is not known.
      throw new PayPalCallError(error, true);
    }
    if (!response.ok) {
      throw new PayPalHttpError(
        response.status,
        body as PayPalErrorBody | undefined,
        response.headers,
        false,
      );
    }
    return { status: response.status, body: body as T };
  }

  /** The cached token, or the one refresh in flight, or a new refresh that concurrent callers share. */
  accessToken(): Promise<string> {
    const now = this.options.clock.now().getTime();
    if (this.token && now < this.token.expiresAtMs) return Promise.resolve(this.token.value);
    this.refreshing ??= this.fetchToken().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /**
   * One shared refresh serves every waiting call, so a single failed token request would fail them all
   * (and count against the circuit as many failures). A token request moves no money and may be sent
   * again: a 5xx or a broken connection is retried twice, briefly, within the call's timeout.
   */
  private async fetchToken(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.fetchTokenOnce();
      } catch (error) {
        const transient =
          error instanceof PayPalCallError || (error instanceof PayPalHttpError && error.status >= 500);
        if (!transient || attempt >= TOKEN_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, TOKEN_RETRY_DELAY_MS * (attempt + 1)));
      }
    }
  }

  private async fetchTokenOnce(): Promise<string> {
    const { clientId, clientSecret } = this.options;
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    let response: Response;
    let body: unknown;
    try {
      // The shared refresh must not die with the first caller's signal: it has its own timeout.
      const timeout = AbortSignal.timeout(this.options.timeoutMs);
      response = await fetch(`${this.base}/v1/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
        signal: timeout,
      });
      body = await readBody(response);
    } catch (error) {
      throw new PayPalCallError(error, false);
    }
    if (!response.ok) {
      throw new PayPalHttpError(response.status, body as PayPalErrorBody | undefined, response.headers, true);
    }
    const token = body as { access_token?: unknown; expires_in?: unknown };
    if (typeof token.access_token !== 'string' || token.access_token === '') {
      throw new PayPalHttpError(502, { name: 'INVALID_TOKEN_RESPONSE' }, response.headers, true);
    }
    const expiresInMs = (typeof token.expires_in === 'number' ? token.expires_in : 0) * 1000;
    const now = this.options.clock.now().getTime();
    this.token = {
      value: token.access_token,
      // A token that lives less than the early-refresh window is used for half its life.
      expiresAtMs: now + Math.max(expiresInMs - TOKEN_EARLY_REFRESH_MS, expiresInMs / 2),
    };
    return token.access_token;
  }
}
