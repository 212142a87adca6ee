// PGlite and node-postgres parse some types differently (int8 is a number in one and a string in the
// other). Both drivers get these parsers so every query returns the same JavaScript types.

export const INT8_OID = 20;
export const NUMERIC_OID = 1700;

/** int8 -> number, refusing values that a double cannot hold exactly. */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`int8 value ${text} is outside the safe integer range`);
  }
  return value;
}

/** numeric stays a string: it is never used for money, and a string loses nothing. */
export function parseNumeric(text: string): string {
  return text;
}

export const sharedParsers: Record<number, (text: string) => unknown> = {
  [INT8_OID]: parseInt8,
  [NUMERIC_OID]: parseNumeric,
};
