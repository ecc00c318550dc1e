/**
 * The kubelet's time source, in milliseconds since the Unix epoch. Everything that compares
 * times (crash-loop and image-pull backoff, condition transition times, heartbeats) reads it
 * through this interface, so tests can move time without sleeping.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t = Date.parse('2024-05-01T10:00:00Z')) {}
  now(): number { return this.t; }
  advance(ms: number): void { this.t += ms; }
  set(ms: number): void { this.t = ms; }
}
