// Owns the control API every provider emulator shares (DESIGN section 11): faults, clock, state and
// the webhook target. These routes are for tests, benchmarks and operators on loopback; no fault ever
// applies to them.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { ClockNotMovableError, moveClock, nowSeconds } from './emulator-clock.js';
import { type FaultInjector, faultConfigSchema } from './faults.js';

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Event types to deliver (`*` or absent: all), like a webhook endpoint's enabled_events. */
  enabled_events?: string[];
}

export function targetWants(target: WebhookTarget, type: string): boolean {
  const enabled = target.enabled_events;
  return !enabled || enabled.includes('*') || enabled.includes(type);
}

export interface EmulatorControl {
  faults: FaultInjector;
  clock: Clock;
  /** Every object the emulator holds, by type; `types` narrows the answer when given. */
  state(types: string[] | null): unknown;
  webhookTarget(): WebhookTarget | null;
  setWebhookTarget(target: WebhookTarget | null): void;
  /** Runs whatever became due (deadlines, expiries) after the clock moved. */
  clockMoved(): void;
}

const webhookTargetSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
    secret: z.string().min(1).max(500),
    enabled_events: z.array(z.string().min(1).max(100)).max(500).optional(),
  })
  .strict()
  .nullable();

const clockSchema = z
  .object({
    advance_seconds: z.number().min(0).optional(),
    to: z.union([z.number().int().min(0), z.string().min(1)]).optional(),
  })
  .strict()
  .refine((body) => (body.advance_seconds === undefined) !== (body.to === undefined), {
    message: 'give exactly one of advance_seconds or to',
  });

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: { type: 'invalid_request_error', message } });
}

function issues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}

export function registerControlRoutes(app: FastifyInstance, control: EmulatorControl): void {
  const clockAnswer = () => {
    const now = control.clock.now();
    return { now: nowSeconds(control.clock), iso: now.toISOString() };
  };

  app.get('/_emulator/faults', async () => control.faults.current());
  app.post('/_emulator/faults', async (request, reply) => {
    const parsed = faultConfigSchema.safeParse(request.body ?? {});
    if (!parsed.success) return badRequest(reply, issues(parsed.error));
    return control.faults.set(parsed.data);
  });
  app.delete('/_emulator/faults', async () => control.faults.reset());

  app.get('/_emulator/state', async (request) => {
    const query = request.query as { types?: unknown };
    const types = typeof query.types === 'string' && query.types ? query.types.split(',') : null;
    return control.state(types);
  });

  app.get('/_emulator/webhook_target', async () => control.webhookTarget() ?? { url: null });
  app.post('/_emulator/webhook_target', async (request, reply) => {
    const parsed = webhookTargetSchema.safeParse(request.body ?? null);
    if (!parsed.success) return badRequest(reply, issues(parsed.error));
    control.setWebhookTarget(parsed.data);
    return { url: parsed.data?.url ?? null };
  });
  app.delete('/_emulator/webhook_target', async () => {
    control.setWebhookTarget(null);
    return { url: null };
  });

  app.get('/_emulator/clock', async () => clockAnswer());
  app.post('/_emulator/clock', async (request, reply) => {
    const parsed = clockSchema.safeParse(request.body ?? {});
    if (!parsed.success) return badRequest(reply, issues(parsed.error));
    try {
      moveClock(control.clock, parsed.data);
    } catch (error) {
      if (error instanceof ClockNotMovableError || error instanceof RangeError) {
        return badRequest(reply, error.message);
      }
      throw error;
    }
    control.clockMoved();
    return clockAnswer();
  });
}
