// Processes for bench/chaos.ts: the built service (`node bin/payctl.js start`) on a port it keeps
// across SIGKILLs and restarts, the provider emulators as their own processes with their state on disk
// (so an emulator stopped for an outage comes back with what it charged), a private redis-server, and
// the service's test clock moved forward monotonically across restarts so recovery windows pass.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import {
  type Child,
  freePort,
  httpRequest,
  onCleanup,
  spawnPayctl,
  tempDir,
  waitReady,
} from './payments-procs.js';

const START_TIMEOUT_MS = 90_000;

/** Only what the run sets: never a DATABASE_URL or provider setting inherited from the shell. */
const SERVICE_KEYS =
  /^(DATABASE_URL|READ_REPLICA_|REDIS_URL|STRIPE_|PAYPAL_|EMULATORS|PORT|HOST|DATA_DIR|PUBLIC_URL|BOOTSTRAP_|OTEL_|TEST_CLOCK|ENHANCED_MONITORING|VAULT_KEYS_FILE|LOG_LEVEL|NODE_ENV|APP_ENV|SHUTDOWN_TIMEOUT_MS|CIRCUIT_|JOBS_)/;

export function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!SERVICE_KEYS.test(key)) env[key] = value;
  return { ...env, NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...extra };
}

export type ProviderKind = 'stripe' | 'paypal';

/** A provider emulator in its own process, state kept in a folder so a restart keeps its charges. */
export class EmulatorProcess {
  private child: Child | null = null;
  readonly dataDir: string;
  readonly webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;

  private constructor(
    readonly kind: ProviderKind,
    readonly port: number,
  ) {
    this.dataDir = tempDir(`chaos-${kind}-`);
  }

  static async start(kind: ProviderKind): Promise<EmulatorProcess> {
    const emulator = new EmulatorProcess(kind, await freePort());
    await emulator.start();
    return emulator;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const started = performance.now();
    const args = ['emulator', this.kind, '--port', String(this.port), '--data-dir', this.dataDir];
    this.child = spawnPayctl(`${this.kind}-emulator`, args, baseEnv({}));
    await waitReady(this.child, this.port, '/_emulator/faults', started, START_TIMEOUT_MS);
  }

  /** SIGTERM (the state is on disk): connections to its port are refused until start(). */
  async stop(): Promise<void> {
    await this.child?.stop();
    this.child = null;
  }

  async control(method: string, pathname: string, body?: unknown): Promise<unknown> {
    const answer = await httpRequest(this.port, method, pathname, body, 60_000);
    if (answer.status !== 200)
      throw new Error(`${this.kind} emulator ${pathname}: ${answer.status} ${answer.body}`);
    return JSON.parse(answer.body) as unknown;
  }

  faults(config: { latency_ms?: number; error_rate?: number; mode?: string | null }): Promise<unknown> {
    return this.control('POST', '/_emulator/faults', config);
  }

  clearFaults(): Promise<unknown> {
    return this.control('DELETE', '/_emulator/faults');
  }

  /** What the service needs to call this emulator (and, for Stripe, to accept its webhooks). */
  serviceEnv(): Record<string, string> {
    return this.kind === 'stripe'
      ? {
          STRIPE_API_BASE: this.url,
          STRIPE_SECRET_KEY: 'sk_test_chaos_stripe',
          STRIPE_WEBHOOK_SECRET: this.webhookSecret,
        }
      : { PAYPAL_API_BASE: this.url, PAYPAL_CLIENT_ID: 'chaos', PAYPAL_CLIENT_SECRET: 'chaos' };
  }

  /** Stripe's webhooks back to the service, as in production (the settlement's other evidence). */
  async sendWebhooksTo(service: { port: number }): Promise<void> {
    if (this.kind !== 'stripe') return;
    await this.control('POST', '/_emulator/webhook_target', {
      url: `http://127.0.0.1:${service.port}/webhooks/stripe`,
      secret: this.webhookSecret,
    });
  }

  /** Provider payment id (Stripe PaymentIntent, PayPal order) -> how many charges it holds. */
  async charges(): Promise<Map<string, number>> {
    const charged = new Map<string, number>();
    const add = (id: string) => charged.set(id, (charged.get(id) ?? 0) + 1);
    if (this.kind === 'stripe') {
      const state = (await this.control('GET', '/_emulator/state?types=charges')) as {
        charges: { payment_intent: string; status: string }[];
      };
      for (const charge of state.charges) if (charge.status === 'succeeded') add(charge.payment_intent);
    } else {
      const state = (await this.control('GET', '/_emulator/state')) as {
        captures: { status: string; supplementary_data?: { related_ids?: { order_id?: string } } }[];
      };
      for (const capture of state.captures ?? []) {
        if (capture.status === 'COMPLETED') add(capture.supplementary_data?.related_ids?.order_id ?? '?');
      }
    }
    return charged;
  }
}

/** The service's operator, logged in through the admin API. */
const ADMIN = { email: 'chaos-admin@example.test', password: randomBytes(18).toString('hex') };

/** The built service as a process on a fixed port: SIGKILL it, start it again, move its test clock. */
export class ServiceProcess {
  child: Child | null = null;
  readonly secretKey = `sk_test_chaos${randomBytes(12).toString('hex')}`;
  private token: string | null = null;
  // The service's test clock lives in its process: a restarted process starts at real time again.
  // The clock is only ever set to "where the last process's clock would be now" plus the step, so
  // timestamps written before a kill are never in the new process's future.
  private clockTarget = Date.now();
  private clockSetAt = Date.now();
  starts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  static async create(name: string, env: Record<string, string>): Promise<ServiceProcess> {
    const port = await freePort();
    const dataDir = tempDir(`chaos-${name}-`);
    const service = new ServiceProcess(
      name,
      port,
      baseEnv({
        PORT: String(port),
        DATA_DIR: dataDir,
        TEST_CLOCK: 'true',
        JOBS_POLL_INTERVAL_MS: '100',
        SHUTDOWN_TIMEOUT_MS: '5000',
        BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
        BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        ...env,
      }),
    );
    service.env.BOOTSTRAP_SECRET_KEY = service.secretKey;
    await service.start();
    return service;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  async start(): Promise<number> {
    const started = performance.now();
    this.starts++;
    this.child = spawnPayctl(`${this.name}#${this.starts}`, ['start'], this.env);
    const ms = await waitReady(this.child, this.port, '/health/ready', started, START_TIMEOUT_MS, 20);
    return ms;
  }

  /** SIGKILL: no shutdown hook runs, in-flight requests and jobs die mid-phase. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.process.kill('SIGKILL');
    await child.exited;
    await child.stop();
    this.child = null;
  }

  async stop(): Promise<void> {
    await this.child?.stop();
    this.child = null;
  }

  output(): string {
    return this.child?.output() ?? '';
  }

  /** Moves the service clock `seconds` past where it stands (or stood, before a restart). */
  async advanceClock(seconds: number): Promise<void> {
    const now = Date.now();
    const target = Math.max(now, this.clockTarget + (now - this.clockSetAt)) + seconds * 1000;
    const answer = await httpRequest(this.port, 'POST', '/_test/clock', { to: Math.ceil(target / 1000) });
    if (answer.status !== 200) throw new Error(`/_test/clock: ${answer.status} ${answer.body}`);
    this.clockTarget = Math.ceil(target / 1000) * 1000;
    this.clockSetAt = Date.now();
  }

  async admin(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: string }> {
    this.token ??= await this.operatorToken();
    return httpRequest(this.port, method, pathname, body, 10_000, { authorization: `Bearer ${this.token}` });
  }

  /**
   * A long-lived operator API token (sessions expire as the test clock moves). The admin role needs a
   * second factor: the first login enrols a TOTP authenticator and confirms it with a code.
   */
  private async operatorToken(): Promise<string> {
    const call = async (pathname: string, body: unknown, token?: string) => {
      const answer = await httpRequest(this.port, 'POST', pathname, body, 10_000, {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      });
      if (answer.status !== 200) throw new Error(`${pathname}: ${answer.status} ${answer.body}`);
      return JSON.parse(answer.body) as Record<string, unknown>;
    };
    const login = await call('/admin/login', ADMIN);
    const session = String(login.token);
    if (login.mfa_enrolment_required) {
      const { otpauth_uri } = await call('/admin/mfa/totp', {}, session);
      const secret = new URL(String(otpauth_uri)).searchParams.get('secret') ?? '';
      const code = TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() });
      await call('/admin/mfa/totp/confirm', { code }, session);
    }
    const created = await call('/admin/tokens', { name: `chaos-${this.name}` }, session);
    return String(created.token ?? created.secret);
  }

  /**
   * Every chaos payment uses one test card: more than 100 an hour is a card-velocity pattern held for
   * review (runbook 003). This run is about faults, so that rule is off; the others stay on.
   */
  async turnOffCardVelocity(): Promise<void> {
    const changed = await this.admin('POST', '/admin/fraud/rules/card_velocity', { enabled: false });
    if (changed.status !== 200) throw new Error(`card_velocity rule: ${changed.status} ${changed.body}`);
  }

  /** Each provider's circuit state as /admin/providers shows it (closed, open, half-open). */
  async circuits(): Promise<Record<string, string>> {
    const answer = await this.admin('GET', '/admin/providers');
    if (answer.status !== 200) throw new Error(`/admin/providers: ${answer.status} ${answer.body}`);
    const { data } = JSON.parse(answer.body) as { data: { provider: string; state?: string }[] };
    return Object.fromEntries(data.map((p) => [p.provider, String(p.state)]));
  }

  async healthy(): Promise<boolean> {
    try {
      return (await httpRequest(this.port, 'GET', '/health/ready', undefined, 2_000)).status === 200;
    } catch {
      return false;
    }
  }
}

/** A private redis-server on its own port (never the shared one): stop, start, FLUSHALL at will. */
export class RedisProcess {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort(), tempDir('chaos-redis-'));
    redis.start();
    onCleanup(`redis ${redis.port}`, () => redis.stop());
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  start(): void {
    execFileSync('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--dir',
      this.dir,
      '--pidfile',
      path.join(this.dir, 'redis.pid'),
    ]);
    for (let i = 0; i < 100; i++) {
      if (this.cli('ping') === 'PONG') return;
      execFileSync('sleep', ['0.05']);
    }
    throw new Error(`redis-server on ${this.port} did not answer PING`);
  }

  stop(): void {
    this.cli('shutdown', 'nosave');
  }

  flushAll(): string {
    return this.cli('flushall');
  }

  private cli(...args: string[]): string {
    try {
      return execFileSync('redis-cli', ['-p', String(this.port), ...args], {
        encoding: 'utf8',
        timeout: 5_000,
      }).trim();
    } catch (error) {
      return (error as Error).message;
    }
  }
}
