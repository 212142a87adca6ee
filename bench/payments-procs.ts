// Child processes and resources for bench/payments.ts: the built service and the Stripe emulator as
// their own processes (`node bin/payctl.js ...`), fresh PostgreSQL databases, temporary folders, and
// what the benchmark reads from them (readiness, RSS and CPU time, metrics, emulator state). Every
// resource registers its own cleanup, run in reverse order even when the run fails or is interrupted.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import pg from 'pg';

// dist-bench/bench/ -> the repository root, where bin/payctl.js runs the built service from dist/.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAYCTL = path.join(ROOT, 'bin', 'payctl.js');
const CLOCK_TICKS_PER_SECOND = 100;

const cleanups: { name: string; run: () => Promise<void> | void }[] = [];

export function onCleanup(name: string, run: () => Promise<void> | void): () => Promise<void> {
  const entry = { name, run };
  cleanups.push(entry);
  // Returned: runs this one now (and only once), e.g. to stop a service between scenarios.
  return async () => {
    const index = cleanups.indexOf(entry);
    if (index < 0) return;
    cleanups.splice(index, 1);
    await entry.run();
  };
}

export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const entry = cleanups.pop()!;
    try {
      await entry.run();
    } catch (error) {
      process.stderr.write(`cleanup ${entry.name} failed: ${(error as Error).message}\n`);
    }
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onCleanup(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Database {
  name: string;
  url: string;
  /** Drops it now (also done at cleanup). */
  drop(): Promise<void>;
}

export async function createDatabase(adminUrl: string): Promise<Database> {
  const name = `bench_pay_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = onCleanup(`drop database ${name}`, async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`drop database if exists ${name} with (force)`);
    } finally {
      await client.end();
    }
  });
  return { name, url: url.toString(), drop };
}

/** The pids of the PostgreSQL backends connected to one database (to charge their CPU time). */
export async function backendPids(adminUrl: string, database: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [database],
    );
    return rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** The last 256 KB of its stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * A benchmark drives one key far past Stripe's 100 requests a second to measure the payment path; the
 * limits themselves are proven by test/rate-limits.test.ts, so here they are set out of the way.
 */
const BENCH_LIMITS = {
  RATE_LIMIT_PER_KEY_PER_SECOND: '1000000',
  RATE_LIMIT_PER_SHOPPER_PER_MINUTE: '1000000',
};

export function spawnPayctl(
  name: string,
  args: string[],
  /** The child's whole environment (nothing is inherited beyond it). */
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): Child {
  return spawnNode(name, PAYCTL, args, { ...BENCH_LIMITS, ...env }, nodeArgs);
}

/** `node <script> <args>` as a child of the run, stopped at cleanup; its output is kept. */
export function spawnNode(
  name: string,
  script: string,
  args: string[],
  /** The child's whole environment (nothing is inherited beyond it). */
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): Child {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > 512 * 1024) output = output.slice(-256 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const stopNow = onCleanup(`stop ${name}`, () => stop());
  if (child.pid === undefined) throw new Error(`${name}: could not be started`);
  return {
    name,
    process: child,
    pid: child.pid,
    output: () => output,
    stop: stopNow,
    exited,
  };
}

/**
 * On SIGINT or SIGTERM (Ctrl-C, or `npm run bench` stopping a part): stop the children, drop the
 * databases, remove the folders, run `beforeExit` (a benchmark's partial results), exit 130.
 */
export function cleanupOnSignals(beforeExit: () => void = () => {}): void {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`\n${signal}: stopping children, dropping databases, removing temp folders\n`);
      void cleanupAll().finally(() => {
        beforeExit();
        process.exit(130);
      });
    });
  }
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export function httpRequest(
  port: number,
  method: string,
  pathname: string,
  body?: unknown,
  timeoutMs = 5_000,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        method,
        agent: false,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`${method} ${pathname} timed out`)));
    request.on('error', reject);
    request.end(payload);
  });
}

/**
 * Polls `pathname` every `everyMs` until it answers 200; resolves with the milliseconds since
 * `startedAt`. Fails when the child exits first or `timeoutMs` passes.
 */
export async function waitReady(
  child: Child,
  port: number,
  pathname: string,
  startedAt: number,
  timeoutMs: number,
  everyMs = 5,
): Promise<number> {
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  while (performance.now() - startedAt < timeoutMs) {
    if (exited) throw new Error(`${child.name} exited before it was ready:\n${child.output().slice(-4000)}`);
    try {
      const answer = await httpRequest(port, 'GET', pathname, undefined, 1_000);
      if (answer.status === 200) return performance.now() - startedAt;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.output().slice(-4000)}`);
}

export function rssMegabytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds a process has used so far (0 if it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** RSS sampled every `everyMs` while it runs; `stop()` returns the largest value seen (MB). */
export function sampleRss(pid: number, everyMs = 200): { stop(): number } {
  let max = rssMegabytes(pid);
  const timer = setInterval(() => {
    const rss = rssMegabytes(pid);
    if (rss > max || Number.isNaN(max)) max = rss;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, rssMegabytes(pid) || 0);
    },
  };
}

/** Sums Prometheus counter samples of `name` by one label's value. */
export function counterByLabel(metricsText: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const match = new RegExp(`${label}="([^"]*)"`).exec(line);
    const key = match?.[1] ?? '';
    out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

/**
 * Samples what the database's backends are doing (state, wait event, the statement's start) every
 * `everyMs`; `stop()` returns how often each was seen, most frequent first: where the time goes.
 */
export async function sampleActivity(
  adminUrl: string,
  database: string,
  everyMs = 250,
): Promise<{ stop(): Promise<{ samples: number; seen: [string, number][] }> }> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const seen = new Map<string, number>();
  let samples = 0;
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running
      .then(async () => {
        const { rows } = await client.query<{
          state: string | null;
          wait: string | null;
          query: string | null;
        }>(
          `select state, wait_event_type || ':' || wait_event as wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as query
           from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
          [database],
        );
        samples++;
        for (const row of rows) {
          const key = `${row.state ?? '?'} | ${row.wait ?? 'on CPU'} | ${row.query ?? ''}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
      })
      .catch(() => {});
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await client.end();
      return { samples, seen: [...seen.entries()].sort((a, b) => b[1] - a[1]) };
    },
  };
}

export interface DatabaseStats {
  transactions: number;
  rows: { inserted: number; updated: number; deleted: number };
  tables: Map<string, { inserted: number; updated: number; scans: number }>;
}

/**
 * The database's cumulative statistics. PostgreSQL 15 backends publish theirs when a session ends
 * (or idles a while), so read this after the service has stopped for complete figures.
 */
export async function databaseStats(url: string): Promise<DatabaseStats> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const db = await client.query<Record<string, string>>(
      `select xact_commit + xact_rollback as transactions, tup_inserted, tup_updated, tup_deleted
         from pg_stat_database where datname = current_database()`,
    );
    const tables = await client.query<{ relname: string; ins: string; upd: string; scans: string }>(
      `select relname, n_tup_ins as ins, n_tup_upd as upd, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) as scans
         from pg_stat_user_tables`,
    );
    const row = db.rows[0] ?? {};
    return {
      transactions: Number(row.transactions ?? 0),
      rows: {
        inserted: Number(row.tup_inserted ?? 0),
        updated: Number(row.tup_updated ?? 0),
        deleted: Number(row.tup_deleted ?? 0),
      },
      tables: new Map(
        tables.rows.map((t) => [
          t.relname,
          { inserted: Number(t.ins), updated: Number(t.upd), scans: Number(t.scans) },
        ]),
      ),
    };
  } finally {
    await client.end();
  }
}

/** The bench admin enrols a TOTP authenticator (its secret only ever in this process) and confirms it. */
async function enrolTotp(port: number, token: string): Promise<void> {
  const auth = { authorization: `Bearer ${token}` };
  const started = await httpRequest(port, 'POST', '/admin/mfa/totp', {}, 5_000, auth);
  if (started.status !== 200)
    throw new Error(`bench admin TOTP enrolment: ${started.status} ${started.body}`);
  const uri = (JSON.parse(started.body) as { otpauth_uri: string }).otpauth_uri;
  const secret = new URL(uri).searchParams.get('secret');
  if (!secret) throw new Error(`bench admin TOTP enrolment: no secret in ${uri}`);
  const code = TOTP.generate({ secret: Secret.fromBase32(secret) });
  const confirmed = await httpRequest(port, 'POST', '/admin/mfa/totp/confirm', { code }, 5_000, auth);
  if (confirmed.status !== 200)
    throw new Error(`bench admin TOTP confirmation: ${confirmed.status} ${confirmed.body}`);
}

/**
 * Every bench payment uses one test card: a card-velocity pattern (more than 100 an hour is held for
 * review, runbook 003), which would measure the review path instead of an ordinary payment. That one
 * rule is turned off through the admin API (an admin needs a second factor first); the other fraud
 * rules stay on, so each payment's screening is in the figures.
 */
export async function turnOffCardVelocityRule(
  port: number,
  admin: { email: string; password: string },
): Promise<void> {
  const login = await httpRequest(port, 'POST', '/admin/login', admin);
  if (login.status !== 200) throw new Error(`bench admin login: ${login.status} ${login.body}`);
  const { token, mfa_enrolment_required } = JSON.parse(login.body) as {
    token: string;
    mfa_enrolment_required?: boolean;
  };
  if (mfa_enrolment_required) await enrolTotp(port, token);
  const changed = await httpRequest(
    port,
    'POST',
    '/admin/fraud/rules/card_velocity',
    { enabled: false },
    5_000,
    { authorization: `Bearer ${token}` },
  );
  if (changed.status !== 200) throw new Error(`card_velocity rule: ${changed.status} ${changed.body}`);
}
