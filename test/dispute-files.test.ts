// Issue 10's evidence upload: Stripe-shaped files (POST /v1/files, multipart) kept by the service, named
// in a dispute's file evidence fields, and sent to the provider: Stripe gets its own upload (the SDK's
// files.create, once per file) and its file ids in the evidence; PayPal gets the documents with the
// evidence itself. The emulators decide on the names of the files they received (winning_evidence...).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { expectSameShape, stripeFixtures } from './support/stripe-shape.js';
import { waitFor } from './support/wait.js';

type FileObject = {
  id: string;
  object: 'file';
  filename: string;
  purpose: string;
  size: number;
  type: string;
  url: string;
};
type Dispute = { id: string; status: string; evidence: Record<string, string | null> };
type ErrorBody = { error: { type: string; code?: string; param?: string; message: string } };
type List<T> = { data: T[]; has_more: boolean };
// biome-ignore lint/suspicious/noExplicitAny: the emulators' state is each provider's own wire form
type EmulatorState = Record<string, any>;

/** A PDF as far as its first bytes go, padded to `size`: evidence formats are read from the bytes. */
function pdf(size = 2048, seed = 'evidence'): Uint8Array {
  const bytes = Buffer.alloc(size, 0x20);
  Buffer.from(`%PDF-1.7\n% ${seed}\n`).copy(bytes);
  return bytes;
}
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48]);

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function upload(api: Api, name: string, bytes: Uint8Array, purpose = 'dispute_evidence') {
  const reply = await api.upload<FileObject>('/v1/files', { purpose }, { name, bytes });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

describe('files', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("uploads a PDF as Stripe's file object, lists it, and serves its bytes back", async () => {
    const bytes = pdf(4096, 'signed receipt');
    const file = await upload(t.merchant, 'C:\\scans\\receipt signed.pdf', bytes);
    expect(file).toMatchObject({
      object: 'file',
      filename: 'receipt signed.pdf',
      purpose: 'dispute_evidence',
      size: 4096,
      type: 'pdf',
    });
    expect(file.id).toMatch(/^file_[A-Za-z0-9]{24}$/);
    expect(file.url).toMatch(new RegExp(`/v1/files/${file.id}/contents$`));
    expectSameShape(file, stripeFixtures.resources.file);

    const image = await upload(t.merchant, 'photo.png', PNG);
    expect(image).toMatchObject({ type: 'png', size: PNG.byteLength });

    expect((await t.merchant.get<FileObject>(`/v1/files/${file.id}`)).body).toEqual(file);
    const listed = await t.merchant.get<List<FileObject>>('/v1/files', { purpose: 'dispute_evidence' });
    expect(listed.body.data.map((f) => f.id).slice(0, 2)).toEqual([image.id, file.id]);

    const download = await fetch(`${t.api.baseUrl}/v1/files/${file.id}/contents`, {
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="receipt signed.pdf"');
    expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(sha256(bytes));
  });

  it('refuses bad uploads with a 400 naming the parameter, storing nothing', async () => {
    const before = (await t.merchant.get<List<FileObject>>('/v1/files', { limit: 100 })).body.data.length;
    const cases: [string, Promise<{ status: number; body: ErrorBody; text: string }>, string, string?][] = [
      [
        'a form, not multipart',
        t.merchant.post<ErrorBody>('/v1/files', { purpose: 'dispute_evidence' }),
        'file',
      ],
      [
        'no file part',
        t.merchant.upload<ErrorBody>('/v1/files', { purpose: 'dispute_evidence' }, undefined),
        'file',
      ],
      [
        'no purpose',
        t.merchant.upload<ErrorBody>('/v1/files', {}, { name: 'a.pdf', bytes: pdf() }),
        'purpose',
      ],
      [
        'a purpose we do not take',
        t.merchant.upload<ErrorBody>(
          '/v1/files',
          { purpose: 'business_logo' },
          { name: 'a.pdf', bytes: pdf() },
        ),
        'purpose',
      ],
      [
        'a text file named .pdf',
        t.merchant.upload<ErrorBody>(
          '/v1/files',
          { purpose: 'dispute_evidence' },
          { name: 'notes.pdf', bytes: Buffer.from('just some words') },
        ),
        'file',
        'file_type_unsupported',
      ],
      [
        'a file over 5 MB',
        t.merchant.upload<ErrorBody>(
          '/v1/files',
          { purpose: 'dispute_evidence' },
          { name: 'big.pdf', bytes: pdf(5 * 1024 * 1024 + 1) },
        ),
        'file',
        'file_too_large',
      ],
      [
        'an empty file',
        t.merchant.upload<ErrorBody>(
          '/v1/files',
          { purpose: 'dispute_evidence' },
          { name: 'e.pdf', bytes: new Uint8Array() },
        ),
        'file',
      ],
      [
        'an unknown field',
        t.merchant.upload<ErrorBody>(
          '/v1/files',
          { purpose: 'dispute_evidence', colour: 'blue' },
          { name: 'a.pdf', bytes: pdf() },
        ),
        'colour',
      ],
    ];
    for (const [what, pending, param, code] of cases) {
      const reply = await pending;
      expect(reply.status, `${what}: ${reply.text}`).toBe(400);
      expect(reply.body.error.param, what).toBe(param);
      if (code) expect(reply.body.error.code, what).toBe(code);
    }
    const after = (await t.merchant.get<List<FileObject>>('/v1/files', { limit: 100 })).body.data.length;
    expect(after).toBe(before);
  });

  it('keeps files apart per merchant and needs the files scope; other routes refuse multipart', async () => {
    const file = await upload(t.merchant, 'mine.pdf', pdf());
    const other = await createMerchant(t, 'files other merchant');
    expect((await other.api.get<ErrorBody>(`/v1/files/${file.id}`)).status).toBe(404);
    const contents = await other.api.get<ErrorBody>(`/v1/files/${file.id}/contents`);
    expect(contents.status).toBe(404);

    const key = await t.admin.post<{ secret: string }>('/admin/keys', {
      merchant: t.merchantId,
      kind: 'restricted',
      scopes: ['disputes:write'],
    });
    expect(key.status, key.text).toBe(200);
    const denied = await t.merchant.upload<ErrorBody>(
      '/v1/files',
      { purpose: 'dispute_evidence' },
      { name: 'a.pdf', bytes: pdf() },
      { key: key.body.secret },
    );
    expect(denied.status, denied.text).toBe(403);
    expect(denied.body.error.code).toBe('insufficient_scope');

    const customers = async () =>
      (await t.merchant.get<List<unknown>>('/v1/customers', { limit: 100 })).body.data.length;
    const count = await customers();
    const multipart = await t.merchant.upload<ErrorBody>(
      '/v1/customers',
      { email: 'x@example.test' },
      undefined,
    );
    expect(multipart.status, multipart.text).toBe(415);
    expect(await customers()).toBe(count);
  });
});

interface ProviderCase {
  name: 'stripe' | 'paypal';
  env: Record<string, string>;
}

describe.each<ProviderCase>([
  { name: 'stripe', env: {} },
  { name: 'paypal', env: { ROUTING_DEFAULTS: JSON.stringify({ card: ['paypal'] }) } },
])('evidence files on $name', (provider) => {
  let t: TestService;
  let emulator: Api;
  beforeAll(async () => {
    t = await startTestService({ env: provider.env });
    emulator = new Api(t.service.providers.emulators[provider.name]?.url as string);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function disputed(api: Api, amount: number): Promise<Dispute> {
    const intent = await api.post<{ id: string; status: string }>('/v1/payment_intents', {
      amount,
      currency: 'usd',
      payment_method: 'pm_card_createDispute',
      confirm: 'true',
    });
    expect(intent.body.status, intent.text).toBe('succeeded');
    return waitFor(`the dispute of ${intent.body.id}`, async () => {
      const list = await api.get<List<Dispute>>('/v1/disputes', { payment_intent: intent.body.id });
      return list.body.data[0];
    });
  }

  async function providerDisputeId(id: string): Promise<string> {
    const row = await t.service.database.db
      .selectFrom('disputes')
      .select('provider_dispute_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return row.provider_dispute_id;
  }

  async function emulatorState(types: string): Promise<EmulatorState> {
    return (await emulator.get<EmulatorState>('/_emulator/state', { types })).body;
  }

  it('sends a receipt file to the provider, which decides on it: the dispute is won', async () => {
    const dispute = await disputed(t.merchant, 3100);
    const bytes = pdf(3000, 'delivery receipt');
    const receipt = await upload(t.merchant, 'winning_evidence-receipt.pdf', bytes);
    const answered = await t.merchant.post<Dispute>(`/v1/disputes/${dispute.id}`, {
      evidence: { receipt: receipt.id, product_description: 'A blue mug' },
    });
    expect(answered.status, answered.text).toBe(200);
    expect(answered.body.evidence).toMatchObject({ receipt: receipt.id, product_description: 'A blue mug' });
    const won = await waitFor('the dispute to be won', async () => {
      const body = (await t.merchant.get<Dispute>(`/v1/disputes/${dispute.id}`)).body;
      return body.status === 'won' ? body : undefined;
    });
    expect(won.evidence.receipt).toBe(receipt.id);

    const theirs = await providerDisputeId(dispute.id);
    if (provider.name === 'stripe') {
      const state = await emulatorState('disputes,files');
      const atStripe = (state.disputes as EmulatorState[]).find((d) => d.id === theirs);
      const copy = (state.files as EmulatorState[]).find((f) => f.id === atStripe?.evidence.receipt);
      expect(copy, 'the receipt uploaded to Stripe under its own id').toMatchObject({
        object: 'file',
        purpose: 'dispute_evidence',
        filename: 'winning_evidence-receipt.pdf',
        size: 3000,
        type: 'pdf',
      });
      expect(copy?.id).not.toBe(receipt.id);
      expect(atStripe?.evidence.product_description).toBe('A blue mug');
      const row = await t.service.database.db
        .selectFrom('files')
        .select('provider_files')
        .where('id', '=', receipt.id)
        .executeTakeFirstOrThrow();
      expect(row.provider_files).toEqual({ stripe: copy?.id });
    } else {
      const state = await emulatorState('disputes');
      const atPayPal = (state.disputes as EmulatorState[]).find((d) => d.dispute_id === theirs);
      // The emulator keeps each provide-evidence body as the notes of one evidence.
      const bodies = ((atPayPal?.evidences ?? []) as { notes: string }[]).map((e) => JSON.parse(e.notes));
      expect(bodies).toHaveLength(1);
      expect(bodies[0].evidence_files).toEqual([
        { name: 'receipt-winning_evidence-receipt.pdf', size: 3000, type: 'pdf' },
      ]);
      expect(bodies[0].evidences[0]).toMatchObject({
        evidence_type: 'OTHER',
        documents: [{ name: 'receipt-winning_evidence-receipt.pdf' }],
      });
      expect(bodies[0].evidences[0].notes).toContain('A blue mug');
    }
  });

  it('refuses file fields naming no upload of this merchant, and evidence files over 4.5 MB, changing nothing', async () => {
    const dispute = await disputed(t.merchant, 3200);
    const other = await createMerchant(t, `${provider.name} evidence other merchant`);
    const theirs = await upload(other.api, 'theirs.pdf', pdf());
    const path = `/v1/disputes/${dispute.id}`;
    for (const [evidence, param] of [
      [{ receipt: 'file_doesnotexist' }, 'evidence[receipt]'],
      [{ uncategorized_file: theirs.id }, 'evidence[uncategorized_file]'],
      [{ shipping_documentation: 'see the tracking page' }, 'evidence[shipping_documentation]'],
    ] as const) {
      const reply = await t.merchant.post<ErrorBody>(path, { evidence });
      expect(reply.status, reply.text).toBe(400);
      expect(reply.body.error.param).toBe(param);
    }
    const first = await upload(t.merchant, 'part-1.pdf', pdf(2_400_000, 'one'));
    const second = await upload(t.merchant, 'part-2.pdf', pdf(2_400_000, 'two'));
    const tooMuch = await t.merchant.post<ErrorBody>(path, {
      evidence: { receipt: first.id, uncategorized_file: second.id },
    });
    expect(tooMuch.status, tooMuch.text).toBe(400);
    expect(tooMuch.body.error.param).toBe('evidence');
    const after = (await t.merchant.get<Dispute>(path)).body;
    expect(after.status).toBe('needs_response');
    expect(after.evidence.receipt).toBe(null);
    expect(after.evidence.uncategorized_file).toBe(null);
  });

  it.runIf(provider.name === 'stripe')(
    'uploads a file to Stripe once, however often the evidence naming it is saved',
    async () => {
      const dispute = await disputed(t.merchant, 3300);
      const file = await upload(t.merchant, 'policy.pdf', pdf(1500, 'policy'));
      const path = `/v1/disputes/${dispute.id}`;
      const count = async () =>
        ((await emulatorState('files')).files as EmulatorState[]).filter((f) => f.filename === 'policy.pdf')
          .length;
      for (const description of ['first draft', 'second draft']) {
        const saved = await t.merchant.post<Dispute>(path, {
          evidence: { refund_policy: file.id, product_description: description },
          submit: 'false',
        });
        expect(saved.status, saved.text).toBe(200);
      }
      expect(await count()).toBe(1);
    },
  );

  it.runIf(provider.name === 'stripe')(
    "lets an operator upload evidence under the dispute's merchant; a viewer may not; audited",
    async () => {
      const dispute = await disputed(t.merchant, 3400);
      const email = 'files-viewer@example.test';
      const password = 'a long enough password';
      expect(
        (await t.admin.post('/admin/operators', { email, password, role: 'payment-viewer' })).status,
      ).toBe(200);
      const login = await t.api.post<{ token: string }>('/admin/login', { email, password });
      const viewer = t.api.withKey(login.body.token);
      const path = `/admin/disputes/${dispute.id}/files`;
      const file = { name: 'winning_evidence-signature.png', bytes: PNG };
      expect((await viewer.upload(path, {}, file)).status).toBe(403);

      const uploaded = await t.admin.upload<FileObject>(path, {}, file);
      expect(uploaded.status, uploaded.text).toBe(200);
      expect(uploaded.body).toMatchObject({ object: 'file', type: 'png', purpose: 'dispute_evidence' });
      // The merchant sees it as its own upload.
      expect((await t.merchant.get(`/v1/files/${uploaded.body.id}`)).status).toBe(200);
      const bad = await t.admin.upload<ErrorBody>(path, {}, { name: 'x.txt', bytes: Buffer.from('words') });
      expect(bad.status, bad.text).toBe(400);
      expect(bad.body.error.param).toBe('file');

      const submitted = await t.admin.post<Dispute>(
        `/admin/disputes/${dispute.id}/evidence`,
        { evidence: { customer_signature: uploaded.body.id } },
        { as: 'json' },
      );
      expect(submitted.status, submitted.text).toBe(200);
      await waitFor('the dispute to be won', async () => {
        const body = (await t.merchant.get<Dispute>(`/v1/disputes/${dispute.id}`)).body;
        return body.status === 'won' ? body : undefined;
      });
      const audit = await t.service.database.db
        .selectFrom('audit_log')
        .select(['action', 'outcome'])
        .where('resource_id', '=', dispute.id)
        .where('action', '=', 'dispute.evidence_file')
        .orderBy('seq')
        .execute();
      expect(audit.map((row) => row.outcome)).toEqual(['success', 'failure']);
    },
  );
});
