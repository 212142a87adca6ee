// Owns structured logging: pino JSON lines with a redaction list as a second net behind the masking
// types, so a secret or card number that reaches a log call is still printed as [REDACTED].
import pino from 'pino';
import { maskIfCardNumber } from '../pan.js';

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

// Key-shaped secrets and Luhn-valid card numbers inside free text (an error message quoting its input,
// a stack) are masked too: key redaction alone cannot see into a string.
const SECRET_PATTERN = /\b((?:sk|rk|pk)_(?:test|live)|whsec)_[A-Za-z0-9+/=]+/g;
const PAN_PATTERN = /\b\d(?:[ -]?\d){12,18}\b/g;

export function maskSensitiveText(text: string): string {
  return text.replace(SECRET_PATTERN, '$1_[REDACTED]').replace(PAN_PATTERN, maskIfCardNumber);
}

function maskStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskSensitiveText(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => maskStrings(item, depth + 1));
  // Errors and other class instances keep their identity for the serializers that run afterwards.
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const masked: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) masked[key] = maskStrings(item, depth + 1);
  return masked;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'payment-service' },
      redact: { paths: redactPaths, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // pino's serialized error has its own prototype; copying it makes it a plain object to mask.
      serializers: { err: (error: Error) => maskStrings({ ...pino.stdSerializers.err(error) }) },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => maskStrings(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // logger.error(error) takes its message from the error, past the hooks: name it explicitly.
          if (args[0] instanceof Error && typeof args[1] !== 'string') args.splice(1, 0, args[0].message);
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? maskSensitiveText(arg) : arg)) as Parameters<
              typeof method
            >,
          );
        },
      },
    },
    options.destination,
  );
}
