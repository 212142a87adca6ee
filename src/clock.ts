// Owns business time. Code reads time only through a Clock so that retry ladders, expiries and
// lockouts can be tested by moving a test clock instead of waiting (DESIGN section 9).

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that follows real time plus an offset an operator or test can move forward. */
export class AdjustableClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
    return this.now();
  }

  /** Moves to an absolute instant; moving backwards is refused so no expiry is undone. */
  set(to: Date): Date {
    const delta = to.getTime() - this.now().getTime();
    if (delta < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += delta;
    return this.now();
  }
}

export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
