// Compares one of our objects with Stripe's example object of the same type: every field Stripe has is
// present, and wherever both values are non-null their types (and nested shapes) agree.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/**
 * Stripe's example object of every resource (`openapi/fixtures3.json` of Stripe's public OpenAPI
 * repository, copied from the project's shared reference so a clone anywhere runs the shape tests).
 */
export const stripeFixtures = JSON.parse(
  readFileSync(new URL('../fixtures/stripe-fixtures3.json', import.meta.url), 'utf8'),
) as { resources: Record<string, Record<string, unknown>> };

export function shapeDifferences(ours: unknown, stripe: unknown, path = ''): string[] {
  if (stripe === null || ours === null) return [];
  const kind = (value: unknown) => (Array.isArray(value) ? 'array' : typeof value);
  if (kind(ours) !== kind(stripe))
    return [`${path || '(root)'}: ours is ${kind(ours)}, Stripe's is ${kind(stripe)}`];
  if (Array.isArray(ours) && Array.isArray(stripe)) {
    return stripe.length > 0 && ours.length > 0 ? shapeDifferences(ours[0], stripe[0], `${path}[0]`) : [];
  }
  if (typeof stripe !== 'object') return [];
  const problems: string[] = [];
  const ourObject = ours as Record<string, unknown>;
  for (const [key, value] of Object.entries(stripe as Record<string, unknown>)) {
    const child = path ? `${path}.${key}` : key;
    if (!(key in ourObject)) problems.push(`${child}: missing`);
    else problems.push(...shapeDifferences(ourObject[key], value, child));
  }
  return problems;
}

export function expectSameShape(ours: unknown, stripe: unknown): void {
  expect(shapeDifferences(ours, stripe)).toEqual([]);
}
