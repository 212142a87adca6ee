// Traces over OTLP/HTTP: a request span named by its route template with a child span per SQL statement,
// all sampled when ENHANCED_MONITORING=true, none when the sampler ratio is 0. A small collector in this
// file receives what the exporter sends.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService } from './support/service.js';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

let collector: Server;
let endpoint: string;
const received: ReceivedSpan[] = [];
const contentTypes = new Set<string>();

beforeAll(async () => {
  collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      contentTypes.add(String(request.headers['content-type']));
      if (request.method === 'POST' && request.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const resource of body.resourceSpans ?? [])
          for (const scope of resource.scopeSpans ?? [])
            for (const span of scope.spans ?? [])
              received.push({
                ...span,
                attributes: Object.fromEntries(
                  (span.attributes as OtlpAttribute[]).map((a) => [a.key, Object.values(a.value)[0]]),
                ),
              });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => collector.close(resolve));
});

describe('tracing', () => {
  it('exports a server span per request and a child span per SQL statement (ENHANCED_MONITORING)', async () => {
    received.length = 0;
    const t = await startTestService({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        ENHANCED_MONITORING: 'true',
        OTEL_TRACES_SAMPLER_ARG: '0',
      },
    });
    try {
      expect((await t.merchant.get('/v1/customers')).status).toBe(200);
      const created = await t.merchant.post<{ id: string }>('/v1/customers', { name: 'Traced' });
      expect(created.status).toBe(200);
      expect((await t.merchant.get(`/v1/customers/${created.body.id}`)).status).toBe(200);
    } finally {
      await t.close(); // flushes the batch processor
    }
    expect([...contentTypes]).toEqual(['application/json']);

    for (const [name, route] of [
      ['GET /v1/customers', '/v1/customers'],
      ['POST /v1/customers', '/v1/customers'],
      ['GET /v1/customers/:id', '/v1/customers/:id'],
    ]) {
      const server = received.find((span) => span.name === name && span.kind === 2);
      expect(server, `server span ${name}`).toBeDefined();
      expect(server?.attributes['http.response.status_code']).toBe(200);
      const children = received.filter(
        (span) => span.traceId === server?.traceId && span.parentSpanId === server?.spanId,
      );
      const statements = children.map((span) => String(span.attributes['db.statement']));
      expect(statements.length, `SQL spans under ${name} (${route})`).toBeGreaterThan(0);
      expect(statements.some((statement) => /customers/.test(statement))).toBe(true);
    }
    // Statements are recorded without their parameter values, and only inside a request's trace.
    expect(JSON.stringify(received)).not.toContain('Traced');
    const spanIds = new Set(received.map((span) => span.spanId));
    for (const span of received.filter((s) => s.kind === 3)) {
      expect(span.name).toMatch(/^[A-Z]+$/);
      expect(spanIds.has(span.parentSpanId ?? '')).toBe(true);
    }
  });

  it('exports nothing when the sampler ratio is 0 and ENHANCED_MONITORING is off', async () => {
    received.length = 0;
    const t = await startTestService({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER_ARG: '0' },
    });
    try {
      expect((await t.merchant.get('/v1/customers')).status).toBe(200);
      expect((await t.merchant.post('/v1/customers', { name: 'Unsampled' })).status).toBe(200);
    } finally {
      await t.close();
    }
    expect(received).toEqual([]);
  });
});
