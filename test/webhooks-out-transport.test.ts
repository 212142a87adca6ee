// The SSRF guard and the webhook transport, against real sockets on loopback: which addresses are
// refused, that a name rebinding to an internal address between creation and send is caught before
// any connection, and what one attempt reports (status, Retry-After, a 1 KB excerpt, timeouts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWebhook, WebhookTransportError } from '../src/modules/webhooks-out/transport.js';
import {
  checkWebhookUrl,
  type HostLookup,
  isPublicAddress,
  UnsafeWebhookUrlError,
  type UrlGuardOptions,
} from '../src/modules/webhooks-out/url-guard.js';

const strict = { livemode: false, allowPrivate: false };

async function refusal(url: string, options: UrlGuardOptions = strict): Promise<UnsafeWebhookUrlError> {
  const error = await checkWebhookUrl(url, options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, url).toBeInstanceOf(UnsafeWebhookUrlError);
  return error as UnsafeWebhookUrlError;
}

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.100.100.200',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '192.0.2.10',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2002:a00:1::',
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'accepts %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('checkWebhookUrl', () => {
  it.each([
    'http://127.0.0.1/hook',
    'http://localhost:8080/hook',
    'http://[::1]/hook',
    'http://10.0.0.5/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:127.0.0.1]/hook',
    'http://0x7f000001/hook',
    'http://2130706433/hook',
  ])('refuses the internal URL %s', async (url) => {
    expect((await refusal(url)).reason).toBe('private_address');
  });

  it('refuses names with any internal answer, and names that do not resolve', async () => {
    const mixed: HostLookup = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ];
    expect((await refusal('https://hooks.example.com/x', { ...strict, lookup: mixed })).reason).toBe(
      'private_address',
    );
    const nothing: HostLookup = async () => {
      throw new Error('ENOTFOUND');
    };
    expect((await refusal('https://nowhere.example/x', { ...strict, lookup: nothing })).reason).toBe(
      'unresolvable',
    );
  });

  it('refuses other schemes, credentials, and http in live mode', async () => {
    expect((await refusal('ftp://93.184.216.34/x')).reason).toBe('unsupported_scheme');
    expect((await refusal('not a url')).reason).toBe('invalid_url');
    expect((await refusal('https://user:pw@93.184.216.34/x')).reason).toBe('credentials_in_url');
    expect((await refusal('http://93.184.216.34/x', { livemode: true, allowPrivate: true })).reason).toBe(
      'https_required',
    );
  });

  it('accepts a public address, pinning the one it checked', async () => {
    const lookup: HostLookup = async () => [{ address: '93.184.216.34', family: 4 }];
    const target = await checkWebhookUrl('https://hooks.example.com/x', {
      livemode: true,
      allowPrivate: false,
      lookup,
    });
    expect(target).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(target.url.hostname).toBe('hooks.example.com');
  });

  it('lets ALLOW_PRIVATE_WEBHOOK_URLS reach loopback (development and tests)', async () => {
    const target = await checkWebhookUrl('http://localhost:9/x', { livemode: false, allowPrivate: true });
    expect(['127.0.0.1', '::1']).toContain(target.address);
  });
});

describe('sendWebhook', () => {
  let server: Server;
  let base: string;
  const seen: { path: string | undefined; headers: IncomingMessage['headers']; body: string }[] = [];
  let respond: (request: IncomingMessage, response: ServerResponse) => void = (_q, r) => r.end('ok');

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push({ path: request.url, headers: request.headers, body });
        respond(request, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (url: string, extra: Partial<Parameters<typeof sendWebhook>[0]> = {}) =>
    sendWebhook({
      url,
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
      body: '{"id":"evt_1"}',
      timeoutMs: 2_000,
      livemode: false,
      allowPrivate: true,
      ...extra,
    });

  it('posts the body and headers and reports status, Retry-After and a 1 KB excerpt', async () => {
    respond = (_request, response) => {
      response.writeHead(429, { 'retry-after': '120' });
      response.end('x'.repeat(5000));
    };
    const answer = await send(`${base}/hooks?a=1`);
    expect(answer.status).toBe(429);
    expect(answer.retryAfter).toBe('120');
    expect(answer.excerpt).toBe('x'.repeat(1024));
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
    const last = seen.at(-1);
    expect(last?.path).toBe('/hooks?a=1');
    expect(last?.body).toBe('{"id":"evt_1"}');
    expect(last?.headers['webhook-id']).toBe('msg_1');
    expect(last?.headers['content-length']).toBe('14');
  });

  it('does not follow redirects', async () => {
    respond = (_request, response) => {
      response.writeHead(302, { location: 'http://169.254.169.254/' });
      response.end();
    };
    const count = seen.length;
    expect((await send(`${base}/moved`)).status).toBe(302);
    expect(seen.length).toBe(count + 1);
  });

  it('times out a receiver that does not answer', async () => {
    respond = () => {};
    const error = await send(`${base}/slow`, { timeoutMs: 200 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WebhookTransportError);
    expect((error as WebhookTransportError).kind).toBe('timeout');
    expect((error as WebhookTransportError).latencyMs).toBeGreaterThanOrEqual(190);
  });

  it('reports a refused connection as a network failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await send(`http://127.0.0.1:${port}/`).catch((caught: unknown) => caught);
    expect((error as WebhookTransportError).kind).toBe('network');
  });

  it('refuses a name that now resolves to loopback (DNS rebinding) without connecting', async () => {
    respond = (_request, response) => response.end('ok');
    const port = (server.address() as AddressInfo).port;
    const rebound: HostLookup = async () => [{ address: '127.0.0.1', family: 4 }];
    const count = seen.length;
    const error = await send(`http://hooks.example.com:${port}/`, {
      allowPrivate: false,
      lookup: rebound,
    }).catch((caught: unknown) => caught);
    expect((error as WebhookTransportError).kind).toBe('unsafe_url');
    expect(seen.length).toBe(count);
  });

  it('connects to the checked address, not to a second lookup of the name', async () => {
    respond = (_request, response) => response.end('pinned');
    const port = (server.address() as AddressInfo).port;
    let lookups = 0;
    const lookup: HostLookup = async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const answer = await send(`http://receiver.invalid:${port}/pinned`, { lookup });
    expect(answer).toMatchObject({ status: 200, excerpt: 'pinned' });
    expect(lookups).toBe(1);
    expect(seen.at(-1)?.headers.host).toBe(`receiver.invalid:${port}`);
  });
});
