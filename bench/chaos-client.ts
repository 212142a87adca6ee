// The chaos client: card payments with an Idempotency-Key each, every answer kept per key, so that
// after a fault the same keys can be retried and every answer compared (DESIGN section 5). A payment
// carries its key in metadata too, which lets the checks find the payment a key made in the database.
import http from 'node:http';

export interface Reply {
  /** 0 when no HTTP answer came (connection reset, refused, client timeout). */
  status: number;
  /** The parsed JSON body, or null. */
  body: { id?: string; status?: string; error?: { type?: string; code?: string; message?: string } } | null;
  error?: string;
  at: number;
  /** Idempotent-Replayed: true (the stored answer of an earlier execution). */
  replayed?: boolean;
}

export interface KeyRecord {
  key: string;
  amount: number;
  answers: Reply[];
}

export const PAYMENT_METHOD = 'pm_card_visa';

export function paymentBody(record: { key: string; amount: number }, currency = 'usd'): string {
  return (
    `amount=${record.amount}&currency=${currency}&payment_method=${PAYMENT_METHOD}&confirm=true` +
    `&metadata[chaos_key]=${encodeURIComponent(record.key)}`
  );
}

export function createAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 256) });
}

export function post(
  port: number,
  secretKey: string,
  pathname: string,
  form: string,
  headers: Record<string, string>,
  agent: http.Agent | false,
  timeoutMs = 60_000,
): Promise<Reply> {
  return new Promise((resolve) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${secretKey}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(form),
          ...headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) =>
          resolve({ status: 0, body: null, error: `response ${error.message}`, at: Date.now() }),
        );
        response.on('end', () => {
          let body: Reply['body'] = null;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Reply['body'];
          } catch {
            body = null;
          }
          resolve({
            status: response.statusCode ?? 0,
            body,
            at: Date.now(),
            replayed: response.headers['idempotent-replayed'] === 'true',
          });
        });
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error('client timeout')));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: 0, body: null, error: error.code ?? error.message, at: Date.now() }),
    );
    request.end(form);
  });
}

export function pay(
  port: number,
  secretKey: string,
  record: KeyRecord,
  agent: http.Agent | false,
  currency = 'usd',
): Promise<Reply> {
  return post(
    port,
    secretKey,
    '/v1/payment_intents',
    paymentBody(record, currency),
    { 'idempotency-key': record.key },
    agent,
  ).then((reply) => {
    record.answers.push(reply);
    return reply;
  });
}

/** Runs `work` over `items` with at most `concurrency` at once; resolves when all are done. */
export async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (let index = next++; index < items.length; index = next++) await work(items[index] as T);
    }),
  );
}

/** "200 succeeded", "409 idempotency_key_in_use", "0 ECONNRESET": one answer's kind, for tallies. */
export function kindOf(reply: Reply): string {
  if (reply.status === 0) return `no answer (${reply.error})`;
  if (reply.status === 200) return `200 ${reply.body?.status ?? '?'}`;
  return `${reply.status} ${reply.body?.error?.code ?? reply.body?.error?.type ?? '?'}`;
}

export function tally(replies: Reply[]): string {
  const counts = new Map<string, number>();
  for (const reply of replies) counts.set(kindOf(reply), (counts.get(kindOf(reply)) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind}: ${n}`)
    .join(', ');
}

export function newKeys(prefix: string, count: number, firstAmount = 1000): KeyRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}-${i}`,
    amount: firstAmount + i,
    answers: [],
  }));
}

/**
 * Closed-loop load until `stop()`: `concurrency` workers each send a new keyed payment as soon as the
 * last is answered. `records` holds every key sent so far, its first answer's time included.
 */
export function steadyLoad(
  target: { port: number; secretKey: string },
  prefix: string,
  concurrency: number,
  currency = 'usd',
): { records: KeyRecord[]; sentAt: Map<string, number>; stop(): Promise<void> } {
  const agent = createAgent(concurrency);
  const records: KeyRecord[] = [];
  const sentAt = new Map<string, number>();
  let running = true;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      const record: KeyRecord = {
        key: `${prefix}-${records.length}`,
        amount: 1000 + records.length,
        answers: [],
      };
      records.push(record);
      sentAt.set(record.key, Date.now());
      const reply = await pay(target.port, target.secretKey, record, agent, currency);
      // A refused connection answers at once: do not spin while the service is down.
      if (reply.status === 0 || reply.status >= 500) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  return {
    records,
    sentAt,
    async stop() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
    },
  };
}

/** Answers tallied by when the request was sent: one line per window [from, to). */
export function windows(
  load: { records: KeyRecord[]; sentAt: Map<string, number> },
  marks: { name: string; from: number; to: number }[],
): string[] {
  return marks.map(({ name, from, to }) => {
    const inWindow = load.records.filter((r) => {
      const at = load.sentAt.get(r.key) ?? 0;
      return at >= from && at < to && r.answers[0];
    });
    const ok = inWindow.filter(
      (r) => r.answers[0]?.status === 200 && r.answers[0]?.body?.status === 'succeeded',
    );
    const seconds = Math.max(0.001, (to - from) / 1000);
    return `${name} (${seconds.toFixed(1)} s): ${inWindow.length} sent, ${ok.length} succeeded (${(ok.length / seconds).toFixed(0)}/s); ${tally(inWindow.map((r) => r.answers[0] as Reply))}`;
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
