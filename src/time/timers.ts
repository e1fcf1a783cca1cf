/**
 * Timers the upstream side schedules through (health-check intervals, ejection sweeps, DNS refresh, discovery polls).
 * Injectable so tests drive outlier detection and health checks with a fake clock instead of waiting.
 */
import type { Clock } from '../balancer/types.js';

/** An opaque handle for a scheduled callback. */
export interface TimerHandle {
  readonly id: unknown;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's own timers, unref'd so a pending health check or poll never keeps the process alive. */
export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { id: t };
  },
  clearTimeout(handle) {
    clearTimeout(handle.id as NodeJS.Timeout);
  },
};

/**
 * A virtual clock with its own timer queue: `advance(ms)` moves time forward and runs every timer that falls due, in
 * order. Implements both Clock and Timers so one object drives a whole cluster manager in tests and in `simulate`.
 */
export class ManualClock implements Clock, Timers {
  private t = 0;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void; handle: TimerHandle }[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = { id: ++this.seq };
    this.queue.push({ at: this.t + Math.max(0, ms), seq: this.seq, fn, handle });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.queue = this.queue.filter((e) => e.handle !== handle);
  }

  /** Timers still scheduled. */
  get pending(): number {
    return this.queue.length;
  }

  /** Move time forward by `ms`, running due timers (including ones they schedule) in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: (typeof this.queue)[number] | undefined;
      for (const e of this.queue) {
        if (e.at <= end && (next === undefined || e.at < next.at || (e.at === next.at && e.seq < next.seq))) next = e;
      }
      if (next === undefined) break;
      this.queue = this.queue.filter((e) => e !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
}
