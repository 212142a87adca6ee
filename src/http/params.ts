// Parameter types shared by every route. Form bodies arrive as strings and JSON bodies as typed values;
// these schemas decode both to the same canonical value, so `amount=100` and `{"amount":100}` are equal.
import { z } from 'zod';

/** An integer given as a JSON number or a decimal string. Rejects 1.5, "1e3", "abc". */
export const integer = (what = 'an integer') =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const parsed =
      typeof value === 'number' ? value : /^-?\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed)) {
      ctx.addIssue({ code: 'custom', message: `must be ${what} (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    return parsed;
  });

export const boundedInteger = (min: number, max: number) =>
  integer().refine((n) => n >= min && n <= max, { message: `must be between ${min} and ${max}` });

export const boolean = () =>
  z.union([z.boolean(), z.enum(['true', 'false'])]).transform((value) => value === true || value === 'true');

export const text = (max = 5000) => z.string().max(max, { message: `must be at most ${max} characters` });

/** A string field that the client may clear with an empty string (Stripe's convention). */
export const clearableText = (max = 5000) => text(max).transform((value) => (value === '' ? null : value));

export const email = () =>
  z
    .string()
    .max(512, { message: 'must be at most 512 characters' })
    .transform((value) => (value === '' ? null : value))
    .refine((value) => value === null || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value), {
      message: 'must be a valid email address',
    });

export const objectId = (prefix: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[A-Za-z0-9]{1,64}$`), { message: `must be an id starting ${prefix}_` });

const METADATA_MAX_KEYS = 50;
const METADATA_MAX_KEY = 40;
const METADATA_MAX_VALUE = 500;

/**
 * Metadata as sent: up to 50 keys, keys <= 40 chars, values <= 500 chars. An empty value removes the key
 * on update; the whole metadata sent as "" clears it (both Stripe's rules).
 */
export const metadata = () =>
  z.union([
    z.literal('').transform(() => null),
    z
      .record(
        z.string(),
        z.union([z.string(), z.number(), z.boolean()]).transform((value) => String(value)),
      )
      .superRefine((record, ctx) => {
        const keys = Object.keys(record);
        if (keys.length > METADATA_MAX_KEYS) {
          ctx.addIssue({
            code: 'custom',
            message: `can have at most ${METADATA_MAX_KEYS} keys (got ${keys.length})`,
          });
        }
        for (const key of keys) {
          if (key.length === 0 || key.length > METADATA_MAX_KEY) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `keys must be 1 to ${METADATA_MAX_KEY} characters (got ${key.length})`,
            });
          } else if ((record[key] ?? '').length > METADATA_MAX_VALUE) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `values must be at most ${METADATA_MAX_VALUE} characters`,
            });
          }
        }
      }),
  ]);

export type MetadataUpdate = Record<string, string> | null;

/** Applies an update to stored metadata: merged, "" removes a key, null clears all. */
export function mergeMetadata(current: Record<string, string>, update: MetadataUpdate | undefined) {
  if (update === undefined) return current;
  if (update === null) return {};
  const merged: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  if (Object.keys(merged).length > METADATA_MAX_KEYS) {
    throw new MetadataLimitError(Object.keys(merged).length);
  }
  return merged;
}

export class MetadataLimitError extends Error {
  constructor(readonly keys: number) {
    super(`metadata can have at most ${METADATA_MAX_KEYS} keys (would have ${keys})`);
  }
}

/** Strips "" values from metadata given on create, where there is nothing to remove. */
export function initialMetadata(update: MetadataUpdate | undefined): Record<string, string> {
  return mergeMetadata({}, update);
}

export const expandList = () =>
  z.union([
    z.array(z.string().max(200)).max(20),
    z
      .string()
      .max(200)
      .transform((value) => [value]),
  ]);

/** An IANA time zone name (`Europe/Berlin`, `UTC`) as Node's ICU knows it; PostgreSQL knows the same names. */
export const timeZone = () =>
  text(64).refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(zone);
      } catch {
        return false;
      }
    },
    { message: 'must be an IANA time zone such as Europe/Berlin' },
  );
