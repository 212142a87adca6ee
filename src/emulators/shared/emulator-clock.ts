// Owns the emulator's notion of time. In embedded mode the composition root passes the service's own
// adjustable clock, so `POST /_test/clock` and `POST /_emulator/clock` move one and the same time.
import { AdjustableClock, type Clock, unixSeconds } from '../../clock.js';

export interface MovableClock extends Clock {
  advance(ms: number): Date;
  set(to: Date): Date;
}

export function isMovable(clock: Clock): clock is MovableClock {
  const candidate = clock as Partial<MovableClock>;
  return typeof candidate.advance === 'function' && typeof candidate.set === 'function';
}

export function emulatorClock(clock: Clock | undefined): Clock {
  return clock ?? new AdjustableClock();
}

export function nowSeconds(clock: Clock): number {
  return unixSeconds(clock.now());
}

export class ClockNotMovableError extends Error {
  constructor() {
    super('this emulator runs on a clock that cannot be moved (start it with an adjustable clock)');
  }
}

/** Moves the clock by `advance_seconds` or to `to` (unix seconds or an ISO date); forward only. */
export function moveClock(clock: Clock, move: { advance_seconds?: number; to?: number | string }): Date {
  if (!isMovable(clock)) throw new ClockNotMovableError();
  if (move.advance_seconds !== undefined) return clock.advance(move.advance_seconds * 1000);
  if (move.to !== undefined) {
    const target = typeof move.to === 'number' ? new Date(move.to * 1000) : new Date(move.to);
    if (Number.isNaN(target.getTime())) throw new RangeError(`not a date: ${String(move.to)}`);
    return clock.set(target);
  }
  return clock.now();
}
