// What bench/chaos.ts checks after every fault (DESIGN section 12): recovery run to the end (the
// settlement job and the idempotency completer, driven by moving the service's test clock past the
// in-flight window and the 90 s lease), then the providers' own records against ours (every payment
// we call succeeded has exactly one charge, no charge without one: none doubled, none lost), nothing
// left processing, every key's answers consistent, and `payctl ledger verify` clean.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createAgent, type KeyRecord, kindOf, pay, runPool } from './chaos-client.js';
import type { EmulatorProcess, ServiceProcess } from './chaos-procs.js';
import { baseEnv } from './chaos-procs.js';
import { httpRequest } from './payments-procs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Violations of one scenario; every check prints what it looked at, passing or not. */
export class Verdict {
  readonly violations: string[] = [];
  constructor(readonly scenario: string) {}

  check(ok: boolean, what: string, detail = ''): boolean {
    if (!ok) this.violations.push(`${what}${detail ? `: ${detail}` : ''}`);
    process.stdout.write(`  [${ok ? 'ok' : 'VIOLATION'}] ${what}${detail ? ` (${detail})` : ''}\n`);
    return ok;
  }
}

export function note(text: string): void {
  process.stdout.write(`  ${text}\n`);
}

export async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function openWork(url: string): Promise<{ attempts: number; keys: number }> {
  const [row] = await query<{ attempts: number; keys: number }>(
    url,
    `select (select count(*)::int from payment_attempts where phase <> 'settled' or pending_operation is not null) as attempts,
            (select count(*)::int from idempotency_keys where finished_at is null) as keys`,
  );
  return row ?? { attempts: -1, keys: -1 };
}

/**
 * Recovery to the end without touching the service's internals: the clock moves past the in-flight
 * window and the lease, then keeps stepping so the settlement job's backoff and the completer come
 * due, until no attempt is open and no key unfinished (or the deadline passes).
 */
export async function recoverAll(service: ServiceProcess, dbUrl: string, deadlineMs = 180_000) {
  const started = performance.now();
  let steps = 0;
  let open = await openWork(dbUrl);
  while ((open.attempts > 0 || open.keys > 0) && performance.now() - started < deadlineMs) {
    await service.advanceClock(steps === 0 ? 400 : 300);
    steps++;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    open = await openWork(dbUrl);
  }
  const ms = performance.now() - started;
  note(
    `recovery: ${steps} clock steps, ${(ms / 1000).toFixed(1)} s; still open: ${open.attempts} attempts, ${open.keys} idempotency keys`,
  );
  return open;
}

/** Every key once more, same body and key: what a client retrying after the fault sees. */
export async function retryAll(service: ServiceProcess, keys: KeyRecord[], concurrency = 64): Promise<void> {
  const agent = createAgent(concurrency);
  await runPool(keys, concurrency, (record) => pay(service.port, service.secretKey, record, agent));
  agent.destroy();
}

const FINAL = new Set(['succeeded', 'requires_payment_method', 'canceled']);

/**
 * Each key's answers against the database: at most one payment per key; every 200 names that payment;
 * the last answer (a retry after recovery) is final and agrees with the database; a key that got a
 * succeeded answer at any time is a succeeded payment.
 */
export async function checkKeys(
  verdict: Verdict,
  dbUrl: string,
  keys: KeyRecord[],
  service: ServiceProcess,
): Promise<void> {
  const rows = await query<{ id: string; status: string; key: string }>(
    dbUrl,
    `select id, status, metadata->>'chaos_key' as key from payment_intents where metadata ? 'chaos_key'`,
  );
  const byKey = new Map<string, { id: string; status: string }[]>();
  for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
  const problems: string[] = [];
  const finals = new Map<string, number>();
  let replayedStale = 0;
  for (const record of keys) {
    const intents = byKey.get(record.key) ?? [];
    const intent = intents[0];
    if (intents.length > 1) problems.push(`${record.key}: ${intents.length} payments for one key`);
    const last = record.answers.at(-1);
    if (!last) {
      problems.push(`${record.key}: never answered`);
      continue;
    }
    finals.set(kindOf(last), (finals.get(kindOf(last)) ?? 0) + 1);
    for (const answer of record.answers) {
      if (answer.status !== 200) continue;
      if (answer.body?.id !== intent?.id)
        problems.push(`${record.key}: answered ${answer.body?.id}, stored ${intent?.id}`);
      if (answer.body?.status === 'succeeded' && intent?.status !== 'succeeded')
        problems.push(`${record.key}: answered succeeded, the payment is ${intent?.status}`);
    }
    if (last.status === 200) {
      const stored = record.answers.find((a) => a.status === 200 && !a.replayed);
      if (FINAL.has(String(last.body?.status)) && last.body?.status === intent?.status) {
        // The final state.
      } else if (last.replayed && stored && stored.body?.status === last.body?.status && intent) {
        // Stripe's semantics: a replay is the stored answer (here an unknown outcome, `processing`),
        // whatever happened since. The payment itself must show its final state.
        replayedStale++;
        const got = await httpRequest(
          service.port,
          'GET',
          `/v1/payment_intents/${intent.id}`,
          undefined,
          10_000,
          {
            authorization: `Bearer ${service.secretKey}`,
          },
        );
        const now =
          got.status === 200 ? (JSON.parse(got.body) as { status?: string }).status : `HTTP ${got.status}`;
        if (now !== intent.status || !FINAL.has(String(now)))
          problems.push(
            `${record.key}: replays ${last.body?.status}, GET shows ${now}, stored ${intent.status}`,
          );
      } else {
        problems.push(`${record.key}: final answer ${last.body?.status}, payment ${intent?.status}`);
      }
    } else if (last.status === 500 && last.body?.error?.code === 'request_interrupted') {
      // Died before the payment was created: the completer stores this answer; nothing may exist.
      if (intent)
        problems.push(`${record.key}: answered interrupted, yet payment ${intent.id} is ${intent.status}`);
    } else {
      problems.push(`${record.key}: final answer ${kindOf(last)}`);
    }
  }
  note(`final answers to the same keys: ${[...finals.entries()].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
  if (replayedStale > 0)
    note(
      `${replayedStale} keys replay their stored non-final answer (Stripe's semantics); GET of each payment checked`,
    );
  // Diagnostics for the first problems: every answer the key got, and its idempotency row.
  for (const problem of problems.slice(0, 3)) {
    const key = problem.slice(0, problem.indexOf(':'));
    const record = keys.find((r) => r.key === key);
    const [row] = await query(
      dbUrl,
      `select recovery_point, recovery_data, response_status, created_at, finished_at from idempotency_keys where key = $1`,
      [key],
    );
    note(`  ${key}: answers ${record?.answers.map(kindOf).join(' -> ')}; key row ${JSON.stringify(row)}`);
  }
  verdict.check(
    problems.length === 0,
    `${keys.length} keys: one payment per key, every 200 names it, final answers (or GET after a replayed processing) agree with the database`,
    problems.length ? `${problems.length} problems, first: ${problems.slice(0, 5).join('; ')}` : '',
  );
}

interface AttemptRow {
  id: string;
  payment_intent_id: string;
  provider: string;
  provider_payment_id: string | null;
  status: string;
  phase: string;
  pending_operation: string | null;
}

/** Our payments against the providers' own records, attempt by attempt. */
export async function checkMoney(verdict: Verdict, dbUrl: string, providers: EmulatorProcess[]) {
  const intents = await query<{ id: string; status: string }>(
    dbUrl,
    'select id, status from payment_intents',
  );
  const attempts = await query<AttemptRow>(
    dbUrl,
    'select id, payment_intent_id, provider, provider_payment_id, status, phase, pending_operation from payment_attempts',
  );
  const charged = new Map<string, Map<string, number>>();
  for (const provider of providers) charged.set(provider.kind, await provider.charges());
  const chargesOf = (a: AttemptRow) =>
    a.provider_payment_id ? (charged.get(a.provider)?.get(a.provider_payment_id) ?? 0) : 0;

  const statuses = new Map<string, number>();
  for (const i of intents) statuses.set(i.status, (statuses.get(i.status) ?? 0) + 1);
  const byProvider = new Map<string, number>();
  for (const a of attempts)
    if (a.status === 'succeeded') byProvider.set(a.provider, (byProvider.get(a.provider) ?? 0) + 1);
  const providerTotal = [...charged.values()].reduce(
    (sum, m) => sum + [...m.values()].reduce((s, n) => s + n, 0),
    0,
  );
  note(
    `payments ${intents.length} (${[...statuses].map(([s, n]) => `${s} ${n}`).join(', ')}); attempts ${attempts.length}, ` +
      `succeeded by provider ${JSON.stringify(Object.fromEntries(byProvider))}; provider charges ${providerTotal} ` +
      `(${providers.map((p) => `${p.kind} ${[...(charged.get(p.kind)?.values() ?? [])].reduce((s, n) => s + n, 0)}`).join(', ')})`,
  );

  const processing = intents.filter((i) => i.status === 'processing');
  verdict.check(
    processing.length === 0,
    'no payment left processing',
    processing
      .slice(0, 3)
      .map((i) => i.id)
      .join(', '),
  );
  const open = attempts.filter((a) => a.phase !== 'settled' || a.pending_operation !== null);
  verdict.check(
    open.length === 0,
    'no attempt left unsettled',
    open
      .slice(0, 3)
      .map((a) => `${a.id} ${a.phase}`)
      .join(', '),
  );

  const doubled = attempts.filter((a) => chargesOf(a) > 1);
  verdict.check(
    doubled.length === 0,
    'no provider object charged twice',
    doubled
      .slice(0, 3)
      .map((a) => a.id)
      .join(', '),
  );
  const disagree = attempts.filter((a) => chargesOf(a) > 0 !== (a.status === 'succeeded'));
  verdict.check(
    disagree.length === 0,
    'each attempt is succeeded exactly when its provider holds a charge for it',
    disagree
      .slice(0, 3)
      .map((a) => `${a.id} ${a.provider} ${a.status} charges ${chargesOf(a)}`)
      .join(', '),
  );
  const perIntent = new Map<string, number>();
  for (const a of attempts)
    perIntent.set(a.payment_intent_id, (perIntent.get(a.payment_intent_id) ?? 0) + chargesOf(a));
  const wrong = intents.filter((i) => (perIntent.get(i.id) ?? 0) !== (i.status === 'succeeded' ? 1 : 0));
  verdict.check(
    wrong.length === 0,
    'every succeeded payment has exactly one provider charge, every other none',
    wrong
      .slice(0, 3)
      .map((i) => `${i.id} ${i.status} charges ${perIntent.get(i.id) ?? 0}`)
      .join(', '),
  );
  const ours = new Set(attempts.map((a) => `${a.provider}:${a.provider_payment_id}`));
  const strangers: string[] = [];
  for (const [kind, map] of charged)
    for (const id of map.keys()) if (!ours.has(`${kind}:${id}`)) strangers.push(`${kind}:${id}`);
  verdict.check(
    strangers.length === 0,
    'no provider charge without a payment of ours (none lost)',
    strangers.slice(0, 3).join(', '),
  );
  const succeeded = statuses.get('succeeded') ?? 0;
  verdict.check(
    providerTotal === succeeded,
    `provider charges (${providerTotal}) = succeeded payments (${succeeded})`,
  );
}

/** `payctl ledger verify` in process against the database: exit 0 when every invariant holds. */
export async function ledgerVerify(verdict: Verdict, dbUrl: string, dataDir: string): Promise<void> {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'payctl.js'), 'ledger', 'verify'], {
      cwd: ROOT,
      // The service's DATA_DIR: payctl in process opens the same vault keys as the service.
      env: baseEnv({ DATABASE_URL: dbUrl, DATA_DIR: dataDir, LOG_LEVEL: 'error' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.on('exit', (exitCode) => resolve({ code: exitCode, output: text }));
  });
  const summary = output.trim().split('\n').slice(-3).join(' | ');
  verdict.check(
    code === 0,
    '`payctl ledger verify` clean (exit 0)',
    `exit ${code}: ${summary.slice(0, 300)}`,
  );
}

/** What a fault left behind, read straight from the database before anything recovers. */
export async function leftBehind(dbUrl: string): Promise<string> {
  const rows = await query<{ what: string; n: number }>(
    dbUrl,
    `select 'payment ' || status as what, count(*)::int as n from payment_intents group by status
     union all
     select 'attempt ' || phase || '/' || status, count(*)::int from payment_attempts
       where phase <> 'settled' or pending_operation is not null group by phase, status
     union all
     select 'key ' || recovery_point, count(*)::int from idempotency_keys where finished_at is null group by recovery_point`,
  );
  return rows.map((r) => `${r.what} ${r.n}`).join(', ');
}

/**
 * The whole aftermath of a fault: recovery, retries of every key, then the checks. `retries-first`:
 * clients retry as soon as the lease has passed (their retries resume the work); `jobs-first`: nobody
 * retries until the settlement job and the completer alone have finished everything, then every key is
 * retried (and must replay what the completer stored).
 */
export async function afterFault(
  verdict: Verdict,
  service: ServiceProcess,
  dbUrl: string,
  keys: KeyRecord[],
  providers: EmulatorProcess[],
  order: 'retries-first' | 'jobs-first' = 'retries-first',
): Promise<void> {
  await service.advanceClock(400);
  if (order === 'retries-first') await retryAll(service, keys);
  const open = await recoverAll(service, dbUrl);
  verdict.check(
    open.attempts === 0 && open.keys === 0,
    order === 'retries-first'
      ? 'recovery (client retries, settlement job, completer) finished every attempt and key'
      : 'the settlement job and the completer alone finished every attempt and key (no retry yet)',
  );
  await retryAll(service, keys);
  await checkKeys(verdict, dbUrl, keys, service);
  await checkMoney(verdict, dbUrl, providers);
  await ledgerVerify(verdict, dbUrl, String(service.env.DATA_DIR));
}
