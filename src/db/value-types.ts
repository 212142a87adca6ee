// PGlite and node-postgres parse some types differently (int8 is a number in one and a string in the
// other). Both drivers get these parsers so every query returns the same JavaScript types.

export const INT8_OID = 20;
export const INT8_ARRAY_OID = 1016;
export const NUMERIC_OID = 1700;

/** int8 -> number, refusing values that a double cannot hold exactly. */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`int8 value ${text} is outside the safe integer range`);
  }
  return value;
}

/**
 * int8[] -> number[] (nested for more dimensions). node-postgres would return strings here while PGlite
 * returns numbers. Elements never need quoting, so the literal is braces, commas, digits and NULL.
 */
export function parseInt8Array(text: string): unknown[] {
  const json = text
    .replace(/\{/g, '[')
    .replace(/\}/g, ']')
    .replace(/NULL/g, 'null')
    .replace(/-?\d+/g, '"$&"');
  const toNumbers = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(toNumbers) : value === null ? null : parseInt8(value as string);
  return toNumbers(JSON.parse(json)) as unknown[];
}

/** numeric stays a string: it is never used for money, and a string loses nothing. */
export function parseNumeric(text: string): string {
  return text;
}

export const sharedParsers: Record<number, (text: string) => unknown> = {
  [INT8_OID]: parseInt8,
  [INT8_ARRAY_OID]: parseInt8Array,
  [NUMERIC_OID]: parseNumeric,
};
