// Classifies database errors: an unreachable or restarting database is an outage (503, retry), not a bug.
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '53300', // too_many_connections: the server is full for now
  '57P01', // admin_shutdown (pg_terminate_backend, server stopping)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (server starting)
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

const OUTAGE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'the database system is',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: string; message?: string };
  if (code && OUTAGE_CODES.has(code)) return true;
  if (message && OUTAGE_MESSAGES.some((fragment) => message.includes(fragment))) return true;
  // Connecting to a host name with several addresses fails with an AggregateError of each attempt.
  const attempts = (error as { errors?: unknown }).errors;
  if (
    Array.isArray(attempts) &&
    attempts.some((attempt) => attempt !== error && isDatabaseUnavailable(attempt))
  )
    return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isDatabaseUnavailable(cause);
}

/** A unique index refused a row: a concurrent writer got there first, so callers re-read. */
export function isUniqueViolation(error: unknown): boolean {
  return !!error && typeof error === 'object' && (error as { code?: string }).code === '23505';
}
