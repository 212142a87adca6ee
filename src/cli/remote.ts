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

export class UnreachableError extends Error {
  constructor(url: string, reason: string) {
    super(`cannot reach the service at ${url} (${reason})`);
  }
}

export class RemoteClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new UnreachableError(this.baseUrl, cause?.code ?? cause?.message ?? (error as Error).message);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not our service (a proxy's HTML page, say): report the status rather than a parse error.
      parsed = { error: { message: `HTTP ${response.status} with a non-JSON body from ${this.baseUrl}` } };
      if (response.ok) throw new RemoteError(response.status, parsed);
    }
    if (!response.ok) throw new RemoteError(response.status, parsed);
    return parsed as T;
  }
}
