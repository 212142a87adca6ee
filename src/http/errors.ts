// One application error class with stable codes, and one map from error type to HTTP status.
// Every failure leaves the service in Stripe's shape: { error: { type, code, message, param? } }.

import { maskCardNumbers } from '../pan.js';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'card_error'
  | 'idempotency_error'
  | 'rate_limit_error'
  | 'api_error';

export interface ErrorDetails {
  param?: string;
  decline_code?: string;
  payment_intent?: unknown;
  charge?: string;
  payment_method?: unknown;
  doc_url?: string;
}

export interface AppErrorOptions extends ErrorDetails {
  /** Sets `Stripe-Should-Retry`; undefined leaves the header off. */
  shouldRetry?: boolean;
  /** The request did nothing (kill switch, open circuit before any provider call): keep its key free. */
  releasesIdempotencyKey?: boolean;
  headers?: Record<string, string>;
}

export class AppError extends Error {
  readonly details: ErrorDetails;
  readonly shouldRetry: boolean | undefined;
  readonly headers: Record<string, string>;
  readonly releasesIdempotencyKey: boolean;

  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string | undefined,
    message: string,
    options: AppErrorOptions = {},
  ) {
    // Whatever a client sent may come back in a message or param (an unknown parameter's name, an id
    // that is not found): a card number there is masked before it can reach a response, log or table.
    super(maskCardNumbers(message));
    this.name = 'AppError';
    const { shouldRetry, headers, releasesIdempotencyKey, ...details } = options;
    if (details.param !== undefined) details.param = maskCardNumbers(details.param);
    this.details = details;
    this.shouldRetry = shouldRetry;
    this.headers = headers ?? {};
    this.releasesIdempotencyKey = releasesIdempotencyKey ?? false;
  }

  toBody(): { error: Record<string, unknown> } {
    return {
      error: {
        type: this.type,
        ...(this.code ? { code: this.code } : {}),
        message: this.message,
        ...this.details,
      },
    };
  }
}

export const invalidParam = (param: string, message: string, code = 'parameter_invalid') =>
  new AppError(400, 'invalid_request_error', code, message, { param, shouldRetry: false });

export const missingParam = (param: string) =>
  new AppError(400, 'invalid_request_error', 'parameter_missing', `Missing required param: ${param}.`, {
    param,
    shouldRetry: false,
  });

export const unknownParam = (param: string) =>
  new AppError(400, 'invalid_request_error', 'parameter_unknown', `Received unknown parameter: ${param}`, {
    param,
    shouldRetry: false,
  });

export const resourceMissing = (objectName: string, id: string, param?: string) =>
  new AppError(404, 'invalid_request_error', 'resource_missing', `No such ${objectName}: '${id}'`, {
    ...(param ? { param } : {}),
    shouldRetry: false,
  });

export const stateConflict = (message: string, code = 'state_conflict') =>
  new AppError(409, 'invalid_request_error', code, message, { shouldRetry: false });

export const permissionDenied = (message: string, code = 'permission_denied') =>
  new AppError(403, 'permission_error', code, message, { shouldRetry: false });

export const authenticationFailed = (message: string, code?: string) =>
  new AppError(401, 'authentication_error', code, message, { shouldRetry: false });

export const serviceUnavailable = (message: string, code = 'service_unavailable') =>
  new AppError(503, 'api_error', code, message, { shouldRetry: true });

export const internalError = () =>
  new AppError(
    500,
    'api_error',
    'internal_error',
    'An unexpected error occurred. Our team has been notified.',
  );
