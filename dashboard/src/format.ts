// How amounts, times and rates read on screen. Amounts are integer minor units; the currencies with no
// minor unit (JPY, KRW...) and three (BHD, KWD...) are the ones Stripe lists.

const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export function money(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) return '—';
  const code = (currency ?? '').toLowerCase();
  const exponent = ZERO_DECIMAL.has(code) ? 0 : THREE_DECIMAL.has(code) ? 3 : 2;
  const value = amount / 10 ** exponent;
  try {
    return new Intl.NumberFormat('en', {
      style: 'currency',
      currency: code.toUpperCase() || 'USD',
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    }).format(value);
  } catch {
    return `${value.toFixed(exponent)} ${code.toUpperCase()}`;
  }
}

export function time(seconds: number | string | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const date = typeof seconds === 'number' ? new Date(seconds * 1000) : new Date(seconds);
  if (Number.isNaN(date.getTime())) return String(seconds);
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
}

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return `${(rate * 100).toFixed(1)}%`;
}

/** Seconds from a `<input type="datetime-local">` value read as UTC, or undefined when empty. */
export function secondsOfLocalInput(value: string): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(`${value}:00Z`);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
