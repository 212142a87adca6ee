// Owns structured logging: pino JSON lines with a redaction list as a second net behind the masking
// types, so a secret or card number that reaches a log call is still printed as [REDACTED].
import pino from 'pino';

export type Logger = pino.Logger;

/** Paths pino censors wherever they appear in a logged object (one and two levels deep). */
const SENSITIVE_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'password_hash',
  'secret',
  'token',
  'api_key',
  'number',
  'card_number',
  'cvc',
  'cvv',
  'client_secret',
  'totp_secret',
];

const redactPaths = [
  ...SENSITIVE_KEYS.map((key) => `*.${key}`),
  ...SENSITIVE_KEYS.map((key) => `*.*.${key}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
];

export interface LoggerOptions {
  level: string;
  /** Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'payment-service' },
      redact: { paths: redactPaths, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
