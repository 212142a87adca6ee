// Owns PayPal's error answers: `{ name, message, debug_id, details: [{ issue, description, field?,
// value?, location? }], links }` for the REST APIs, and the bare OAuth shape `{ error,
// error_description }` that PayPal's identity service answers with for token problems.
import { randomBytes } from 'node:crypto';

export interface IssueDetail {
  issue: string;
  description: string;
  field?: string;
  value?: string;
  location?: 'body' | 'query' | 'path' | 'header';
}

const NAMES: Record<number, { name: string; message: string }> = {
  400: {
    name: 'INVALID_REQUEST',
    message: 'Request is not well-formed, syntactically incorrect, or violates schema.',
  },
  403: { name: 'NOT_AUTHORIZED', message: 'Authorization failed due to insufficient permissions.' },
  404: { name: 'RESOURCE_NOT_FOUND', message: 'The specified resource does not exist.' },
  422: {
    name: 'UNPROCESSABLE_ENTITY',
    message:
      'The requested action could not be performed, semantically incorrect, or failed business validation.',
  },
  500: { name: 'INTERNAL_SERVER_ERROR', message: 'An internal server error occurred.' },
  503: { name: 'SERVICE_UNAVAILABLE', message: 'Service Unavailable.' },
};

/** A 16-hex-digit debug id, PayPal's correlation handle on every error. */
export function debugId(): string {
  return randomBytes(7).toString('hex');
}

export class PayPalApiError extends Error {
  constructor(
    readonly status: number,
    readonly details: IssueDetail[],
    readonly nameOverride?: string,
    readonly messageOverride?: string,
  ) {
    super(details[0]?.description ?? nameOverride ?? `status ${status}`);
  }

  body(): Record<string, unknown> {
    const known = NAMES[this.status] ?? NAMES[500]!;
    return {
      name: this.nameOverride ?? known.name,
      message: this.messageOverride ?? known.message,
      debug_id: debugId(),
      details: this.details,
      links: this.details.slice(0, 1).map((detail) => ({
        href: `https://developer.paypal.com/docs/api/orders/v2/#error-${detail.issue}`,
        rel: 'information_link',
        method: 'GET',
      })),
    };
  }
}

/** 422 with one issue: PayPal's business-rule refusal. */
export function unprocessable(issue: string, description: string, field?: string): PayPalApiError {
  return new PayPalApiError(422, [{ issue, description, ...(field ? { field, location: 'body' } : {}) }]);
}

/** 400 with one issue: the request does not match the schema. */
export function invalidRequest(
  issue: string,
  description: string,
  field?: string,
  location: IssueDetail['location'] = 'body',
): PayPalApiError {
  return new PayPalApiError(400, [{ issue, description, ...(field ? { field, location } : {}) }]);
}

export function notFound(
  description = 'Specified resource ID does not exist. Please check the resource ID and try again.',
) {
  return new PayPalApiError(404, [{ issue: 'INVALID_RESOURCE_ID', description }]);
}

export function faultBody(status: number): string {
  return JSON.stringify(new PayPalApiError(status, [], undefined, undefined).body());
}

export const INVALID_TOKEN_BODY = JSON.stringify({
  error: 'invalid_token',
  error_description: 'Token signature verification failed',
});
