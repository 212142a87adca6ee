// Load generation for bench/webhooks.ts: any request over keep-alive HTTP connections, closed loop (N
// workers back to back) or open loop (a fixed rate whatever the answers do), and a local receiver that
// answers every delivery at once and remembers when each arrived.
import http from 'node:http';

const REQUEST_TIMEOUT_MS = 30_000;

export interface Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Answer {
  status: number;
  body: string;
}

export interface Counted {
  ok: number;
  errors: Map<string, { count: number; sample: string }>;
  latencies: number[];
}

export function createAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

export function send(agent: http.Agent, port: number, request: Request): Promise<Answer> {
  return new Promise((resolve) => {
    const outgoing = http.request(
      {
        host: '127.0.0.1',
        port,
        path: request.path,
        method: request.method,
        agent,
        headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve({ status: 0, body: error.message }));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    outgoing.setTimeout(REQUEST_TIMEOUT_MS, () => outgoing.destroy(new Error('client timeout')));
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: 0, body: `network ${error.code ?? error.message}` }),
    );
    outgoing.end(request.body);
  });
}

function newCounted(): Counted {
  return { ok: 0, errors: new Map(), latencies: [] };
}

function count(counted: Counted, answer: Answer, ms: number, ok: (answer: Answer) => boolean): void {
  counted.latencies.push(ms);
  if (ok(answer)) {
    counted.ok++;
    return;
  }
  const kind = `${answer.status}`;
  const known = counted.errors.get(kind);
  if (known) known.count++;
  else counted.errors.set(kind, { count: 1, sample: answer.body.slice(0, 400) });
}

/** `connections` workers send `next(i)` back to back until `total` requests were answered. */
export async function closedLoop(
  port: number,
  connections: number,
  total: number,
  next: (i: number) => Request,
  ok: (answer: Answer) => boolean,
): Promise<Counted & { seconds: number }> {
  const agent = createAgent(connections);
  const counted = newCounted();
  let issued = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (issued < total) {
          const i = issued++;
          const sent = performance.now();
          const answer = await send(agent, port, next(i));
          count(counted, answer, performance.now() - sent, ok);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { ...counted, seconds: (performance.now() - started) / 1000 };
}

/**
 * Request i goes out at start + i / rate whatever earlier answers do; `onAnswer` hears each answer
 * with the wall-clock time (Date.now) it arrived, so a receiver's clock can be compared with it.
 */
export async function openLoop(
  port: number,
  rate: number,
  total: number,
  next: (i: number) => Request,
  ok: (answer: Answer) => boolean,
  onAnswer: (i: number, answer: Answer, answeredAt: number) => void = () => {},
): Promise<Counted & { maxSendLagMs: number }> {
  const agent = createAgent(2048);
  const counted = newCounted();
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let maxLag = 0;
  try {
    for (let i = 0; i < total; ) {
      const now = performance.now();
      while (i < total && start + (i * 1000) / rate <= now) {
        maxLag = Math.max(maxLag, now - (start + (i * 1000) / rate));
        const index = i;
        const sent = performance.now();
        pending.push(
          send(agent, port, next(index)).then((answer) => {
            onAnswer(index, answer, Date.now());
            count(counted, answer, performance.now() - sent, ok);
          }),
        );
        i++;
      }
      const due = start + (i * 1000) / rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
    await Promise.all(pending);
  } finally {
    agent.destroy();
  }
  return { ...counted, maxSendLagMs: maxLag };
}

export interface Receiver {
  port: number;
  /** Event id -> Date.now() of the first delivery of it. */
  firstSeen: Map<string, number>;
  /** Object id in the event's data -> Date.now() of its first delivery. */
  objectSeen: Map<string, number>;
  deliveries: number;
  close(): Promise<void>;
}

/** A webhook receiver answering 200 at once; it does not verify (the test suite does that). */
export async function startReceiver(): Promise<Receiver> {
  const receiver: Omit<Receiver, 'port' | 'close'> = {
    firstSeen: new Map(),
    objectSeen: new Map(),
    deliveries: 0,
  };
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = Date.now();
      receiver.deliveries++;
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          id: string;
          data?: { object?: { id?: string } };
        };
        if (!receiver.firstSeen.has(event.id)) receiver.firstSeen.set(event.id, at);
        const objectId = event.data?.object?.id;
        if (objectId && !receiver.objectSeen.has(objectId)) receiver.objectSeen.set(objectId, at);
      } catch {
        // counted as a delivery all the same; the suite checks bodies
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(receiver, {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
