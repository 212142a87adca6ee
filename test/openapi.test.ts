// /openapi.json is generated from the same zod schemas that validate requests; an OpenAPI parser must
// accept it, and it must describe the routes a merchant integrates with.
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Document = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { requestBody?: unknown; parameters?: { name: string }[]; security?: unknown }>
  >;
};

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3 document', async () => {
    const reply = await t.api.get<Document>('/openapi.json');
    expect(reply.status).toBe(200);
    const result = await validate(structuredClone(reply.body) as never);
    expect(result.valid ? [] : compileErrors(result)).toEqual([]);
    expect(reply.body.openapi).toMatch(/^3\./);
  });

  it('describes the customer endpoints with their parameters and auth', async () => {
    const { body } = await t.api.get<Document>('/openapi.json');
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/v1/customers', '/v1/customers/{id}']));
    const create = body.paths['/v1/customers']?.post;
    expect(JSON.stringify(create?.requestBody)).toContain('metadata');
    expect(create?.security).toEqual([{ apiKey: [] }]);
    const list = body.paths['/v1/customers']?.get;
    expect(list?.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'starting_after', 'ending_before']),
    );
    expect(body.paths['/admin/operators']?.post?.security).toEqual([{ operator: [] }]);
  });

  it('describes the wallet extension: create, retrieve, list, fund, entries, close', async () => {
    const { body } = await t.api.get<
      Document & { paths: Record<string, Record<string, { tags?: string[] }>> }
    >('/openapi.json');
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/wallets',
        '/v1/wallets/{id}',
        '/v1/wallets/{id}/fund',
        '/v1/wallets/{id}/entries',
        '/v1/wallets/{id}/close',
      ]),
    );
    expect(body.paths['/v1/wallets']?.post?.tags).toEqual(['Wallets']);
    expect(JSON.stringify(body.paths['/v1/wallets/{id}/fund']?.post?.requestBody)).toContain(
      'payment_method',
    );
    expect(body.paths['/v1/wallets/{id}/entries']?.get?.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'starting_after', 'ending_before']),
    );
  });
});
