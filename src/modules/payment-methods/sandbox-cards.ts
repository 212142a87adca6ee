// Stripe's test-mode cards and test payment method ids. Test mode accepts them (the emulators give each
// its scenario); live mode refuses every one of them at creation and answers 404 for the ids (DESIGN 4).
// Funding and country are known only for these cards: a real card's BIN data is not available here, so
// it reads funding "unknown" and country null rather than a guess.

/** Test payment method ids and the card each stands for. */
export const TEST_PAYMENT_METHODS: Readonly<Record<string, string>> = {
  pm_card_visa: '4242424242424242',
  pm_card_visa_debit: '4000056655665556',
  pm_card_mastercard: '5555555555554444',
  pm_card_amex: '378282246310005',
  pm_card_discover: '6011111111111117',
  pm_card_chargeDeclined: '4000000000000002',
  pm_card_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_chargeDeclinedProcessingError: '4000000000000119',
  pm_card_authenticationRequired: '4000002500003155',
  pm_card_createDispute: '4000000000000259',
  pm_card_createDisputeInquiry: '4000000000001976',
};

const COUNTRY_CARDS: Record<string, string> = {
  '4000000760000002': 'BR',
  '4000001240000000': 'CA',
  '4000004840008001': 'MX',
  '4000000400000008': 'AT',
  '4000000560000004': 'BE',
  '4000002080000001': 'DK',
  '4000002460000001': 'FI',
  '4000002500000003': 'FR',
  '4000002760000016': 'DE',
  '4000003720000005': 'IE',
  '4000003720000278': 'IE',
  '4000003800000008': 'IT',
  '4000004420000006': 'LU',
  '4000005280000002': 'NL',
  '4000005780000007': 'NO',
  '4000006200000007': 'PT',
  '4000007240000007': 'ES',
  '4000007520000008': 'SE',
  '4000007560000009': 'CH',
  '4000008260000000': 'GB',
  '4000058260000005': 'GB',
  '5555558265554449': 'GB',
  '4000000360000006': 'AU',
  '4000003440000004': 'HK',
  '4000003920000003': 'JP',
  '3530111333300000': 'JP',
  '4000007020000003': 'SG',
  '4000005540000008': 'NZ',
  '4000002500001001': 'FR',
};

const FUNDING: Record<string, 'debit' | 'prepaid'> = {
  '4000056655665556': 'debit',
  '5200828282828210': 'debit',
  '6200000000000047': 'debit',
  '4000058260000005': 'debit',
  '5105105105105100': 'prepaid',
};

/** Brand, decline, 3DS, dispute, fraud and check-result cards from Stripe's testing documentation. */
const SCENARIO_CARDS = [
  '4242424242424242',
  '4000056655665556',
  '5555555555554444',
  '2223003122003222',
  '5200828282828210',
  '5105105105105100',
  '378282246310005',
  '371449635398431',
  '6011111111111117',
  '6011000990139424',
  '6011981111111113',
  '3056930009020004',
  '36227206271667',
  '6555900000604105',
  '3566002020360505',
  '6200000000000005',
  '6200000000000047',
  '6205500000000000004',
  '4000000000000002',
  '4000000000009995',
  '4000000000009987',
  '4000000000009979',
  '4000000000000069',
  '4000000000000127',
  '4000000000000119',
  '4100000000000019',
  '4000000000000101',
  '4000000000000010',
  '4000000000000028',
  '4000000000000036',
  '4000000000000044',
  '4000000000000341',
  '4000000000000259',
  '4000000000002685',
  '4000000000001976',
  '4000000000005423',
  '4000000000000077',
  '4000000000000093',
  '4000000000005126',
  '4000000000006975',
  '4000000000004954',
  '4000000000009235',
  '4000002500003155',
  '4000002760003184',
  '4000008260003178',
  '4000000000003220',
  '4000000000003063',
  '4000000000003089',
  '4000000000003055',
  '4000000000003097',
];

const SANDBOX = new Set([
  ...SCENARIO_CARDS,
  ...Object.keys(COUNTRY_CARDS),
  ...Object.values(TEST_PAYMENT_METHODS),
]);

export function isSandboxCard(digits: string): boolean {
  return SANDBOX.has(digits);
}

export function cardFunding(digits: string): string {
  return FUNDING[digits] ?? (SANDBOX.has(digits) ? 'credit' : 'unknown');
}

export function cardCountry(digits: string): string | null {
  return COUNTRY_CARDS[digits] ?? (SANDBOX.has(digits) ? 'US' : null);
}

/** Sandbox cards whose confirmation always asks for 3-D Secure, so a confirm without return_url is refused up front. */
const AUTHENTICATION_CARDS = new Set(['4000002500003155', '4000002760003184', '4000003800000446']);

export function needsAuthentication(cardNumber: string): boolean {
  return AUTHENTICATION_CARDS.has(cardNumber);
}
