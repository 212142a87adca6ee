// The PayPal client's shared OAuth refresh: a token request that fails with a 5xx or a broken
// connection is sent again (it moves no money), so one bad answer does not fail every call waiting on
// it; a refusal of our credentials (401) is not retried.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { PayPalClient, PayPalHttpError } from '../src/providers/paypal/paypal.client.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A token endpoint answering `statuses` in turn (then 200 with a token); counts the requests. */
async function tokenEndpoint(statuses: (number | 'reset')[]) {
  const seen = { requests: 0 };
  server = createServer((request, response) => {
    if (request.url !== '/v1/oauth2/token') {
      response.writeHead(404).end();
      return;
    }
    const answer = statuses[seen.requests++];
    if (answer === 'reset') {
      request.socket.destroy();
      return;
    }
    if (answer !== undefined) {
      response.writeHead(answer, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
      return;
    }
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ access_token: 'A21AA-token', token_type: 'Bearer', expires_in: 32400 }));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new PayPalClient({
    clientId: 'client',
    clientSecret: 'secret',
    apiBase: `http://127.0.0.1:${port}`,
    timeoutMs: 2_000,
    clock: systemClock,
  });
  return { client, seen };
}

describe('PayPal OAuth token refresh', () => {
  it('retries a 500 and a reset, and every concurrent caller gets the one token', async () => {
    const { client, seen } = await tokenEndpoint([500, 'reset']);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => client.accessToken()));
    expect(new Set(tokens)).toEqual(new Set(['A21AA-token']));
    expect(seen.requests).toBe(3);
  });

  it('gives up after two retries', async () => {
    const { client, seen } = await tokenEndpoint([503, 503, 503]);
    await expect(client.accessToken()).rejects.toBeInstanceOf(PayPalHttpError);
    expect(seen.requests).toBe(3);
  });

  it('does not retry a refusal of the credentials', async () => {
    const { client, seen } = await tokenEndpoint([401]);
    await expect(client.accessToken()).rejects.toMatchObject({ status: 401 });
    expect(seen.requests).toBe(1);
  });
});
