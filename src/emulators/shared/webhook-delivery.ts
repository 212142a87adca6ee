// Owns outbound webhook delivery from an emulator: each event body is POSTed to the one configured
// target, signed per attempt by the provider's scheme, and retried with backoff when the target fails.
// Bounded on every side (in-flight requests, queued bodies, attempts) so a dead target cannot grow
// memory without limit; what is given up on is counted, not hidden.
import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../../observability/logger.js';
import type { WebhookTarget } from './control-routes.js';

export interface WebhookDeliveryOptions {
  /** Builds the signature headers for one attempt; called again on every retry, as providers do. */
  sign: (body: string, secret: string) => Record<string, string>;
  userAgent: string;
  /** Waits before the 2nd, 3rd, ... attempt; its length bounds the retries. */
  retryDelaysMs?: readonly number[];
  maxInFlight?: number;
  maxQueued?: number;
  timeoutMs?: number;
  logger?: Logger;
}

interface Delivery {
  body: string;
  attempt: number;
}

export interface DeliveryStats {
  delivered: number;
  retried: number;
  failed: number;
  dropped: number;
  queued: number;
  in_flight: number;
}

export const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000];

export class WebhookDelivery {
  private target: WebhookTarget | null = null;
  private targetUrl: URL | null = null;
  // A FIFO with a moving head: Array#shift is O(n), and the queue can hold many thousands of bodies
  // while a slow target catches up.
  private queue: Delivery[] = [];
  private head = 0;
  private inFlight = 0;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };
  private closed = false;
  private readonly counts = { delivered: 0, retried: 0, failed: 0, dropped: 0 };
  private readonly retryDelaysMs: readonly number[];
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: WebhookDeliveryOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.maxInFlight = options.maxInFlight ?? 64;
    this.maxQueued = options.maxQueued ?? 100_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  setTarget(target: WebhookTarget | null): void {
    this.target = target;
    this.targetUrl = target ? new URL(target.url) : null;
  }

  currentTarget(): WebhookTarget | null {
    return this.target;
  }

  enabled(): boolean {
    return this.target !== null && !this.closed;
  }

  enqueue(body: string): void {
    if (!this.enabled()) return;
    if (this.queued() >= this.maxQueued) {
      this.counts.dropped++;
      return;
    }
    this.queue.push({ body, attempt: 1 });
    this.pump();
  }

  stats(): DeliveryStats {
    return { ...this.counts, queued: this.queued(), in_flight: this.inFlight };
  }

  close(): void {
    this.closed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.queue = [];
    this.head = 0;
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queued() > 0 && this.target) {
      const delivery = this.take();
      this.inFlight++;
      void this.send(this.target, delivery).then((ok) => {
        this.inFlight--;
        if (ok) this.counts.delivered++;
        else this.scheduleRetry(delivery);
        this.pump();
      });
    }
  }

  private queued(): number {
    return this.queue.length - this.head;
  }

  private take(): Delivery {
    const delivery = this.queue[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return delivery;
  }

  private scheduleRetry(delivery: Delivery): void {
    const wait = this.retryDelaysMs[delivery.attempt - 1];
    if (wait === undefined || this.closed) {
      this.counts.failed++;
      this.options.logger?.warn({ attempts: delivery.attempt }, 'emulator webhook given up after retries');
      return;
    }
    this.counts.retried++;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.closed) return;
      this.queue.push({ body: delivery.body, attempt: delivery.attempt + 1 });
      this.pump();
    }, wait);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private send(target: WebhookTarget, delivery: Delivery): Promise<boolean> {
    return new Promise((resolve) => {
      const url = this.targetUrl;
      if (!url) {
        resolve(false);
        return;
      }
      const secure = url.protocol === 'https:';
      const request = (secure ? https : http).request(
        url,
        {
          method: 'POST',
          agent: secure ? this.agents.https : this.agents.http,
          timeout: this.timeoutMs,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(delivery.body),
            'user-agent': this.options.userAgent,
            ...this.options.sign(delivery.body, target.secret),
          },
        },
        (response) => {
          response.resume();
          const status = response.statusCode ?? 0;
          response.on('end', () => resolve(status >= 200 && status < 300));
          response.on('error', () => resolve(false));
        },
      );
      request.on('timeout', () => request.destroy(new Error('webhook delivery timed out')));
      request.on('error', (error) => {
        this.options.logger?.debug(
          { err: error.message, attempt: delivery.attempt },
          'webhook attempt failed',
        );
        resolve(false);
      });
      request.end(delivery.body);
    });
  }
}
