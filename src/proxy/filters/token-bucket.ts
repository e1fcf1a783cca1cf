/**
 * The local rate limit's token bucket (type.v3.TokenBucket): it starts full, `tokensPerFill` tokens are added every
 * `fillIntervalMs` up to `maxTokens`, and each request takes one. Envoy refills on a timer; here the fills that fell
 * due are counted when the bucket is read, which gives the same tokens at every instant without a timer. The clock is
 * injected, so tests drive it by hand.
 */
import type { Clock } from '../../balancer/types.js';

export class TokenBucket {
  private tokens: number;
  private lastFill: number;

  constructor(
    readonly maxTokens: number,
    private readonly tokensPerFill: number,
    private readonly fillIntervalMs: number,
    private readonly clock: Clock,
  ) {
    this.tokens = maxTokens;
    this.lastFill = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    const due = Math.floor((now - this.lastFill) / this.fillIntervalMs);
    if (due <= 0) return;
    this.tokens = Math.min(this.maxTokens, this.tokens + due * this.tokensPerFill);
    this.lastFill += due * this.fillIntervalMs;
  }

  /** Takes a token: false when there is none. */
  consume(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Tokens left now. */
  remaining(): number {
    this.refill();
    return this.tokens;
  }

  /** Milliseconds until the next fill. */
  msToNextFill(): number {
    this.refill();
    return this.fillIntervalMs - (this.clock.now() - this.lastFill);
  }
}
