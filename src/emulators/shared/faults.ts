// Owns fault injection for the provider emulators (DESIGN section 11): what the API answers when a
// test or benchmark asks it to misbehave. Faults touch the provider's API paths only, never the
// /_emulator control API, so a test can always inspect state and switch faults off again.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

export const FAULT_MODES = ['refuse', 'hang', 'drop_after_charge', 'error_after_charge'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface FaultConfig {
  latency_ms: number;
  error_rate: number;
  status: number;
  mode: FaultMode | null;
}

export const NO_FAULTS: Readonly<FaultConfig> = Object.freeze({
  latency_ms: 0,
  error_rate: 0,
  status: 500,
  mode: null,
});

export const faultConfigSchema = z
  .object({
    latency_ms: z.number().int().min(0).max(600_000).optional(),
    error_rate: z.number().min(0).max(1).optional(),
    status: z.number().int().min(400).max(599).optional(),
    mode: z.enum(FAULT_MODES).nullable().optional(),
  })
  .strict();

export type FaultInput = z.infer<typeof faultConfigSchema>;

/** A provider-shaped error answer for `error_rate` and `error_after_charge`. */
export type ErrorAnswer = (status: number) => { body: string; headers?: Record<string, string> };

export class FaultInjector {
  private config: Readonly<FaultConfig> = NO_FAULTS;

  constructor(private readonly random: () => number = Math.random) {}

  current(): Readonly<FaultConfig> {
    return this.config;
  }

  /** Replaces the whole configuration: fields left out return to "no fault". */
  set(input: FaultInput): Readonly<FaultConfig> {
    this.config = Object.freeze({
      latency_ms: input.latency_ms ?? NO_FAULTS.latency_ms,
      error_rate: input.error_rate ?? NO_FAULTS.error_rate,
      status: input.status ?? NO_FAULTS.status,
      mode: input.mode ?? null,
    });
    return this.config;
  }

  reset(): Readonly<FaultConfig> {
    this.config = NO_FAULTS;
    return this.config;
  }

  /**
   * Applies the faults that act before anything is done. Returns true when the request has been
   * consumed (connection closed, left hanging, or answered with an error) and must go no further.
   */
  beforeRequest(request: FastifyRequest, reply: FastifyReply, answer: ErrorAnswer): boolean {
    const { mode, error_rate, status } = this.config;
    if (mode === 'refuse') {
      dropConnection(request, reply);
      return true;
    }
    if (mode === 'hang') {
      // Never answered; the server's forced close on shutdown reclaims the socket.
      reply.hijack();
      return true;
    }
    if (error_rate > 0 && this.random() < error_rate) {
      const { body, headers } = answer(status);
      if (headers) reply.headers(headers);
      reply.code(status).type('application/json').send(body);
      return true;
    }
    return false;
  }

  /** Resolves after the configured latency; requests wait here before they execute. */
  delay(): Promise<void> | null {
    const ms = this.config.latency_ms;
    return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : null;
  }

  /** What to do with the answer of a request that performed a charge. */
  afterCharge(): 'drop' | 'error' | null {
    if (this.config.mode === 'drop_after_charge') return 'drop';
    if (this.config.mode === 'error_after_charge') return 'error';
    return null;
  }
}

/** Closes the client's connection without an answer, as a crashed proxy or a network cut would. */
export function dropConnection(request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  request.raw.socket.destroy();
}

/**
 * Applies the before-anything faults to requests under the provider's API prefixes (`/v1/` for
 * Stripe; PayPal's `/v1/` and `/v2/`). Register it before the routes; the after-charge faults are
 * the routes' to apply, since only they know whether a request charged.
 */
export function installFaultHook(
  app: FastifyInstance,
  faults: FaultInjector,
  options: { apiPrefixes: readonly string[]; answer: ErrorAnswer },
): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!options.apiPrefixes.some((prefix) => request.url.startsWith(prefix))) return;
    if (faults.beforeRequest(request, reply, options.answer)) return reply;
  });
}
