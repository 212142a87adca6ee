// A value that must never reach a log, an error, an event or a response by accident: printing,
// JSON-encoding or inspecting it shows a mask, and only an explicit `reveal()` gives the value.
const MASK = '[REDACTED]';

export class Secret<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${MASK})`;
  }
}
