// payctl's client for a running service (PAYCTL_URL / --url, operator token from PAYCTL_TOKEN / --token).
// An embedded (PGlite) service can only be reached this way, since its DATA_DIR is locked.

export class RemoteError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const message = (body as { error?: { message?: string } })?.error?.message ?? `HTTP ${status}`;
    super(message);
  }
}

export class RemoteClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!response.ok) throw new RemoteError(response.status, parsed);
    return parsed as T;
  }
}
