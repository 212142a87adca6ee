// Card numbers (PANs) in text: the one Luhn check and the one mask (BIN and last 4, which PCI DSS
// allows for display) shared by card validation, the vault's verification, API errors and the logger.

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

/** A run of 13 to 19 digits, spaces or dashes allowed between them: what a card number may look like. */
export const DIGIT_RUN = /\d(?:[ -]?\d){12,18}/g;

/** Masks a digit run to BIN + `*` + last 4 when it is a card number (passes Luhn); returns others as given. */
export function maskIfCardNumber(run: string): string {
  const digits = run.replace(/[ -]/g, '');
  if (!luhnValid(digits)) return run;
  return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
}

/** Masks every card number in `text`; other long numbers (limits such as 1000000000000) stay readable. */
export function maskCardNumbers(text: string): string {
  return text.replace(DIGIT_RUN, maskIfCardNumber);
}
