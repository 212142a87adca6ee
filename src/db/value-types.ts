// PGlite and node-postgres parse some types differently (int8 is a number in one and a string in the
// other). Both drivers get these parsers so every query returns the same JavaScript types.

export const INT8_OID = 20;
export const INT8_ARRAY_OID = 1016;
export const NUMERIC_OID = 1700;
export const NUMERIC_ARRAY_OID = 1231;
export const DATE_OID = 1082;
export const DATE_ARRAY_OID = 1182;
export const INTERVAL_OID = 1186;
export const BYTEA_OID = 17;

/** int8 -> number, refusing values that a double cannot hold exactly. */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`int8 value ${text} is outside the safe integer range`);
  }
  return value;
}

/**
 * An array literal whose elements never need quoting (numbers, dates): braces, commas, bare tokens and
 * NULL, nested for more dimensions.
 */
function parseUnquotedArray<T>(text: string, element: (token: string) => T): unknown[] {
  const json = text
    .replace(/\{/g, '[')
    .replace(/\}/g, ']')
    .replace(/[^[\],]+/g, (token) => (token === 'NULL' ? 'null' : JSON.stringify(token)));
  const convert = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(convert) : value === null ? null : element(value as string);
  return convert(JSON.parse(json)) as unknown[];
}

/** int8[] -> number[]: node-postgres would return strings here while PGlite returns numbers. */
export const parseInt8Array = (text: string) => parseUnquotedArray(text, parseInt8);

/** numeric stays a string: it is never used for money, and a string loses nothing. */
export function parseNumeric(text: string): string {
  return text;
}

/** bytea -> Buffer on both drivers (PGlite would give a plain Uint8Array). */
export function parseBytea(text: string): Buffer {
  if (!text.startsWith('\\x')) throw new Error('bytea must arrive in hex format (bytea_output = hex)');
  return Buffer.from(text.slice(2), 'hex');
}

const asText = (text: string) => text;

export const sharedParsers: Record<number, (text: string) => unknown> = {
  [INT8_OID]: parseInt8,
  [INT8_ARRAY_OID]: parseInt8Array,
  [NUMERIC_OID]: parseNumeric,
  // node-postgres turns numeric[] into floats, losing digits; PGlite keeps strings.
  [NUMERIC_ARRAY_OID]: (text) => parseUnquotedArray(text, asText),
  // A calendar date has no time zone: node-postgres would pin it to the server's local midnight and
  // PGlite to UTC midnight, so both return 'YYYY-MM-DD'.
  [DATE_OID]: asText,
  [DATE_ARRAY_OID]: (text) => parseUnquotedArray(text, asText),
  // node-postgres returns an interval object, PGlite the text; the text is what PostgreSQL printed.
  [INTERVAL_OID]: asText,
  [BYTEA_OID]: parseBytea,
};
