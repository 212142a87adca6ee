// Load generation for bench/payments.ts: card payments over keep-alive HTTP connections, closed loop
// (N connections, each sends its next payment when the last one is answered) and open loop (a fixed
// rate, whatever the answers do). Every answer is checked: 200 with status "succeeded" is a payment,
// anything else is an error, counted by kind with the first body of each kind kept for the report.
import http from 'node:http';

export const PAYMENT_BODY = 'amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true';
const REQUEST_TIMEOUT_MS = 30_000;
const SAMPLE_CHARS = 600;

export interface Target {
  port: number;
  secretKey: string;
  /** The payment request's form body, per request; PAYMENT_BODY (a card payment) by default. */
  body?: () => string;
}

export interface ErrorKind {
  count: number;
  sample: string;
}

export interface LoadResult {
  /** Succeeded payments answered inside the measured window. */
  succeeded: number;
  /** Answers inside the window that were not a succeeded payment (any status, network errors). */
  errors: number;
  /** The same, during warm-up and after the window (requests still in flight at its end). */
  errorsOutsideWindow: number;
  /** Succeeded payments in the whole run, warm-up included (each should bring one webhook back). */
  succeededTotal: number;
  windowSeconds: number;
  perSecond: number;
  /** Milliseconds from the request's send to the end of its answer, window only. */
  latencies: number[];
  errorKinds: Map<string, ErrorKind>;
  /** Open loop only: how late the generator sent requests behind their schedule (ms, max). */
  maxSendLagMs?: number;
  /** Open loop only: window payments per second from the window's first send to its last answer. */
  achievedPerSecond?: number;
}

export interface Answer {
  ok: boolean;
  kind: string;
  body: string;
}

export function createAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

function pay(agent: http.Agent, target: Target): Promise<Answer> {
  const body = target.body?.() ?? PAYMENT_BODY;
  return new Promise((resolve) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: '/v1/payment_intents',
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${target.secretKey}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve({ ok: false, kind: `response ${error.message}`, body: '' }));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve(classify(response.statusCode ?? 0, body));
        });
      },
    );
    request.setTimeout(REQUEST_TIMEOUT_MS, () =>
      request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s (client timeout)`)),
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ ok: false, kind: `network ${error.code ?? error.message}`, body: error.message }),
    );
    request.end(body);
  });
}

function classify(status: number, body: string): Answer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, kind: `${status} non-JSON`, body };
  }
  const record = (parsed ?? {}) as {
    status?: unknown;
    error?: { type?: unknown; code?: unknown; decline_code?: unknown };
  };
  if (status === 200 && record.status === 'succeeded') return { ok: true, kind: 'succeeded', body: '' };
  if (status === 200) return { ok: false, kind: `200 status=${String(record.status)}`, body };
  const error = record.error;
  const code = error ? `${String(error.type)}/${String(error.code ?? error.decline_code ?? '-')}` : '-';
  return { ok: false, kind: `${status} ${code}`, body };
}

/** One payment on a connection of its own: succeeded, or the kind of error and its body. */
export async function payOnce(target: Target): Promise<Answer> {
  const agent = createAgent(1);
  try {
    return await pay(agent, target);
  } finally {
    agent.destroy();
  }
}

function newResult(): LoadResult {
  return {
    succeeded: 0,
    errors: 0,
    errorsOutsideWindow: 0,
    succeededTotal: 0,
    windowSeconds: 0,
    perSecond: 0,
    latencies: [],
    errorKinds: new Map(),
  };
}

const ABANDONED: Answer = { ok: false, kind: 'not answered by the deadline (abandoned)', body: '' };

function record(result: LoadResult, answer: Answer, ms: number, inWindow: boolean): void {
  if (answer.ok) {
    result.succeededTotal++;
    if (inWindow) {
      result.succeeded++;
      result.latencies.push(ms);
    }
    return;
  }
  if (inWindow) result.errors++;
  else result.errorsOutsideWindow++;
  const kind = result.errorKinds.get(answer.kind);
  if (kind) kind.count++;
  else result.errorKinds.set(answer.kind, { count: 1, sample: answer.body.slice(0, SAMPLE_CHARS) });
}

/**
 * `connections` workers, each on its own keep-alive socket, send payments back to back for
 * `warmupSeconds + seconds`; the rate counts answers that ended inside the last `seconds`.
 */
export async function closedLoop(
  target: Target,
  connections: number,
  seconds: number,
  warmupSeconds: number,
): Promise<LoadResult> {
  const agent = createAgent(connections);
  const result = newResult();
  const start = performance.now();
  const windowStart = start + warmupSeconds * 1000;
  const windowEnd = windowStart + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < windowEnd) {
          const sent = performance.now();
          const answer = await pay(agent, target);
          const done = performance.now();
          record(result, answer, done - sent, done >= windowStart && done <= windowEnd);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  result.windowSeconds = seconds;
  result.perSecond = result.succeeded / seconds;
  return result;
}

/**
 * Open loop: payment i is sent at start + i / rate, whether or not earlier ones were answered (so a
 * slow answer cannot slow the offered load down); latencies of requests sent inside the window.
 * Answers still missing `graceSeconds` after the last send are abandoned and counted as errors.
 */
export async function openLoop(
  target: Target,
  rate: number,
  seconds: number,
  warmupSeconds: number,
  graceSeconds = 30,
): Promise<LoadResult> {
  const agent = createAgent(4096);
  const result = newResult();
  const start = performance.now();
  const total = Math.round(rate * (warmupSeconds + seconds));
  const firstInWindow = Math.round(rate * warmupSeconds);
  const pending = new Set<Promise<void>>();
  let maxLag = 0;
  let lastAnswer = 0;
  try {
    for (let i = 0; i < total; ) {
      const now = performance.now();
      while (i < total && start + (i * 1000) / rate <= now) {
        const scheduled = start + (i * 1000) / rate;
        maxLag = Math.max(maxLag, now - scheduled);
        const inWindow = i >= firstInWindow;
        const sent = performance.now();
        const done: Promise<void> = pay(agent, target).then((answer) => {
          if (!pending.delete(done)) return;
          const at = performance.now();
          if (inWindow) lastAnswer = Math.max(lastAnswer, at);
          record(result, answer, at - sent, inWindow);
        });
        pending.add(done);
        i++;
      }
      const next = start + (i * 1000) / rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...pending]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceSeconds * 1000);
      }),
    ]);
    clearTimeout(timer);
    // Whatever is still pending is given up on: counted once here, ignored if it answers later.
    const left = pending.size;
    pending.clear();
    for (let k = 0; k < left; k++) record(result, ABANDONED, 0, true);
  } finally {
    agent.destroy();
  }
  result.windowSeconds = seconds;
  result.perSecond = result.succeeded / seconds;
  result.maxSendLagMs = maxLag;
  const windowStart = start + warmupSeconds * 1000;
  result.achievedPerSecond =
    lastAnswer > windowStart ? (result.succeeded * 1000) / (lastAnswer - windowStart) : 0;
  return result;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
