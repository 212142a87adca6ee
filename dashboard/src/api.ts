// The dashboard's only way out: JSON requests to /admin on the same origin, authenticated by the HttpOnly
// session cookie the login sets (the page never sees the token). Errors keep the service's code and
// message so screens can show them as they are.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

/** Query strings in Stripe's bracket notation: `{ 'created[gte]': 1 }` is passed as such. */
export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Called when the session is gone (401 on anything but the login itself): the app shows the login. */
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

async function request<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
  // A FormData body (a file upload) goes as multipart: the browser writes its Content-Type and boundary.
  const form = body instanceof FormData ? body : undefined;
  const response = await fetch(`/admin${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body === undefined || form
        ? { Accept: 'application/json' }
        : { 'Content-Type': 'application/json' }),
      ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
    },
    body: body === undefined ? undefined : (form ?? JSON.stringify(body)),
  });
  const text = await response.text();
  const json: unknown = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; param?: string } } | undefined)
      ?.error;
    if (response.status === 401 && path !== '/login') onUnauthenticated();
    throw new ApiError(
      response.status,
      error?.code,
      error?.message ?? `${method} /admin${path} answered ${response.status}`,
      error?.param,
    );
  }
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', `${path}${queryString(query)}`),
  /** `idempotencyKey`: for actions that move money, so a second click or a resent form acts once. */
  post: <T>(path: string, body: Record<string, unknown> = {}, idempotencyKey?: string) =>
    request<T>('POST', path, body, idempotencyKey),
  patch: <T>(path: string, body: Record<string, unknown>) => request<T>('PATCH', path, body),
  /** A file as multipart/form-data's `file` part. */
  upload: <T>(path: string, file: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request<T>('POST', path, form);
  },
};

export interface List<T> {
  object: 'list' | 'search_result';
  data: T[];
  has_more: boolean;
  next_page?: string | null;
}

export interface Me {
  id: string;
  email: string;
  role: 'payment-admin' | 'payment-operator' | 'payment-viewer';
  permissions: string[];
  mfa_enrolment_required: boolean;
}

/** A fresh Idempotency-Key (getRandomValues, not randomUUID, which plain-HTTP pages lack). */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dash-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
