// Stripe's search query language, the part payment intents need: clauses joined by AND, each
// `metadata['key']:'value'` or `field:'value'` for status, currency and customer. Anything else is a
// 400 naming `query`, so a typo never silently matches everything.
import { invalidParam } from '../../http/errors.js';

export type SearchClause =
  | { field: 'metadata'; key: string; value: string }
  | { field: 'status' | 'currency' | 'customer'; value: string };

const QUOTED = String.raw`(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")`;
const CLAUSE = new RegExp(
  String.raw`^\s*(metadata\[${QUOTED}\]|status|currency|customer)\s*:\s*${QUOTED}\s*$`,
);
const unquote = (value: string) => value.replace(/\\(.)/g, '$1');

export function parseSearchQuery(query: string): SearchClause[] {
  const parts = query.split(/\s+AND\s+/);
  if (query.trim() === '') throw invalidParam('query', 'The search query must not be empty.');
  return parts.map((part) => {
    const match = CLAUSE.exec(part);
    if (!match) {
      throw invalidParam(
        'query',
        `Unsupported search clause: ${part.trim()}. Use metadata['key']:'value', status:'...', currency:'...' or customer:'...', joined by AND.`,
      );
    }
    const value = unquote(match[4] ?? match[5] ?? '');
    if (match[1]?.startsWith('metadata')) {
      return { field: 'metadata', key: unquote(match[2] ?? match[3] ?? ''), value };
    }
    const field = match[1] as 'status' | 'currency' | 'customer';
    return { field, value: field === 'currency' ? value.toLowerCase() : value };
  });
}
