// Owns request parameter decoding with Stripe's rules and wording. Form bodies arrive as strings and
// JSON bodies as typed values; both decode to the same values. Unknown parameters are refused by name,
// as Stripe does, so a connector that sends a misspelt field finds out against the emulator.
import { invalidRequest, missingParam, unknownParam } from './errors.js';

export type Raw = Record<string, unknown>;
export type Metadata = Record<string, string>;

const METADATA_MAX_KEYS = 50;
const METADATA_MAX_KEY = 40;
const METADATA_MAX_VALUE = 500;

export function isRaw(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class Params {
  constructor(
    readonly raw: Raw,
    allowed: readonly string[],
    private readonly prefix = '',
  ) {
    for (const key of Object.keys(raw)) {
      if (key !== 'expand' && !allowed.includes(key)) throw unknownParam(this.name(key));
    }
  }

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  string(key: string, options: { required?: boolean; max?: number } = {}): string | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) {
      if (options.required) throw missingParam(this.name(key));
      return undefined;
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw invalidRequest(
        `Invalid string: ${this.name(key)} must be a string`,
        'parameter_invalid_string',
        this.name(key),
      );
    }
    const text = String(value);
    if (options.required && text === '') throw missingParam(this.name(key));
    const max = options.max ?? 5000;
    if (text.length > max) {
      throw invalidRequest(
        `Invalid string: ${text.slice(0, 20)}...; must be at most ${max} characters`,
        'parameter_invalid_string',
        this.name(key),
      );
    }
    return text;
  }

  /** A string that "" clears to null, Stripe's convention for optional text on update. */
  clearable(key: string, max?: number): string | null | undefined {
    const value = this.string(key, { max });
    return value === '' ? null : value;
  }

  integer(key: string, options: { required?: boolean; min?: number } = {}): number | undefined {
    const value = this.raw[key];
    if (value === undefined || value === '') {
      if (options.required) throw missingParam(this.name(key));
      return undefined;
    }
    const parsed =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^-?\d{1,16}$/.test(value)
          ? Number(value)
          : NaN;
    if (!Number.isSafeInteger(parsed)) {
      throw invalidRequest(`Invalid integer: ${String(value)}`, 'parameter_invalid_integer', this.name(key));
    }
    if (options.min !== undefined && parsed < options.min) {
      throw invalidRequest(
        `Invalid ${this.name(key)}: must be at least ${options.min}`,
        'parameter_invalid_integer',
        this.name(key),
      );
    }
    return parsed;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw[key];
    if (value === undefined || value === '') return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw invalidRequest(`Invalid boolean: ${String(value)}`, 'parameter_invalid_boolean', this.name(key));
  }

  oneOf<const T extends string>(key: string, values: readonly T[]): T | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value)) {
      throw invalidRequest(
        `Invalid ${this.name(key)}: must be one of ${values.join(', ')}`,
        'parameter_invalid_string',
        this.name(key),
      );
    }
    return value as T;
  }

  stringArray(key: string): string[] | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    const items = Array.isArray(value) ? value : isRaw(value) ? Object.values(value) : [value];
    return items.map((item, index) => {
      if (typeof item !== 'string') {
        throw invalidRequest(
          `Invalid array: ${this.name(key)}[${index}] must be a string`,
          undefined,
          this.name(key),
        );
      }
      return item;
    });
  }

  object(key: string, allowed: readonly string[]): Params | undefined {
    const value = this.raw[key];
    if (value === undefined || value === '') return undefined;
    if (!isRaw(value)) {
      throw invalidRequest(
        `Invalid object: ${this.name(key)} must be a hash`,
        'parameter_invalid_object',
        this.name(key),
      );
    }
    return new Params(value, allowed, this.name(key));
  }

  /** Stored as given: parameters Stripe accepts and this emulator keeps without acting on them. */
  passthrough(key: string): unknown {
    const value = this.raw[key];
    return value === '' ? null : value;
  }

  /** Metadata as sent: null clears everything, "" values remove keys on update. */
  metadata(): Metadata | null | undefined {
    const value = this.raw['metadata'];
    if (value === undefined) return undefined;
    if (value === '') return null;
    if (!isRaw(value))
      throw invalidRequest('Invalid metadata: must be a hash', 'parameter_invalid_object', 'metadata');
    const result: Metadata = {};
    for (const [key, item] of Object.entries(value)) {
      if (key.length > METADATA_MAX_KEY) {
        throw invalidRequest(
          `Metadata keys can have up to ${METADATA_MAX_KEY} characters; "${key.slice(0, 20)}..." is too long.`,
          'parameter_invalid_string',
          `metadata[${key}]`,
        );
      }
      const text =
        typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean'
          ? String(item)
          : null;
      if (text === null || text.length > METADATA_MAX_VALUE) {
        throw invalidRequest(
          `Metadata values must be strings of up to ${METADATA_MAX_VALUE} characters.`,
          'parameter_invalid_string',
          `metadata[${key}]`,
        );
      }
      result[key] = text;
    }
    return result;
  }

  expand(): string[] {
    const value = this.raw['expand'];
    if (value === undefined) return [];
    const items = Array.isArray(value) ? value : isRaw(value) ? Object.values(value) : [value];
    return items.filter((item): item is string => typeof item === 'string');
  }
}

export function mergeMetadata(current: Metadata, update: Metadata | null | undefined): Metadata {
  if (update === undefined) return current;
  if (update === null) return {};
  const merged: Metadata = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  if (Object.keys(merged).length > METADATA_MAX_KEYS) {
    throw invalidRequest(
      `You can have up to ${METADATA_MAX_KEYS} metadata keys (this request would leave ${Object.keys(merged).length}).`,
      'parameter_invalid_object',
      'metadata',
    );
  }
  return merged;
}
