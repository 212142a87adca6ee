// Loaded into the service by the payments benchmark (`node --import`) when BENCH_COUNT_STATEMENTS is
// set: counts every statement node-postgres sends, by its SQL text, and writes the counts to the file
// named by STATEMENT_COUNT_FILE every 500 ms. The benchmark reads the file before and after a run and
// divides by the payments made: statements per payment, and which ones. pg_stat_statements would do
// this in the server, but the shared PostgreSQL does not preload it and must not be restarted.
import { writeFileSync } from 'node:fs';
import pg from 'pg';

const file = process.env.STATEMENT_COUNT_FILE;
if (file) {
  const counts = new Map<string, number>();
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function counted(this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text =
      typeof first === 'string'
        ? first
        : typeof (first as { text?: unknown } | null)?.text === 'string'
          ? (first as { text: string }).text
          : '(submittable)';
    const key = text.replace(/\s+/g, ' ').slice(0, 160);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return original.apply(this, args);
  };
  const flush = () => writeFileSync(file, JSON.stringify(Object.fromEntries(counts)));
  setInterval(flush, 500).unref();
}
