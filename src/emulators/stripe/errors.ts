// Owns the Stripe error wire format: `{ error: { type, code, message, param, decline_code, ... } }`
// with Stripe's HTTP statuses and wording, so the official SDK raises the same typed errors
// (402 -> StripeCardError, type idempotency_error -> StripeIdempotencyError) as against Stripe.
export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'authentication_error'
  | 'rate_limit_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
  advice_code?: string;
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /**
     * Whether an idempotent replay returns this answer. Stripe saves a result only once the endpoint
     * has begun executing: validation errors leave the key free for a corrected request.
     */
    readonly saved = false,
  ) {
    super(body.message);
  }
}

function docUrl(code: string | undefined): string | undefined {
  return code ? `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}` : undefined;
}

export function invalidRequest(message: string, code?: string, param?: string, status = 400): StripeApiError {
  return new StripeApiError(status, {
    type: 'invalid_request_error',
    message,
    ...(code ? { code, doc_url: docUrl(code) } : {}),
    ...(param ? { param } : {}),
  });
}

export function missingParam(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, 'parameter_missing', param);
}

export function unknownParam(param: string): StripeApiError {
  return invalidRequest(`Received unknown parameter: ${param}`, 'parameter_unknown', param);
}

export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return invalidRequest(`No such ${kind}: '${id}'`, 'resource_missing', param, 404);
}

export function unexpectedState(message: string, param?: string): StripeApiError {
  return invalidRequest(message, 'payment_intent_unexpected_state', param);
}

export function cardError(
  message: string,
  code: string,
  extra: Partial<StripeErrorBody> = {},
  saved = true,
): StripeApiError {
  return new StripeApiError(
    402,
    { type: 'card_error', message, code, doc_url: docUrl(code), ...extra },
    saved,
  );
}

export function authenticationError(message: string): StripeApiError {
  return new StripeApiError(401, { type: 'authentication_error', message });
}

export function idempotencyError(message: string): StripeApiError {
  return new StripeApiError(400, { type: 'idempotency_error', message });
}

export function errorJson(body: StripeErrorBody): string {
  return JSON.stringify({ error: body });
}

/** The answer for an injected fault status, typed the way Stripe types that status. */
export function faultError(status: number): StripeErrorBody {
  if (status === 429) {
    return {
      type: 'rate_limit_error',
      code: 'rate_limit',
      message:
        'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
    };
  }
  if (status >= 500) {
    return {
      type: 'api_error',
      message: 'An unknown error occurred while processing your request (injected by the emulator).',
    };
  }
  return { type: 'invalid_request_error', message: `Injected failure with status ${status}.` };
}
