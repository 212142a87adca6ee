// A small HTTP client for tests: every call goes over a real socket to the running service.
import qs from 'qs';

export interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  key?: string | undefined;
  /** Send the body as a Stripe-style form (default) or JSON. */
  as?: 'form' | 'json';
  headers?: Record<string, string>;
}

async function readReply<T>(response: Response): Promise<Reply<T>> {
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (e.g. /metrics); the text is there.
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

export class Api {
  constructor(
    readonly baseUrl: string,
    readonly key?: string,
  ) {}

  withKey(key: string | undefined): Api {
    return new Api(this.baseUrl, key);
  }

  get<T = Record<string, unknown>>(
    path: string,
    query?: Record<string, unknown>,
    options: RequestOptions = {},
  ) {
    const search = query ? `?${qs.stringify(query, { arrayFormat: 'brackets' })}` : '';
    return this.request<T>('GET', `${path}${search}`, undefined, options);
  }

  post<T = Record<string, unknown>>(
    path: string,
    body?: Record<string, unknown>,
    options: RequestOptions = {},
  ) {
    return this.request<T>('POST', path, body, options);
  }

  /** A multipart/form-data POST (file uploads): the text fields, then the file as the `file` part. */
  async upload<T = Record<string, unknown>>(
    path: string,
    fields: Record<string, string>,
    file: { name: string; bytes: Uint8Array; type?: string } | undefined,
    options: RequestOptions = {},
  ): Promise<Reply<T>> {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    if (file)
      form.append(
        'file',
        new Blob([file.bytes], { type: file.type ?? 'application/octet-stream' }),
        file.name,
      );
    const key = options.key ?? this.key;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (key && !headers.authorization) headers.authorization = `Bearer ${key}`;
    const response = await fetch(`${this.baseUrl}${path}`, { method: 'POST', headers, body: form });
    return readReply<T>(response);
  }

  delete<T = Record<string, unknown>>(path: string, options: RequestOptions = {}) {
    return this.request<T>('DELETE', path, undefined, options);
  }

  async request<T>(
    method: string,
    path: string,
    body: unknown,
    options: RequestOptions = {},
  ): Promise<Reply<T>> {
    const key = options.key ?? this.key;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (key && !headers.authorization) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined;
    if (body !== undefined) {
      if (options.as === 'json') {
        headers['content-type'] ??= 'application/json';
        payload = JSON.stringify(body);
      } else {
        headers['content-type'] ??= 'application/x-www-form-urlencoded';
        payload = qs.stringify(body, { arrayFormat: 'brackets' });
      }
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body: payload });
    return readReply<T>(response);
  }
}
