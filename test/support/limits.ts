// The request limits every test service starts with (in process and spawned).

/** Limits raised out of the suites' way; a test passes '' for a variable to get its real default. */
export const TEST_LIMITS = {
  RATE_LIMIT_PER_KEY_PER_SECOND: '1000000',
  RATE_LIMIT_PER_SHOPPER_PER_MINUTE: '1000000',
  AUTH_FAILURES_ALLOWED: '1000000',
} as const;
